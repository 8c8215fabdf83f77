"""``get --include/--exclude``, ``status`` and ``checkout`` through the real command."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.api.test_local_folders import files_under
from tests.cli.test_first_hour import run


def afs_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    done = run(*args, env=env)
    return done.returncode, done.stdout, done.stderr


def test_get_takes_part_of_a_version(env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = afs_cli(env, "get", "p/ds:v0", str(tmp_path / "o"), "--include", "*.csv", "--exclude", "*/tmp/*")
    assert code == 0, err
    assert files_under(tmp_path / "o") == ["data/a.csv", "data/b.csv"]
    code, _, err = afs_cli(env, "get", "p/ds:v0", str(tmp_path / "o2"), "--prefix", "img/")
    assert code == 0 and files_under(tmp_path / "o2") == ["img/deep/y.png", "img/x.png"]
    code, _, err = afs_cli(env, "get", "p/ds:v0", str(tmp_path / "o3"), "--include", "*.parquet")
    assert code == 1 and err.startswith("error: no entry of p/ds:v0 is matching *.parquet")


def test_status_says_where_a_folder_came_from_and_what_changed(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "o"
    assert afs_cli(env, "get", "p/ds:v0", str(folder), "--include", "*.csv")[0] == 0
    code, out, err = afs_cli(env, "status", str(folder))
    assert code == 0, err
    assert f"{folder}: p/ds:v0 of {env['ARTIFACTFS_STORE']} (downloaded " in out
    assert "matching *.csv" in out and "clean: the folder holds exactly p/ds:v0 (matching *.csv)" in out
    os.chmod(folder / "data", 0o755)
    (folder / "data" / "b.csv").unlink()
    (folder / "data" / "a.csv").unlink()
    (folder / "data" / "a.csv").write_text("A,1\n")
    (folder / "mine.txt").write_text("x")
    moved = tmp_path / "moved"
    folder.rename(moved)  # known still, by its inode
    code, out, err = afs_cli(env, "status", str(moved), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["version"], data["missing"], data["changed"], data["extra"]) == (
        "p/ds:v0",
        ["data/b.csv"],
        ["data/a.csv"],
        ["mine.txt"],
    )
    assert data["ok"] is False and data["selection"]["include"] == ["*.csv"]
    code, out, _ = afs_cli(env, "status", str(moved))
    assert "  missing  data/b.csv" in out and "  changed  data/a.csv" in out and "  extra    mine.txt" in out
    assert "3 difference(s): 1 missing, 1 changed, 1 extra" in out


def test_status_of_a_folder_this_machine_did_not_make_needs_a_version(env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = afs_cli(env, "status", str(tmp_path / "src"))
    assert code == 1 and "name a version with --against REF" in err
    code, out, err = afs_cli(env, "status", str(tmp_path / "src"), "--against", "p/ds:v0")
    assert code == 0 and "clean: the folder holds exactly p/ds:v0" in out, err


def test_checkout_asks_before_it_replaces_or_removes(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "o"
    folder.mkdir()
    (folder / "mine.txt").write_text("x")
    code, _, err = afs_cli(env, "checkout", "p/ds:v0", str(folder))  # no terminal to ask in
    assert code == 1 and "pass --yes" in err and "  extra    mine.txt" in err
    assert files_under(folder) == ["mine.txt"]  # nothing changed
    code, out, err = afs_cli(env, "checkout", "p/ds:v0", str(folder), "--yes")
    assert code == 0, err
    assert "checked out p/ds:v0 into" in out and "6 fetched, 0 replaced, 1 removed" in out
    assert files_under(folder) == files_under(tmp_path / "src")
    code, out, _ = afs_cli(env, "checkout", "p/ds:v0", str(folder))
    assert code == 0 and "already holds p/ds:v0" in out
    code, out, _ = afs_cli(env, "checkout", "p/ds:v0", str(tmp_path / "fresh"))  # only fetching: nothing to ask
    assert code == 0 and "6 fetched" in out
    assert "clean" in afs_cli(env, "status", str(tmp_path / "fresh"))[1]


def test_get_works_offline_for_what_this_machine_has_seen(env: dict[str, str], tmp_path: Path) -> None:
    assert afs_cli(env, "get", "p/ds:latest", str(tmp_path / "online"))[0] == 0
    offline = {**env, "ARTIFACTFS_OFFLINE": "1"}
    code, _, err = afs_cli(offline, "get", "p/ds:latest", str(tmp_path / "again"))
    assert code == 0, err
    assert err.startswith(f"warning: store {env['ARTIFACTFS_STORE']} is offline ($ARTIFACTFS_OFFLINE is set): ")
    assert "p/ds:latest is v0, as this machine last saw it at" in err
    assert files_under(tmp_path / "again") == files_under(tmp_path / "src")
    code, _, err = afs_cli(offline, "get", "p/ds:v1", str(tmp_path / "x"))
    assert code == 1 and "cached versions of p/ds: v0" in err


def test_status_and_checkout_name_what_is_not_a_folder(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    code, _, err = afs_cli(env, "status", str(tmp_path / "file.txt"))
    assert code == 1 and err.strip() == f"error: {tmp_path / 'file.txt'} is not a folder"
    code, _, err = afs_cli(env, "status", str(tmp_path / "nothing"), "--against", "p/ds:v0")
    assert code == 1 and "nothing is not a folder" in err
