"""A file that changes while it is logged is never stored under a digest its bytes do not match."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import artifactfs as afs
from artifactfs import backend_base as storage
from artifactfs import ingest as commit_mod
from artifactfs import layout
from artifactfs.errors import SourceChangedError
from artifactfs.hashing import Digest, hash_bytes
from artifactfs.transfer import SMALL_BLOB

# kept: a small file whose hashed bytes are the ones sent; reread: a small file read again at
# upload (past the memory budget); large: streamed in several parts (multipart, resumable, blocks)
CASES = {"kept": SMALL_BLOB // 4, "reread": SMALL_BLOB // 4, "large": 12 << 20}


def every_blob_matches_its_key(store: afs.Store) -> None:
    for key in store.backend.walk("blobs"):
        data = store.backend.read(key)
        hex_ = key.rsplit("/", 1)[-1]
        assert hash_bytes(data, store.algorithm) == Digest(store.algorithm, hex_), key


def log(store: afs.Store, path: Path) -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ckpt", type="model")
        art.add_file(path)
        return run.log_artifact(art)


@pytest.mark.parametrize("case", list(CASES))
def test_file_rewritten_between_hashing_and_upload(
    store: afs.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    path = tmp_path / "ckpt.bin"
    original = random.Random(case).randbytes(CASES[case])
    changed = original[:-1] + bytes([original[-1] ^ 0xFF])  # same size: only the bytes tell
    path.write_bytes(original)
    upload = commit_mod.upload_blobs

    def rewrite_then_upload(*args: Any, **kw: Any) -> int:
        path.write_bytes(changed)  # the checkpoint is still being written
        return upload(*args, **kw)

    monkeypatch.setattr(commit_mod, "upload_blobs", rewrite_then_upload)
    monkeypatch.setattr(storage, "UPLOAD_BLOCK", 5 << 20)  # several parts, the change in the last
    if case == "reread":
        monkeypatch.setattr(commit_mod, "KEEP_BYTES", 0)
    try:
        logged = log(store, path)
    except SourceChangedError as e:
        assert str(path) in str(e) and "changed while it was being logged" in str(e)
        # Read again, a small file is checked against its digest (on every store); a large
        # one is checked as it is streamed to an object store.
        assert case == "reread" or (case == "large" and not store.backend.local_files)
        assert store.backend.listdir(layout.versions_dir("p", "ckpt")) == []
    else:
        # A local store hashes the copy it keeps of a large file; a kept small file sends the
        # bytes it hashed.
        assert case == "kept" or (case == "large" and store.backend.local_files)
        out = Path(logged.get_path("ckpt.bin", root=tmp_path / "out"))
        assert out.read_bytes() == original
    every_blob_matches_its_key(store)
    assert store.verify(deep=True) == []

    # A clean log of the bytes first hashed makes a correct version (no bad blob to re-use).
    monkeypatch.setattr(commit_mod, "upload_blobs", upload)
    path.write_bytes(original)
    again = log(store, path)
    assert Path(again.get_path("ckpt.bin", root=tmp_path / "again")).read_bytes() == original
    every_blob_matches_its_key(store)
    assert store.verify(deep=True) == []


def test_a_damaged_blob_is_written_again_not_reused(store: afs.Store, tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    for size in (1000, 6 << 20):  # a small and a large file
        data = random.Random(size).randbytes(size)
        path.write_bytes(data)
        key = layout.blob(hash_bytes(data, store.algorithm))
        store.backend.write(key, data[: size // 2])  # left by an earlier, broken writer
        logged = log(store, path)
        assert store.backend.read(key) == data
        assert Path(logged.get_path("weights.bin", root=tmp_path / f"out{size}")).read_bytes() == data
    assert store.verify(deep=True) == []
