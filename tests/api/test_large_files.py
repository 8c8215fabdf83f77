"""Large files on a local store: one kernel copy, hashed while it is made."""

from __future__ import annotations

import errno
import os
import random
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import places
from artifactfs.errors import StoreError
from artifactfs.hashing import hash_bytes
from artifactfs.transfer import SMALL_BLOB


@pytest.mark.parametrize("size", [0, 1, (1 << 16) - 1, 1 << 16, 5 * (1 << 16) + 7])
def test_copy_and_hash_matches_the_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.setattr(places, "COPY_CHUNK", 1 << 16)  # several chunks without writing 64 MiB
    data = random.Random(size).randbytes(size)
    (tmp_path / "src").write_bytes(data)
    with open(tmp_path / "src", "rb") as src, open(tmp_path / "out", "w+b") as out:
        digest, n = places.copy_and_hash(src, out, "blake3")
    assert (digest, n) == (hash_bytes(data), size)
    assert (tmp_path / "out").read_bytes() == data


def test_copy_and_hash_without_kernel_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unsupported(*args: object) -> int:
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", unsupported)
    data = random.Random(0).randbytes(3 << 20)
    (tmp_path / "src").write_bytes(data)
    with open(tmp_path / "src", "rb") as src, open(tmp_path / "out", "w+b") as out:
        assert places.copy_and_hash(src, out, "sha256") == (hash_bytes(data, "sha256"), len(data))
    assert (tmp_path / "out").read_bytes() == data


def test_copy_failure_midway_leaves_no_blob(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = afs.open_store(str(tmp_path / "store"))
    big = tmp_path / "big.bin"
    big.write_bytes(random.Random(1).randbytes(SMALL_BLOB + (1 << 17)))
    monkeypatch.setattr(places, "COPY_CHUNK", 1 << 16)
    real = os.copy_file_range
    calls = []

    def failing(*args: int) -> int:
        calls.append(args)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args)

    monkeypatch.setattr(os, "copy_file_range", failing)
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("big", type="model")
        art.add_file(big)
        with pytest.raises(StoreError, match=r"could not copy .*big\.bin into .*No space left"):
            run.log_artifact(art)
    assert len(calls) == 3
    left = [p.relative_to(tmp_path / "store").parts[0] for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert "blobs" not in left and "tmp" not in left
    assert store.artifacts("p") == []


def test_large_file_logged_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(places, "COPY_CHUNK", 1 << 16)
    store = afs.open_store(str(tmp_path / "store"))
    big = tmp_path / "big.bin"
    data = random.Random(2).randbytes(SMALL_BLOB + 12345)
    big.write_bytes(data)
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("big", type="model")
        art.add_file(big)
        logged = run.log_artifact(art)
    assert logged.entries["big.bin"].digest == hash_bytes(data)
    assert Path(logged.download(tmp_path / "out"), "big.bin").read_bytes() == data
    assert store.verify(deep=True) == []


def test_copy_and_hash_where_the_kernel_has_no_copy_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "copy_file_range")  # as on macOS and Windows
    data = random.Random(2).randbytes(1 << 20)
    (tmp_path / "src").write_bytes(data)
    with open(tmp_path / "src", "rb") as src, open(tmp_path / "out", "w+b") as out:
        assert places.copy_and_hash(src, out, "blake3") == (hash_bytes(data), len(data))
