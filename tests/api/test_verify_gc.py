"""verify() finds every kind of damage; gc() frees only what nothing references, after a grace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import codec, layout
from artifactfs.hashing import hash_bytes

HOUR = dt.timedelta(hours=1)
NOW = dt.timedelta(0)


def log(store: afs.Store, files: Path, name: str = "ds") -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact(name, type="dataset")
        art.add_dir(files)
        return run.log_artifact(art, aliases=["best"])


def kinds(store: afs.Store, deep: bool = False) -> set[tuple[str, str]]:
    return {(p.kind, p.key) for p in store.verify(deep=deep)}


def test_healthy_store_verifies_clean(store: afs.Store, files: Path) -> None:
    log(store, files)
    assert store.verify() == [] and store.verify(deep=True) == [] and store.verify("p") == []


def test_verify_reports_each_problem_with_its_key(store: afs.Store, files: Path) -> None:
    art = log(store, files)
    b = store.backend
    a_key = layout.blob(art.entries["a.txt"].digest)  # type: ignore[arg-type]
    bin_key = layout.blob(art.entries["b.bin"].digest)  # type: ignore[arg-type]
    c_key = layout.blob(art.entries["sub/c.txt"].digest)  # type: ignore[arg-type]
    b.delete(a_key)
    b.write(c_key, b"short")
    data = bytearray(b.read(bin_key))
    data[7] ^= 0xFF  # same size: only a deep verify sees it
    b.write(bin_key, bytes(data))
    assert kinds(store) == {("missing", a_key), ("size", c_key)}
    assert kinds(store, deep=True) == {("missing", a_key), ("size", c_key), ("digest", bin_key)}


def test_verify_truncated_manifest_and_bad_records(store: afs.Store, files: Path) -> None:
    art = log(store, files)
    b = store.backend
    mkey = layout.manifest(art.version_id.manifest)
    b.write(mkey, b.read(mkey)[:-10])
    other = log(store, files, name="other")
    bad_version = layout.version_record("p", "other", 1)
    b.write(bad_version, b"\x93garbage")
    b.write(
        layout.alias_event("p", "other", "best", 5),
        codec.encode({"format": 1, "alias": "best", "version": 42, "created_at": codec.utcnow()}),
    )
    b.write(layout.run_record("p", "broken"), b"\xc1")
    found = kinds(store)
    assert ("digest", mkey) in found
    assert ("undecodable", bad_version) in found
    assert ("dangling", layout.alias_event("p", "other", "best", 5)) in found
    assert ("undecodable", layout.run_record("p", "broken")) in found
    assert other.version == "v0"


def test_gc_frees_old_orphans_and_keeps_young_ones(store: afs.Store, files: Path) -> None:
    art = log(store, files)
    orphan = b"left by a writer that died"
    okey = layout.blob(hash_bytes(orphan))
    store.backend.write(okey, orphan)
    report = store.gc(grace=HOUR, dry_run=False)  # the orphan is young: an upload in flight
    assert report.count == 0 and report.kept_young == 1 and store.backend.exists(okey)
    dry = store.gc(grace=NOW)
    assert dry.dry_run and dry.keys == [okey] and dry.bytes == len(orphan) and store.backend.exists(okey)
    freed = store.gc(grace=NOW, dry_run=False)
    assert freed.blobs == 1 and not store.backend.exists(okey)
    assert store.verify(deep=True) == []
    art.download(files.parent / "out")


def test_gc_frees_deleted_versions_but_not_shared_blobs(store: afs.Store, files: Path) -> None:
    v0 = log(store, files)
    (files / "a.txt").write_text("new a")
    v1 = log(store, files)
    store.delete_version("p/ds:v0", force=True)
    report = store.gc(grace=NOW, dry_run=False)
    assert report.blobs == 1 and report.manifests == 1  # old a.txt and v0's manifest
    assert not store.backend.exists(layout.blob(v0.entries["a.txt"].digest))  # type: ignore[arg-type]
    assert store.verify(deep=True) == []
    v1.download(files.parent / "out")


def test_gc_keeps_blobs_of_a_commit_in_flight(store: afs.Store, files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blobs and manifest are written, the version record not yet: gc (with a grace) keeps them."""
    from artifactfs import commit as commit_mod

    reports = []

    def gc_then_allocate(*args: object, **kw: object) -> object:
        reports.append(store.gc(grace=HOUR, dry_run=False))
        return original(*args, **kw)

    original = commit_mod.allocate_version
    monkeypatch.setattr(commit_mod, "allocate_version", gc_then_allocate)
    art = log(store, files)
    assert reports[0].count == 0 and reports[0].kept_young >= 4
    assert store.verify(deep=True) == []
    art.download(files.parent / "out")


def test_bad_grace(store: afs.Store) -> None:
    with pytest.raises(afs.errors.InvalidInputError):
        store.gc(grace=-HOUR)
