"""A cache folder on a network filesystem (NFS, Lustre, ...), where SQLite's locking is unsafe:
its databases go to a folder on a local disk (said once), or to $ARTIFACTFS_CACHE_DB_DIR; with
no local folder to use, a clear refusal. The mount table read is a file written here."""

from __future__ import annotations

from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import mounts, settings
from artifactfs.backend import open_backend
from artifactfs.cache import BlobCache
from artifactfs.errors import CacheWarning, LocalFileError


def mount_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[str]) -> None:
    table = tmp_path / "mounts"
    table.write_text("".join(r + "\n" for r in rows))
    monkeypatch.setattr(mounts, "MOUNTS", str(table))


def test_filesystem_types_come_from_the_longest_mount_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mount_table(
        tmp_path,
        monkeypatch,
        [
            "/dev/sda1 / ext4 rw 0 0",
            f"srv:/home {tmp_path}/home nfs4 rw 0 0",
            f"lfs {tmp_path}/home/scratch lustre rw 0 0",
        ],
    )
    (tmp_path / "home" / "scratch" / "x").mkdir(parents=True)
    (tmp_path / "homework").mkdir()
    assert mounts.filesystem_type(tmp_path / "home" / "a") == "nfs4"
    assert mounts.filesystem_type(tmp_path / "home" / "scratch" / "x") == "lustre"
    assert mounts.filesystem_type(tmp_path / "homework") == "ext4"  # a name that only starts alike
    monkeypatch.setattr(mounts, "MOUNTS", str(tmp_path / "absent"))
    assert mounts.filesystem_type(tmp_path) is None and not mounts.is_network(tmp_path)


def test_a_cache_on_nfs_keeps_its_databases_on_a_local_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    mount_table(tmp_path, monkeypatch, ["/dev/sda1 / ext4 rw 0 0", f"srv:/export {cache_dir} nfs rw 0 0"])
    monkeypatch.setattr(settings, "LOCAL_DB_BASE", str(tmp_path / "var-tmp"))
    (tmp_path / "var-tmp").mkdir()
    monkeypatch.setattr(settings, "_warned", set())
    with pytest.warns(CacheWarning, match=rf"the cache at {cache_dir} is on nfs, where SQLite's locking is unsafe"):
        cache = BlobCache(cache_dir)
    local = cache.db("x").parent
    assert local.is_relative_to(tmp_path / "var-tmp")
    url = str(tmp_path / "store")
    with afs.init(project="p", store=afs.Store(open_backend(url), cache=cache)) as run:
        art = afs.Artifact("ds", type="dataset")
        with art.new_file("a.txt") as f:
            f.write("a")
        run.log_artifact(art)
    afs.Store(open_backend(url), cache=cache).artifact("p/ds:v0").download(tmp_path / "out")
    assert not list(cache_dir.glob("*.sqlite3*"))  # none on the network filesystem
    assert {p.name for p in local.glob("*.sqlite3")} >= {"cache.sqlite3", "stat.sqlite3", "folders.sqlite3"}

    monkeypatch.setenv("ARTIFACTFS_CACHE_DB_DIR", str(tmp_path / "mine"))
    assert BlobCache(cache_dir).db("x").parent == tmp_path / "mine"


def test_with_no_local_disk_for_them_it_names_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mount_table(tmp_path, monkeypatch, ["srv:/ / nfs4 rw 0 0"])
    with pytest.raises(LocalFileError, match=r"set \$ARTIFACTFS_CACHE_DB_DIR to a folder on a local disk"):
        BlobCache(tmp_path / "cache")
