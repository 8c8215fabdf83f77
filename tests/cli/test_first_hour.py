"""What a new user runs into on the command line, through the real `artifactfs` command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import artifactfs as afs
from tests.timeouts import HANG

EXE = Path(sys.executable).with_name("artifactfs")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command with no $ARTIFACTFS_STORE: the store is given on the command line."""
    base = {k: v for k, v in os.environ.items() if k != "ARTIFACTFS_STORE"}
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, env={**base, **(env or {})}, timeout=HANG)


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A store with proj/processed-dataset v0 (aliased ``best``) and v1."""
    url = str(tmp_path / "store")
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("one\n" * 5000)
    for text in ("first", "second"):
        (data / "b.txt").write_text(text)
        with afs.init(project="proj", store=url) as r:
            art = afs.Artifact("processed-dataset", type="dataset")
            art.add_dir(data)
            r.log_artifact(art, aliases=["best"] if text == "first" else None)
    return url


def test_global_options_also_follow_the_command(store: str, tmp_path: Path) -> None:
    after = run("ls", "--store", store, "--json")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == [{"project": "proj"}]
    assert json.loads(run("ls", "proj", "--json", "--store", store).stdout)[0]["name"] == "processed-dataset"
    assert run("alias", "set", "proj/processed-dataset:v1", "prod", "--store", store).returncode == 0
    # Given both before and after the command, the one after wins.
    both = run("--store", str(tmp_path / "elsewhere"), "ls", "--store", store, "--json")
    assert both.returncode == 0 and json.loads(both.stdout) == [{"project": "proj"}]
    failing = run("show", "proj/nope", "--store", store, "--debug")
    assert failing.returncode != 0 and "Traceback" in failing.stderr  # --debug after the command too


def test_ls_prints_an_aligned_table_with_headers_and_human_sizes(store: str) -> None:
    out = run("--store", store, "ls", "proj/processed-dataset").stdout.splitlines()
    assert out[0].split() == ["version", "aliases", "size", "files", "created", "at", "digest"]
    assert len(out) == 3
    # Each column starts at the same place on every line.
    starts = [[m.start() for m in re.finditer(r"\S+", line)] for line in out[1:]]
    assert starts[0] == starts[1]
    assert "19.5 KiB" in out[1]  # 20,005 bytes, for people
    assert "20005" not in out[1] and "20,005" not in out[1]
    raw = json.loads(run("--store", store, "ls", "proj/processed-dataset", "--json").stdout)
    assert raw[0]["size"] == 20005  # raw numbers stay in --json
    artifacts = run("--store", store, "ls", "proj").stdout.splitlines()
    assert artifacts[0].split()[:3] == ["name", "type", "versions"]


def test_put_of_unchanged_content_says_no_version_was_made(store: str, tmp_path: Path) -> None:
    data = tmp_path / "again"
    data.mkdir()
    (data / "x.txt").write_text("x")
    first = run("--store", store, "put", str(data), "-p", "proj", "-n", "small", "-t", "dataset")
    assert first.returncode == 0 and first.stdout.startswith("logged proj/small:v0")
    again = run("--store", store, "put", str(data), "-p", "proj", "-n", "small", "-t", "dataset")
    assert again.returncode == 0
    assert again.stdout.startswith("unchanged") and "no new version" in again.stdout and "proj/small:v0" in again.stdout
    put = ("--store", store, "put", str(data), "-p", "proj", "-n", "small", "-t", "dataset", "--json")
    shown = json.loads(run(*put).stdout)
    assert shown["new"] is False and shown["ref"] == "proj/small:v0"


@pytest.mark.parametrize(
    ("ref", "suggestion"),
    [
        ("proj/procesed-dataset:v0", "'processed-dataset'"),
        ("proj/processed-dataset:V0", "'v0'"),
        ("proj/processed-dataset:lastest", "'latest'"),
        ("proj/processed-dataset:bets", "'best'"),
        ("prj/processed-dataset:v0", "'proj'"),
    ],
)
def test_near_miss_names_get_a_suggestion(store: str, ref: str, suggestion: str) -> None:
    res = run("--store", store, "show", ref)
    assert res.returncode == 1
    assert f"did you mean {suggestion}" in res.stderr, res.stderr


def test_delete_speaks_the_command_lines_language(store: str) -> None:
    res = run("--store", store, "delete", "proj/processed-dataset:v0")
    assert res.returncode == 1 and "--force" in res.stderr and "force=True" not in res.stderr
    help_text = run("alias", "rm", "--help").stdout
    assert "Remove the custom alias NAME" in help_text and "REF names" not in help_text


def test_runs_newest_first_and_one_runs_details(store: str, tmp_path: Path) -> None:
    with afs.init(project="proj", job_type="train", config={"lr": 0.1}, store=store) as r:
        r.use_artifact("processed-dataset:best")
        for step in range(3):
            r.log({"loss": 1.0 / (step + 1)})
        r.summary["accuracy"] = 0.93
        newest = r.id
    rows = json.loads(run("--store", store, "runs", "proj", "--json").stdout)
    started = [r["started_at"] for r in rows]
    assert rows[0]["id"] == newest and started == sorted(started, reverse=True)
    shown = run("--store", store, "run", f"proj/{newest}")
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "train" in text and "finished" in text and "lr" in text and "proj/processed-dataset:v0" in text
    assert "accuracy=0.93" in text and "3 step(s) of loss" in text
    data = json.loads(run("--store", store, "run", f"proj/{newest}", "--json").stdout)
    assert data["summary"] == {"accuracy": 0.93, "loss": pytest.approx(1 / 3)}
    assert [h["_step"] for h in data["history"]] == [0, 1, 2]
    assert data["config"] == {"lr": 0.1} and data["inputs"] == ["proj/processed-dataset:v0"]
    bad = run("--store", store, "run", "proj")
    assert bad.returncode == 2 and "PROJECT/ID" in bad.stderr


def test_a_copy_without_lineage_is_explained(store: str, tmp_path: Path) -> None:
    with afs.init(project="proj", store=store) as r:
        data = r.use_artifact("processed-dataset:v1")
        model = afs.Artifact("model", type="model")
        (tmp_path / "w.bin").write_bytes(b"weights")
        model.add_file(tmp_path / "w.bin")
        model.add_reference(data)
        r.log_artifact(model)
    other = str(tmp_path / "other")
    assert run("copy", store, other, "proj/model:v0").returncode == 0
    graph = run("--store", other, "lineage", "proj/model:v0")
    assert graph.returncode == 0 and "not in this store" in graph.stdout
    assert "--with-lineage" in graph.stderr
    checked = run("--store", other, "verify")
    assert checked.returncode == 0  # warnings only: nothing is damaged
    assert "warning: lineage" in checked.stdout and "--with-lineage" in checked.stdout
    assert "proj/processed-dataset:v1" in checked.stdout and "1 warning" not in checked.stdout
    assert "(2 warning(s))" in checked.stdout  # the upstream version and the logging run
    assert run("copy", store, other, "proj/model:v0", "--with-lineage").returncode == 0
    clean = run("--store", other, "verify")
    assert clean.returncode == 0 and "warning" not in clean.stdout
