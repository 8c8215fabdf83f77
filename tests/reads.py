"""Opening a store as a new process does, logging a folder into it, and counting the bytes
and keys it is read for at the backend (every backend)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import artifactfs as afs
from artifactfs.backend import Backend, open_backend
from artifactfs.cache import BlobCache
from artifactfs.catalog_manifests import forget_kept


@dataclass
class Read:
    """Bytes and keys read from a backend (every read path: whole, batched, streamed)."""

    bytes: int = 0
    keys: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    by_key: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        with self.lock:
            self.bytes += n
            self.keys.append(key)
            self.by_key[key] = self.by_key.get(key, 0) + n


def reading(backend: Backend) -> Read:
    seen = Read()
    read, read_many, read_first, ranges = backend.read, backend.read_many, backend.read_first, backend.read_ranges
    heads = backend.read_heads
    opened, opened_sized = backend.open, backend.open_sized

    def counted_file(key: str, f: IO[bytes]) -> IO[bytes]:
        if getattr(f, "_counted", False):  # opened through open(), counted there already
            return f
        original = f.read

        def read_(n: int = -1) -> bytes:
            data = original(n)
            if not getattr(inside, "on", False):
                seen.add(key, len(data))
            return data

        f.read = read_  # type: ignore[method-assign]
        f._counted = True  # type: ignore[attr-defined]
        return f

    def one(key: str) -> bytes:
        data = read(key)
        seen.add(key, len(data))
        return data

    def first(key: str) -> bytes:
        data = read_first(key)
        seen.add(key, len(data))
        return data

    def many(keys: Any) -> dict[str, bytes | None]:
        out = read_many(list(keys))
        for k, v in out.items():
            seen.add(k, len(v or b""))
        return out

    inside = threading.local()  # a backend's read_ranges may be made of open(): count once

    def ranged(asked: dict[str, list[tuple[int, int]]]) -> dict[str, list[bytes] | None]:
        inside.on = True
        try:
            out = ranges(asked)
        finally:
            inside.on = False
        for k, parts in out.items():
            for part in parts or []:
                seen.add(k, len(part))
        return out

    def headed(asked: dict[str, int]) -> dict[str, bytes | None]:
        out = heads(asked)
        for k, v in out.items():
            seen.add(k, len(v or b""))
        return out

    backend.read, backend.read_first, backend.read_many = one, first, many  # type: ignore[method-assign]
    backend.read_heads = headed  # type: ignore[method-assign]
    backend.read_ranges = ranged  # type: ignore[method-assign]
    backend.open = lambda key, **kw: counted_file(key, opened(key, **kw))  # type: ignore[method-assign]
    backend.open_sized = lambda key, size, start=0: counted_file(key, opened_sized(key, size, start))  # type: ignore[method-assign]
    return seen


def fresh(url: str, cache: Path) -> afs.Store:
    """The store as a new process opens it: nothing kept in memory."""
    forget_kept()
    return afs.Store(open_backend(url), cache=BlobCache(cache))


def log(store: afs.Store | str, folder: Path, name: str = "ds") -> afs.Artifact:
    """Log ``folder`` as a new version of ``p/<name>``."""
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact(name, type="dataset")
        art.add_dir(folder)
        return run.log_artifact(art)
