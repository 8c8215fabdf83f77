"""Long histories made quickly, and counting what a backend is asked, for the history tests."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import artifactfs as afs
from artifactfs import codec, layout
from artifactfs.backend import Backend, open_backend
from artifactfs.cache import BlobCache
from artifactfs.records import AliasEvent, Tombstone

NEWEST_DELETED = 2  # grow() deletes this many of the newest versions


@dataclasses.dataclass
class Counted:
    """Calls made to a backend: ``rounds`` (each call one round of requests) and ``keys``
    (the keys they asked about: the requests an object store would get)."""

    rounds: int = 0
    keys: list[str] = dataclasses.field(default_factory=list)


_CALLS: dict[str, Callable[[tuple[Any, ...]], list[str]]] = {
    **{m: (lambda a: [str(a[0])]) for m in ("read", "read_first", "exists", "size", "listdir", "walk")},
    **{m: (lambda a: [str(a[0])]) for m in ("write", "create", "delete", "open", "open_sized")},
    **{m: (lambda a: [str(k) for k in a[0]]) for m in ("read_many", "read_heads", "sizes", "existing")},
    **{m: (lambda a: [str(k) for k in a[0]]) for m in ("write_many", "sizes_below")},
    "put_file": lambda a: [str(a[1])],
    "put_files": lambda a: [str(k) for _, k in a[0]],
    "upload_verified": lambda a: [str(a[1])],
}


def counting(backend: Backend) -> Counted:
    """Count what ``backend`` is asked (outermost calls only: a batch call made of others is one)."""
    counted = Counted()
    depth = threading.local()
    for name, keys_of in _CALLS.items():
        original = getattr(backend, name)

        def wrapper(*args: Any, _o: Any = original, _k: Any = keys_of, **kw: Any) -> Any:
            outer = not getattr(depth, "n", 0)
            if outer:
                args = (list(args[0]), *args[1:]) if _k is _CALLS["read_many"] else args
                counted.rounds += 1
                counted.keys.extend(_k(args))
            depth.n = getattr(depth, "n", 0) + 1
            try:
                return _o(*args, **kw)
            finally:
                depth.n -= 1

        setattr(backend, name, wrapper)
    return counted


def grow(url: str, cache: Path, size: tuple[int, int, int], source: Path) -> None:
    """A history of ``size`` = (versions, alias events, tombstones) of ``p/ckpt``: one version
    logged, the others' records written as their writers would have (fast, and what readers
    see is the same), then the last writers' steps done through the API (hints included)."""
    versions, events, stones = size
    store = afs.Store(open_backend(url), cache=BlobCache(cache))
    source.write_bytes(b"weights")
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ckpt", type="model")
        art.add_file(str(source))
        run.log_artifact(art, aliases=["best"])
    first = store.catalog.version("p", "ckpt", 0)
    now = codec.utcnow()
    records = {
        layout.version_record("p", "ckpt", n): dataclasses.replace(first, version=n).to_bytes()
        for n in range(1, versions)
    }
    records.update(
        {
            layout.alias_event("p", "ckpt", "best", s): AliasEvent("best", s % versions, now, None).to_bytes()
            for s in range(1, events - 1)
        }
    )
    deleted = range(1, versions - NEWEST_DELETED - 1, max(1, versions // stones))
    records.update({layout.tombstone("p", "ckpt", n): Tombstone(n, now, "retention").to_bytes() for n in deleted})
    keys = list(records)
    for i in range(0, len(keys), 2000):  # in batches: memory and the emulators' patience
        store.backend.write_many({k: records[k] for k in keys[i : i + 2000]})
    store.catalog.committed(dataclasses.replace(first, version=versions - 1))
    store.set_alias(f"p/ckpt:v{versions - NEWEST_DELETED - 1}", "best")
    for n in range(versions - 1, versions - 1 - NEWEST_DELETED, -1):
        store.delete_version(f"p/ckpt:v{n}", force=True)
