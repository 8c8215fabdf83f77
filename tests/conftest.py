"""Shared fixtures: every store test runs once per backend, each test on its own store root."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fsspec.implementations.memory import MemoryFileSystem

import artifactfs as afs
from artifactfs.cache import BlobCache
from artifactfs.storage import Backend

BACKENDS = ["local", "memory"]


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's default store or cache; run in a scratch folder."""
    monkeypatch.setenv("ARTIFACTFS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ARTIFACTFS_STORE", str(tmp_path / "default-store"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store URL on each backend (ids name the backend)."""
    if request.param == "local":
        yield str(tmp_path / "store")
    else:
        root = f"memory://artifactfs-test-{uuid.uuid4().hex}"
        yield root
        drop_memory(root)


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> afs.Store:
    return afs.Store(Backend.from_url(store_url), cache=BlobCache(tmp_path / "cache"))


@pytest.fixture
def memory_store(tmp_path: Path) -> Iterator[afs.Store]:
    """A store on a remote-like backend (reads go through the blob cache)."""
    root = f"memory://artifactfs-test-{uuid.uuid4().hex}"
    yield afs.Store(Backend.from_url(root), cache=BlobCache(tmp_path / "cache"))
    drop_memory(root)


def drop_memory(root: str) -> None:
    """Remove a memory store (MemoryFileSystem.rm is quadratic in the number of files)."""
    prefix = root.removeprefix("memory:/") + "/"
    for key in [k for k in MemoryFileSystem.store if k.startswith(prefix)]:
        del MemoryFileSystem.store[key]
    MemoryFileSystem.pseudo_dirs[:] = [d for d in MemoryFileSystem.pseudo_dirs if not d.startswith(prefix)]


def snapshot(store: afs.Store) -> dict[str, bytes]:
    """Every key and its bytes: used to assert that a failed call changed nothing."""
    fs, root = store.backend.fs, store.backend.root
    if not fs.exists(root):
        return {}
    return {p[len(root) :]: fs.cat_file(p) for p in fs.find(root)}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A small folder tree of files to log."""
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "b.bin").write_bytes(bytes(range(256)) * 10)
    (root / "sub" / "c.txt").write_text("gamma\n")
    return root
