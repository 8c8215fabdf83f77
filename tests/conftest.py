"""Shared fixtures: every store test runs once per backend, each test on its own store root."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.memory import MemoryFileSystem

import artifactfs as afs
from artifactfs.backend import open_backend
from artifactfs.cache import BlobCache
from artifactfs.reach import forget_offline
from tests import emulators as emulators_mod
from tests.emulators import Emulator

pytest_plugins = ["tests.httpserver", "tests.requests"]

BACKENDS = ["local", "memory", "gcs", "azure", "s3"]
CLOUD = ["gcs", "azure", "s3"]
SHARED = ["local", *CLOUD]  # stores that several processes can share


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Never touch the user's default store or cache; run in a scratch folder; every store
    online again after the test."""
    monkeypatch.setenv("ARTIFACTFS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ARTIFACTFS_STORE", str(tmp_path / "default-store"))
    monkeypatch.delenv("ARTIFACTFS_OFFLINE", raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    forget_offline()


@pytest.fixture(autouse=True)
def _no_runs_left_open() -> Iterator[None]:
    """Runs a test leaves open are not finished when the test process exits (their stores,
    temporary folders or emulators, are gone by then): each test forgets its own."""
    yield
    afs.run._open_runs.clear()


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Emulator | str]]:
    """Cloud emulators, started on first use (a name maps to the reason it could not start)."""
    started: dict[str, Emulator | str] = {}
    workdir = tmp_path_factory.mktemp("emulators")

    def get(name: str) -> Emulator | str:
        if name not in started:
            try:
                started[name] = emulators_mod.start(name, workdir / name)
            except emulators_mod.EmulatorUnavailable as e:
                started[name] = f"{name} emulator unavailable: {e}"
        return started[name]

    yield _Lazy(get)  # type: ignore[misc]
    for emu in started.values():
        if isinstance(emu, Emulator):
            emu.stop()


class _Lazy(dict):  # type: ignore[type-arg]
    def __init__(self, get: Any) -> None:
        super().__init__()
        self._get = get

    def __missing__(self, key: str) -> Any:
        return self._get(key)


def cloud_root(request: pytest.FixtureRequest, name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    emu = request.getfixturevalue("emulators")[name]
    if isinstance(emu, str):
        if os.environ.get("CI") == "true":
            pytest.fail(emu)  # in CI a missing emulator is a failure, never a skip
        pytest.skip(emu)
    # Options reach every store opened by URL, in this process and in child processes.
    monkeypatch.setenv("ARTIFACTFS_STORAGE_OPTIONS", json.dumps({emu.scheme: emu.options}))
    return emu.new_root()


def make_root(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    if backend == "local":
        yield str(tmp_path / "store")
    elif backend == "memory":
        root = f"memory://artifactfs-test-{uuid.uuid4().hex}"
        yield root
        drop_memory(root)
    else:
        yield cloud_root(request, backend, monkeypatch)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, empty store URL on each backend (ids name the backend)."""
    yield from make_root(request, request.param, tmp_path, monkeypatch)


@pytest.fixture(params=SHARED)
def shared_store_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh store URL on each backend that several processes can use at once."""
    yield from make_root(request, request.param, tmp_path, monkeypatch)


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> afs.Store:
    return afs.Store(open_backend(store_url), cache=BlobCache(tmp_path / "cache"))


@pytest.fixture
def memory_store(tmp_path: Path) -> Iterator[afs.Store]:
    """A store on a remote-like backend (reads go through the blob cache)."""
    root = f"memory://artifactfs-test-{uuid.uuid4().hex}"
    yield afs.Store(open_backend(root), cache=BlobCache(tmp_path / "cache"))
    drop_memory(root)


def drop_memory(root: str) -> None:
    """Remove a memory store (MemoryFileSystem.rm is quadratic in the number of files)."""
    prefix = root.removeprefix("memory:/") + "/"
    for key in [k for k in MemoryFileSystem.store if k.startswith(prefix)]:
        del MemoryFileSystem.store[key]
    MemoryFileSystem.pseudo_dirs[:] = [d for d in MemoryFileSystem.pseudo_dirs if not d.startswith(prefix)]


def snapshot(store: afs.Store) -> dict[str, bytes]:
    """Every key and its bytes: used to assert that a failed call changed nothing."""
    keys = list(store.backend.walk(""))
    return {k: v or b"" for k, v in store.backend.read_many(keys).items()}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A small folder tree of files to log."""
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "b.bin").write_bytes(bytes(range(256)) * 10)
    (root / "sub" / "c.txt").write_text("gamma\n")
    return root
