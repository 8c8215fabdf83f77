"""download()/get_path(): every byte verified, served from the blob cache the second time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import layout
from artifactfs.errors import EntryNotFoundError, IntegrityError
from artifactfs.hashing import Digest


def log_files(store: afs.Store, folder: Path) -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(folder, name="data")
        with art.new_file("notes/readme.md") as f:
            f.write("# hello\n")
        return run.log_artifact(art)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_download_round_trip(store: afs.Store, files: Path, tmp_path: Path) -> None:
    art = log_files(store, files)
    out = Path(art.download(tmp_path / "out"))
    expected = {f"data/{k}": v for k, v in tree(files).items()} | {"notes/readme.md": b"# hello\n"}
    assert tree(out) == expected


def test_default_download_root(store: afs.Store, files: Path) -> None:
    art = log_files(store, files)
    assert art.download() == os.path.join("artifacts", "ds-v0")
    assert (Path("artifacts/ds-v0/data/a.txt")).read_text() == "alpha\n"


def test_get_path(store: afs.Store, files: Path, tmp_path: Path) -> None:
    art = log_files(store, files)
    p = art.get_path("data/sub/c.txt", root=tmp_path / "one")
    assert Path(p).read_text() == "gamma\n"
    assert sorted(tree(tmp_path / "one")) == ["data/sub/c.txt"]
    with pytest.raises(EntryNotFoundError, match=r"missing\.txt"):
        art.get_path("missing.txt")


def corrupt(store: afs.Store, digest: Digest, data: bytes) -> None:
    store.backend.write(layout.blob(digest), data)


def test_corrupt_blob_is_detected_and_leaves_no_file(store: afs.Store, files: Path, tmp_path: Path) -> None:
    art = log_files(store, files)
    digest = art.entries["data/a.txt"].digest
    assert digest is not None
    corrupt(store, digest, b"ALPHA\n")
    with pytest.raises(IntegrityError, match=r"data/a\.txt") as info:
        art.download(tmp_path / "out")
    assert "blobs/" in str(info.value)
    assert not (tmp_path / "out" / "data" / "a.txt").exists()
    assert not [p for p in (tmp_path / "out").rglob("*.tmp-*")]


def test_second_download_is_served_from_cache(store: afs.Store, files: Path, tmp_path: Path) -> None:
    art = log_files(store, files)
    art.download(tmp_path / "first")
    digest = art.entries["data/b.bin"].digest
    assert digest is not None
    if store.backend.is_local:
        # A local store is read in place and verified; copying it into the cache would only double the disk use.
        assert not store.cache.has(digest)
        return
    # Break the store's copy: the second download must not read it.
    assert store.cache.has(digest)
    store.backend.delete(layout.blob(digest))
    art.download(tmp_path / "second")
    assert tree(tmp_path / "second") == tree(tmp_path / "first")


def test_corrupt_cache_entry_is_refetched(memory_store: afs.Store, files: Path, tmp_path: Path) -> None:
    store = memory_store
    art = log_files(store, files)
    art.download(tmp_path / "first")
    digest = art.entries["data/a.txt"].digest
    assert digest is not None
    store.cache.path(digest).write_bytes(b"garbage")
    art.download(tmp_path / "second")
    assert (tmp_path / "second/data/a.txt").read_text() == "alpha\n"
    assert store.cache.path(digest).read_text() == "alpha\n"


def test_fresh_download_links_once_and_edits_never_poison_reads(
    memory_store: afs.Store, files: Path, tmp_path: Path
) -> None:
    (files / "dup.txt").write_text("alpha\n")  # same bytes as a.txt: one blob, two entries
    art = log_files(memory_store, files)
    first = Path(art.download(tmp_path / "first"))
    a, dup = first / "data" / "a.txt", first / "data" / "dup.txt"
    assert a.read_text() == dup.read_text() == "alpha\n"
    assert a.stat().st_ino != dup.stat().st_ino  # never two downloaded files on one inode
    for f in (a, dup):
        if f.stat().st_nlink > 1:
            f.write_text("edited by the user\n")  # in place: the cached copy changes too
    second = Path(art.download(tmp_path / "second"))
    assert (second / "data" / "a.txt").read_text() == "alpha\n"  # verified, evicted, fetched again
