"""The real `artifactfs` command, run in a subprocess against a temporary store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.timeouts import HANG

EXE = Path(sys.executable).with_name("artifactfs")


def afs(*args: str, store: Path | str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARTIFACTFS_STORE": str(store)}
    res = subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env, timeout=HANG)
    if check:
        assert res.returncode == 0, res.stderr
    return res


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


def test_put_ls_show_get_cat_diff(store: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("one\n")
    (data / "b.txt").write_text("two\n")
    out = json.loads(
        afs(
            "put", str(data), "-p", "proj", "-n", "ds", "-t", "dataset", "--alias", "best", "--json", store=store
        ).stdout
    )
    assert out["ref"] == "proj/ds:v0" and out["aliases"] == ["latest", "best"]
    (data / "b.txt").write_text("TWO\n")
    (data / "c.txt").write_text("three\n")
    afs("put", str(data), "-p", "proj", "-n", "ds", "-t", "dataset", store=store)
    assert json.loads(afs("ls", "--json", store=store).stdout) == [{"project": "proj"}]
    versions = json.loads(afs("ls", "proj/ds", "--json", store=store).stdout)
    assert [v["version"] for v in versions] == ["v0", "v1"]
    shown = json.loads(afs("show", "proj/ds:best", "--json", store=store).stdout)
    assert shown["ref"] == "proj/ds:v0" and [e["path"] for e in shown["entries"]] == ["a.txt", "b.txt"]
    assert "proj/ds:v1" in afs("show", "proj/ds:latest", store=store).stdout
    dest = tmp_path / "got"
    afs("get", "proj/ds:v1", str(dest), store=store)
    assert (dest / "c.txt").read_text() == "three\n"
    assert not (dest / "c.txt").stat().st_mode & 0o222  # a read-only link into the cache
    afs("get", "proj/ds:v1", str(tmp_path / "mine"), "--copy", store=store)
    assert (tmp_path / "mine" / "c.txt").stat().st_mode & 0o200
    assert afs("cat", "proj/ds:v0", "b.txt", store=store).stdout == "two\n"
    d = json.loads(afs("diff", "proj/ds:v0", "v1", "--json", store=store).stdout)
    assert (d["added"], d["removed"], d["changed"]) == (["c.txt"], [], ["b.txt"])
    afs("alias", "set", "proj/ds:v1", "production", store=store)
    assert json.loads(afs("show", "proj/ds:production", "--json", store=store).stdout)["ref"] == "proj/ds:v1"
    afs("alias", "rm", "proj/ds:v1", "production", store=store)
    runs = json.loads(afs("runs", "proj", "--json", store=store).stdout)
    assert [r["job_type"] for r in runs] == ["cli", "cli"]


def test_lineage_formats_and_reproduce(store: Path, tmp_path: Path) -> None:
    example = Path(__file__).parent.parent.parent / "examples" / "sentiment_pipeline.py"
    subprocess.run([sys.executable, str(example), str(store)], check=True, capture_output=True, timeout=HANG)
    ref = "sentiment-analysis/sentiment-model:v0"
    tree = afs("lineage", ref, store=store).stdout
    assert tree.startswith(ref) and "[references] sentiment-analysis/processed-dataset:v0" in tree
    assert "[used] sentiment-analysis/code:v0" in tree
    assert afs("lineage", ref, "--format", "dot", store=store).stdout.startswith("digraph lineage")
    assert afs("lineage", ref, "--format", "mermaid", store=store).stdout.startswith("flowchart LR")
    graph = json.loads(afs("lineage", ref, "--format", "json", store=store).stdout)
    assert {n["kind"] for n in graph["nodes"]} == {"artifact", "run"}
    down = afs("lineage", "sentiment-analysis/processed-dataset:v0", "--down", store=store).stdout
    assert "sentiment-analysis/sentiment-model:v0" in down
    out = tmp_path / "repro"
    afs("reproduce", ref, str(out), store=store)
    doc = json.loads((out / "lineage.json").read_text())
    assert {v["name"] for v in doc["versions"]} == {"sentiment-model", "processed-dataset", "code"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["show", "proj/nope:v0"], 1, "error: artifact proj/nope not found"),
        (["show", "proj/ds:vX"], 1, "error: invalid reference 'proj/ds:vX'"),
        (["show", "proj/ds:v9"], 1, "error: proj/ds:v9 not found"),
        (["ls", "nope"], 1, "error: project 'nope' not found"),
        (["cat", "proj/ds:v0", "missing.txt"], 1, "error: proj/ds:v0 has no entry 'missing.txt'"),
        (["show"], 2, "Missing argument 'REF'"),
        (["lineage", "proj/ds:v0", "--format", "png"], 2, "Invalid value for '--format'"),
    ],
)
def test_error_paths(store: Path, tmp_path: Path, args: list[str], code: int, message: str) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    afs("put", str(f), "-p", "proj", "-n", "ds", "-t", "dataset", store=store)
    res = afs(*args, store=store, check=False)
    assert res.returncode == code
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    if code == 1:
        assert len(res.stderr.strip().splitlines()) == 1


def test_unreachable_store(tmp_path: Path) -> None:
    env_store = "s3://bucket/store"
    opts = {
        "s3": {
            "endpoint_url": "http://127.0.0.1:9",
            "key": "k",
            "secret": "s",
            "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1},
        }
    }
    env = {**os.environ, "ARTIFACTFS_STORE": env_store, "ARTIFACTFS_STORAGE_OPTIONS": json.dumps(opts)}
    res = subprocess.run([str(EXE), "ls"], capture_output=True, text=True, env=env, timeout=HANG)
    assert res.returncode == 1
    assert res.stderr.startswith("error: ") and "s3://bucket/store" in res.stderr
    assert "Traceback" not in res.stderr
    res = subprocess.run([str(EXE), "--debug", "ls"], capture_output=True, text=True, env=env, timeout=HANG)
    assert "Traceback" in res.stderr


def test_help_everywhere() -> None:
    for cmd in [
        "",
        "ls",
        "show",
        "put",
        "get",
        "cat",
        "alias",
        "diff",
        "lineage",
        "runs",
        "reproduce",
        "copy",
        "verify",
        "gc",
        "delete",
        "browse",
        "info",
    ]:
        res = subprocess.run([str(EXE), *cmd.split(), "--help"], capture_output=True, text=True, timeout=HANG)
        assert res.returncode == 0 and "Usage:" in res.stdout, cmd
