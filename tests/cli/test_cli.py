from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import artifactfs as afs
from artifactfs.cli import cli


def test_info_names_store_and_cache(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["info", "--json"], obj={})
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["store"] == str(tmp_path / "default-store")
    assert data["cache_dir"] == str(tmp_path / "cache")
    res = CliRunner().invoke(cli, ["--store", "memory://elsewhere", "info"], obj={})
    assert "memory://elsewhere" in res.output


def test_ls(tmp_path: Path, files: Path) -> None:
    store = str(tmp_path / "s")
    with afs.init(project="proj", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(files)
        run.log_artifact(art, aliases=["best"])
    runner = CliRunner()
    assert json.loads(runner.invoke(cli, ["--store", store, "ls", "--json"], obj={}).output) == [{"project": "proj"}]
    rows = json.loads(runner.invoke(cli, ["--store", store, "ls", "proj", "--json"], obj={}).output)
    assert rows[0]["name"] == "ds" and rows[0]["versions"] == 1
    rows = json.loads(runner.invoke(cli, ["--store", store, "ls", "proj/ds", "--json"], obj={}).output)
    assert rows[0]["version"] == "v0" and rows[0]["aliases"] == ["latest", "best"]


def test_errors_are_one_line_with_exit_1(tmp_path: Path) -> None:
    with afs.init(project="proj", store=str(tmp_path / "s")):
        pass  # the store exists; the project asked for does not
    res = CliRunner().invoke(cli, ["--store", str(tmp_path / "s"), "ls", "nope"], obj={})
    assert res.exit_code == 1
    assert res.output.strip().startswith("error: project 'nope' not found")
    assert "Traceback" not in res.output


def test_verify_gc_delete(tmp_path: Path, files: Path) -> None:

    store = str(tmp_path / "s")
    with afs.init(project="proj", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(files)
        run.log_artifact(art)
    runner = CliRunner()
    res = runner.invoke(cli, ["--store", store, "verify"], obj={})
    assert res.exit_code == 0 and "ok" in res.output
    res = runner.invoke(cli, ["--store", store, "delete", "proj/ds:v0"], obj={})
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["--store", store, "gc", "--grace", "0s", "--json"], obj={})
    assert json.loads(res.output)["blobs"] == 3 and json.loads(res.output)["dry_run"]
    res = runner.invoke(cli, ["--store", store, "gc", "--grace", "0s", "--delete"], obj={})
    assert res.exit_code == 0 and "freed 4 object(s)" in res.output
    res = runner.invoke(cli, ["--store", store, "gc", "--grace", "soon"], obj={})
    assert res.exit_code == 2


def test_upgrade_makes_the_store_format_3(tmp_path: Path, files: Path) -> None:
    from artifactfs import codec

    store = str(tmp_path / "s")
    with afs.init(project="proj", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(files)
        run.log_artifact(art)
    runner = CliRunner()
    res = runner.invoke(cli, ["--store", store, "upgrade", "--check"], obj={})
    assert res.exit_code == 0 and "format 2; upgrade would make it format 3" in res.output
    assert afs.open_store(store).format == 2
    res = runner.invoke(cli, ["--store", store, "upgrade"], obj={})
    assert res.exit_code == 0 and "format 2 -> 3" in res.output
    assert afs.open_store(store).format == 3
    assert afs.open_store(store).artifact("proj/ds:latest").file_count == len(list(files.rglob("*.*")))
    res = runner.invoke(cli, ["--store", store, "upgrade"], obj={})
    assert "already format 3" in res.output
    res = runner.invoke(cli, ["--store", str(tmp_path / "none"), "upgrade"], obj={})
    assert res.exit_code == 1 and "no store at" in res.output
    descriptor = (tmp_path / "s" / "artifactfs.msgpack").read_bytes()
    assert codec.decode(descriptor, "descriptor")["format"] == 3


def test_verify_exits_1_on_problems(tmp_path: Path, files: Path) -> None:
    from artifactfs import layout

    store = str(tmp_path / "s")
    with afs.init(project="proj", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(files)
        logged = run.log_artifact(art)
    Path(afs.open_store(store).backend.path(layout.blob(logged.entries["a.txt"].digest))).unlink()  # type: ignore[arg-type]
    res = CliRunner().invoke(cli, ["--store", store, "verify", "--json"], obj={})
    assert res.exit_code == 1
    assert json.loads(res.output)[0]["kind"] == "missing"


def test_copy_command(tmp_path: Path, files: Path) -> None:
    src, dst = str(tmp_path / "a"), str(tmp_path / "b")
    with afs.init(project="proj", store=src) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(files)
        run.log_artifact(art)
    runner = CliRunner()
    res = runner.invoke(cli, ["copy", src, dst, "proj/ds:latest", "--json"], obj={})
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["blobs"] == 3
    res = runner.invoke(cli, ["copy", src, dst, "proj/ds:latest"], obj={})
    assert "0 new version(s), 0 blob(s)" in res.output
    assert afs.open_store(dst).artifact("proj/ds:v0").digest == afs.open_store(src).artifact("proj/ds:v0").digest


def test_progress_bar_draws_on_a_terminal() -> None:
    import io

    from artifactfs.cli_output import ProgressBar

    bar = ProgressBar("copying")
    out = io.StringIO()
    bar.set_size(4)
    bar.bar.file = out  # type: ignore[union-attr]
    for _ in range(4):
        bar.relative_update(1)
    bar.close()
    assert bar.bar.pos == 4  # type: ignore[union-attr]


def test_cli_reference_matches_help(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    root = Path(__file__).resolve().parent.parent.parent
    spec = importlib.util.spec_from_file_location("cli_reference", root / "scripts" / "cli_reference.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setenv("COLUMNS", "100")
    assert (root / "docs" / "cli.md").read_text() == mod.render(), (
        "run: COLUMNS=100 python scripts/cli_reference.py > docs/cli.md"
    )


def test_ls_lists_versions_a_page_at_a_time(tmp_path: Path) -> None:
    from tests.history import NEWEST_DELETED, grow

    store = str(tmp_path / "s")
    grow(store, tmp_path / "cache", (70, 3, 1), tmp_path / "w.bin")
    live = [a.version for a in afs.open_store(store).versions("p", "ckpt")]
    runner = CliRunner()

    def listed(*args: str) -> tuple[list[str], str]:
        res = runner.invoke(cli, ["--store", store, "ls", "p/ckpt", "--json", *args], obj={})
        assert res.exit_code == 0, res.output
        return [r["version"] for r in json.loads(res.stdout)], res.stderr

    page, note = listed()
    assert page == live[-50:]  # the newest 50, oldest of the page first
    assert f"--before {live[-50]}" in note
    assert listed("--before", live[-50])[0] == live[:-50]
    assert listed("--limit", "5")[0] == live[-5:]
    assert listed("--all")[0] == live and len(live) == 70 - NEWEST_DELETED - 1
    res = runner.invoke(cli, ["--store", store, "ls", "p/ckpt", "--before", "vX"], obj={})
    assert res.exit_code == 2 and "vX" in res.output


def test_show_lists_the_first_files_of_a_large_version(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for i in range(30):
        (src / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (src / f"d{i % 3}" / f"f{i:02d}.txt").write_text(str(i))
    store = str(tmp_path / "s")
    with afs.init(project="proj", store=store) as run:
        art = afs.Artifact("many", type="dataset")
        art.add_dir(src)
        run.log_artifact(art)
    runner = CliRunner()
    res = runner.invoke(cli, ["--store", store, "show", "proj/many:v0", "--limit", "5", "--json"], obj={})
    data = json.loads(res.stdout)
    assert data["file_count"] == 30 and [e["path"] for e in data["entries"]] == ["d0/f00.txt", "d0/f03.txt",
        "d0/f06.txt", "d0/f09.txt", "d0/f12.txt"]  # fmt: skip
    assert "first 5 files shown" in res.stderr and "--all" in res.stderr
    res = runner.invoke(cli, ["--store", store, "show", "proj/many:v0", "--folder", "d2", "--json"], obj={})
    assert [e["path"] for e in json.loads(res.stdout)["entries"]] == [f"d2/f{i:02d}.txt" for i in range(2, 30, 3)]
    assert res.stderr == ""
    res = runner.invoke(cli, ["--store", store, "show", "proj/many:v0", "--limit", "5", "--all"], obj={})
    assert res.exit_code == 0 and res.output.count(".txt") == 30 and "entries (30):" in res.output
    res = runner.invoke(cli, ["--store", store, "show", "proj/many:v0", "--limit", "0"], obj={})
    assert res.exit_code == 2 and "--limit" in res.output
