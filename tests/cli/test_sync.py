"""``artifactfs sync`` through the real command, after runs logged offline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from artifactfs.reach import forget_offline
from tests.api.test_offline_runs import ingest, process_and_train
from tests.cli.test_first_hour import run


def test_sync_publishes_offline_runs_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = str(tmp_path / "store")
    ingest(url, tmp_path)
    import artifactfs as afs

    afs.open_store(url).artifact("p/raw:v0").download(tmp_path / "seen")
    monkeypatch.setenv("ARTIFACTFS_OFFLINE", "1")
    with pytest.warns(afs.errors.OfflineWarning):
        process_and_train(url, tmp_path / "work")
    monkeypatch.delenv("ARTIFACTFS_OFFLINE")
    forget_offline()
    env = {"ARTIFACTFS_CACHE_DIR": os.environ["ARTIFACTFS_CACHE_DIR"]}
    info = run("cache", "info", env=env).stdout
    assert f"runs logged offline, not yet synced to {url}: 2 (artifactfs sync --store {url})" in info
    assert "offline spool: " in info and "databases: " in info  # shown, never evicted
    beside = json.loads(run("cache", "info", "--json", env=env).stdout)["beside"]
    assert beside["offline spool"] > 0 and beside["databases"] > 0
    done = run("sync", "--store", url, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"synced 2 run(s) to {url}:", "  p/processed:v0", "  p/model:v0"]
    again = run("sync", "--json", env=env)  # every spool of this machine
    assert again.returncode == 0 and json.loads(again.stdout)["already"] == 2
    assert run("sync", env=env).stdout.strip() == "nothing to sync (2 run(s) synced before)"
    assert afs.open_store(url).artifact("p/model:best").version == "v0"
    assert json.loads(run("cache", "info", "--json", env=env).stdout)["unsynced_runs"] == {}
