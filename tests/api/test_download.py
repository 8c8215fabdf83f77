"""download()/get_path(): every byte verified, served from the blob cache the second time."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from fsspec.callbacks import Callback

import artifactfs as afs
from artifactfs import download, layout
from artifactfs.backend import open_backend
from artifactfs.cache import BlobCache
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


def read_only(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o222 == 0


def test_second_download_is_served_from_cache(store: afs.Store, files: Path, tmp_path: Path) -> None:
    art = log_files(store, files)
    first = Path(art.download(tmp_path / "first"))
    digest = art.entries["data/b.bin"].digest
    assert digest is not None and store.cache.has(digest)
    # One copy on disk: the download is a read-only link to the cached blob.
    assert os.path.samefile(store.cache.path(digest), first / "data" / "b.bin")
    assert read_only(first / "data" / "b.bin")
    # Break the store's copy: the second download must not read it.
    store.backend.delete(layout.blob(digest))
    second = Path(art.download(tmp_path / "second"))
    assert tree(second) == tree(first)
    assert os.path.samefile(store.cache.path(digest), second / "data" / "b.bin")


def test_copy_gives_private_writable_files(store: afs.Store, files: Path, tmp_path: Path) -> None:
    art = log_files(store, files)
    art.download(tmp_path / "linked")
    out = Path(art.download(tmp_path / "copied", copy=True))
    digest = art.entries["data/b.bin"].digest
    assert digest is not None
    assert not os.path.samefile(store.cache.path(digest), out / "data" / "b.bin")
    assert not read_only(out / "data" / "b.bin")
    (out / "data" / "b.bin").write_bytes(b"mine")  # changes nothing else
    assert (tmp_path / "linked" / "data" / "b.bin").read_bytes() == (files / "b.bin").read_bytes()


def test_without_links_files_are_copied(
    store: afs.Store, files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cross_device(*args: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    art = log_files(store, files)
    monkeypatch.setattr(os, "link", cross_device)  # as with the cache on another filesystem
    for name in ("one", "two"):
        out = Path(art.download(tmp_path / name))
        assert tree(out) == {f"data/{k}": v for k, v in tree(files).items()} | {"notes/readme.md": b"# hello\n"}
        assert all(p.stat().st_nlink == 1 and not read_only(p) for p in out.rglob("*") if p.is_file())
    assert not [p for p in tmp_path.rglob("*.tmp-*")]


def test_edits_through_a_link_never_poison_a_download(store: afs.Store, files: Path, tmp_path: Path) -> None:
    art = log_files(store, files)
    first = Path(art.download(tmp_path / "first"))
    a = first / "data" / "a.txt"
    a.chmod(0o644)  # a user who makes the read-only file writable and edits it in place
    a.write_text("edited by the user\n")
    second = Path(art.download(tmp_path / "second"))
    assert (second / "data" / "a.txt").read_text() == "alpha\n"
    assert store.verify(deep=True) == []


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


def test_one_download_never_shares_an_inode_between_files(memory_store: afs.Store, files: Path, tmp_path: Path) -> None:
    (files / "dup.txt").write_text("alpha\n")  # same bytes as a.txt: one blob, two entries
    art = log_files(memory_store, files)
    for name in ("first", "second"):  # fetched, then from the cache
        out = Path(art.download(tmp_path / name))
        a, dup = out / "data" / "a.txt", out / "data" / "dup.txt"
        assert a.read_text() == dup.read_text() == "alpha\n"
        assert a.stat().st_ino != dup.stat().st_ino


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_a_download_is_placed_a_batch_at_a_time(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Entries are placed a batch at a time (bounded memory); a blob an earlier batch linked
    is copied, not linked again, and progress counts every batch as one task."""

    monkeypatch.setattr(download, "BATCH", 7)
    if kind == "local":
        store = afs.Store(open_backend(str(tmp_path / "store")), cache=BlobCache(tmp_path / "cache"))
    else:
        store = request.getfixturevalue("memory_store")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(30):
        (src / f"f{i:02d}.txt").write_text(f"content {i % 6}\n")  # each content in several batches
    art = log_files(store, src)

    class Seen(Callback):  # type: ignore[misc]
        pass

    for name in ("first", "second"):  # a cold cache, then a warm one
        seen = Seen()
        out = Path(art.download(tmp_path / name, callback=seen))
        files = sorted((out / "data").iterdir())
        assert [f.read_text() for f in files] == [f"content {i % 6}\n" for i in range(30)]
        assert len({f.stat().st_ino for f in files}) == 30
        if kind == "memory" and name == "first":
            assert seen.size == seen.value == 7  # six contents and the readme, fetched once each
