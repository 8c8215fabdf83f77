"""``artifactfs cache info|prune|clear`` through the real command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_local_folders import afs_cli


def test_cache_info_prune_and_clear(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "ARTIFACTFS_CACHE_MAX": "1MB"}
    assert afs_cli(env, "get", "p/ds:v0", str(tmp_path / "held"))[0] == 0
    assert afs_cli(env, "get", "p/ds:v0", str(tmp_path / "copy"), "--copy", "--include", "*.csv")[0] == 0
    code, out, err = afs_cli(env, "cache", "info", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["max_bytes"] == 10**6 and info["blobs"] == 6 and info["held_blobs"] == 6
    assert info["artifacts"][0]["artifact"] == "p/ds" and info["artifacts"][0]["versions"] == 1
    assert {f["folder"] for f in info["folders"]} == {str(tmp_path / "held"), str(tmp_path / "copy")}
    code, out, _ = afs_cli(env, "cache", "info")
    assert "cap 976.6 KiB ($ARTIFACTFS_CACHE_MAX)" in out and "held by download folders: 6 blobs" in out
    assert "p/ds" in out and str(tmp_path / "held") in out

    code, out, _ = afs_cli(env, "cache", "prune", "--max-size", "0", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["removed_blobs"] == 0  # every blob is held by a folder
    code, out, _ = afs_cli(env, "cache", "clear")
    assert code == 0 and out.startswith("removed 6 blobs, freeing 0 B")
    after = json.loads(afs_cli(env, "cache", "info", "--json")[1])
    assert after["blobs"] == 0
    assert after["beside"]["databases"] > 0  # what this machine has seen stays (offline use needs it)

    code, _, err = afs_cli(env, "cache", "prune", "--max-size", "lots")
    assert code == 1 and "--max-size must be a size such as 20GB" in err
    code, _, err = afs_cli({**env, "ARTIFACTFS_CACHE_MAX": "big"}, "get", "p/ds:v0", str(tmp_path / "x"))
    assert code == 1 and "$ARTIFACTFS_CACHE_MAX must be a size" in err
