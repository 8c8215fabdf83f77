"""Unchanged files are not read again when logged again; changed ones always are."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

import artifactfs as afs
from artifactfs import ingest, layout
from artifactfs.backend import open_backend
from artifactfs.cache import BlobCache
from artifactfs.hashing import hash_bytes
from artifactfs.statcache import RACY_SECONDS, StatCache, stat_key


def settle(folder: Path) -> None:
    """Date every file well before now, as files that were not just written."""
    past = time.time_ns() - int(60e9)
    for f in folder.rglob("*"):
        if f.is_file():
            os.utime(f, ns=(past, past))


def log(store: afs.Store, folder: Path) -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(folder)
        return run.log_artifact(art)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch, files: Path) -> list[str]:
    """Names of the files to log that logging opens."""
    seen: list[str] = []

    def counting(path: str, *args: Any, **kw: Any) -> Any:
        if files in Path(path).parents:
            seen.append(Path(path).name)
        return open(path, *args, **kw)

    monkeypatch.setattr(ingest, "open", counting, raising=False)  # shadows the builtin there
    return seen


def test_unchanged_files_are_not_read_again(store: afs.Store, files: Path, reads: list[str]) -> None:
    settle(files)
    first = log(store, files)
    assert sorted(reads) == ["a.txt", "b.bin", "c.txt"]
    reads.clear()
    again = log(store, files)
    assert reads == []
    assert again.version == first.version == "v0"
    (files / "a.txt").write_text("changed\n")  # a new mtime (and size)
    third = log(store, files)
    assert reads == ["a.txt"]
    assert third.version == "v1" and third.entries["a.txt"].digest == hash_bytes(b"changed\n")


def test_a_change_within_the_racy_window_is_seen(store: afs.Store, files: Path, reads: list[str]) -> None:
    log(store, files)  # the files were written just now: their digests are not trusted later
    a = files / "a.txt"
    before = a.stat()
    a.write_text("ALPHA\n")  # same size; then the old mtime put back, as a same-tick write leaves it
    os.utime(a, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert stat_key(a.stat())[2:] == stat_key(before)[2:]
    reads.clear()
    again = log(store, files)
    assert "a.txt" in reads
    assert again.version == "v1" and again.entries["a.txt"].digest == hash_bytes(b"ALPHA\n")


def test_a_remembered_digest_still_writes_a_blob_the_store_lacks(files: Path, tmp_path: Path) -> None:
    settle(files)
    cache = BlobCache(tmp_path / "shared-cache")
    first = afs.Store(open_backend(str(tmp_path / "one")), cache=cache)
    log(first, files)
    other = afs.Store(open_backend(str(tmp_path / "two")), cache=cache)  # same machine, new store
    art = log(other, files)
    for e in art.entries.values():
        assert e.digest is not None and other.backend.exists(layout.blob(e.digest))
    assert other.verify(deep=True) == []
    out = Path(art.download(tmp_path / "out"))
    assert (out / "sub" / "c.txt").read_text() == "gamma\n"


def test_remembered_digests_on_a_remote_store(memory_store: afs.Store, files: Path, reads: list[str]) -> None:
    settle(files)
    log(memory_store, files)
    reads.clear()
    assert log(memory_store, files).version == "v0"
    assert reads == []


def test_a_broken_database_only_costs_hashing(store: afs.Store, files: Path) -> None:
    settle(files)
    db = store.cache.root / "stat.sqlite3"
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    assert log(store, files).version == "v0"
    (files / "a.txt").write_text("changed\n")
    assert log(store, files).version == "v1"


def test_lookup_rules(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x")
    cache = StatCache(tmp_path / "db.sqlite3")
    key, d = stat_key(f.stat()), hash_bytes(b"x")
    cache.record([(str(f), key, d)], hashed_ns=f.stat().st_mtime_ns)  # hashed in the same tick
    assert cache.lookup([(str(f), key)], "blake3") == {}
    settled_at = f.stat().st_mtime_ns + int((RACY_SECONDS + 1) * 1e9)
    cache.record([(str(f), key, d)], hashed_ns=settled_at)
    assert cache.lookup([(str(f), key)], "blake3") == {str(f): d}
    assert cache.lookup([(str(f), key)], "sha256") == {}  # per algorithm
    other = (key[0], key[1], key[2] + 1, key[3])
    assert cache.lookup([(str(f), other)], "blake3") == {}
    cache.forget([str(f)])
    assert cache.lookup([(str(f), key)], "blake3") == {}
    cache.close()


def _age_blobs(store: afs.Store, seconds: float) -> float:
    old = time.time() - seconds
    for key in store.backend.walk("blobs"):
        os.utime(store.backend.path(key), (old, old))
    return old


def test_a_re_log_of_unchanged_files_touches_no_blob(tmp_path: Path, files: Path) -> None:
    """Re-used blobs are touched (their age refreshed for gc) only when a new version is made."""
    settle(files)
    store = afs.Store(open_backend(str(tmp_path / "store")), cache=BlobCache(tmp_path / "cache"))
    first = log(store, files)
    old = _age_blobs(store, 2 * 86400)
    assert log(store, files).version == first.version  # the same content: nothing touched
    assert all(abs(m - old) < 1 for _, m in store.backend.walk("blobs").values())
    changed = next(p for p in sorted(files.rglob("*")) if p.is_file())
    changed.write_bytes(b"something new")
    settle(files)
    second = log(store, files)
    assert second.version != first.version
    ages = {k: m for k, (_, m) in store.backend.walk("blobs").items()}
    used = {layout.blob(e.digest) for e in second.entries.values() if e.digest is not None}
    assert all(ages[k] > old + 3600 for k in used)  # every blob of the new version is young
    assert [ages[k] for k in ages if k not in used] == [pytest.approx(old, abs=1)]  # the replaced one is not


def test_a_re_used_blob_removed_before_the_version_is_made_is_refused(
    tmp_path: Path, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settle(files)
    store = afs.Store(open_backend(str(tmp_path / "store")), cache=BlobCache(tmp_path / "cache"))
    first = log(store, files)
    add = ingest.Reused.add

    def removed_meanwhile(self: ingest.Reused, digest: Any, size: int) -> None:
        add(self, digest, size)
        store.backend.delete(layout.blob(digest))  # as a gc that took the commit for dead would

    monkeypatch.setattr(ingest.Reused, "add", removed_meanwhile)
    (files / "new.txt").write_text("a new file makes a new version")
    with pytest.raises(afs.errors.StoreError, match="was removed while this version was being logged"):
        log(store, files)
    assert [v.version for v in store.versions("p", "ds")] == [first.version]


def test_unchanged_packed_files_are_found_in_the_pack_index(
    tmp_path: Path, reads: list[str], files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a local store many small files go in a pack; logged again unchanged, each is found
    by its remembered digest in the pack index: no file read, no blob looked up one by one."""
    for i in range(40):
        (files / "many").mkdir(exist_ok=True)
        (files / "many" / f"{i}.txt").write_text(f"small file {i}\n")
    settle(files)
    store = afs.Store(open_backend(str(tmp_path / "store")), cache=BlobCache(tmp_path / "cache"))
    first = log(store, files)
    assert store.format == 3 and first.entries["many/7.txt"].where is not None
    looked_up: list[str] = []
    refresh = type(store.backend).refresh
    monkeypatch.setattr(
        type(store.backend),
        "refresh",
        lambda self, key, *a, **kw: looked_up.append(key) or refresh(self, key, *a, **kw),
    )
    reads.clear()
    again = log(afs.Store(open_backend(str(tmp_path / "store")), cache=BlobCache(tmp_path / "cache")), files)
    assert again.version == first.version and reads == [] and looked_up == []
    assert again.entries["many/7.txt"].where == first.entries["many/7.txt"].where
