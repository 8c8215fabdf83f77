"""The backend interface: key/value access to one store root, the only layer touching store files.

:class:`Backend` is one small interface (read, write, create-if-absent, list, move in batches)
with one implementation per transport: :class:`~artifactfs.backend_local.LocalBackend` for
folders on this machine (``os`` calls: atomic create by ``link(2)``, rename into place) and
:class:`~artifactfs.backend_fsspec.FsspecBackend` for every fsspec filesystem (cloud object
stores, whose batches fan out concurrently, and ``memory://``); what they share is
:mod:`artifactfs.backend_base`. Callers ask for capabilities (``local_files``,
``concurrent``), never for kinds. Every fsspec, SDK or OS error becomes an
:mod:`artifactfs.errors` type naming the store and the key.

Keys are ``/``-separated and relative to the root; where a blob key is placed is
:mod:`artifactfs.layout`'s to say (:func:`~artifactfs.layout.place`), from the store descriptor.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import IO, Any, Protocol

from fsspec.callbacks import Callback

from .backend_base import UPLOAD_BLOCK
from .backend_fsspec import open_filesystem
from .errors import KeyNotFoundError
from .hashing import Digest
from .records import StoreDescriptor
from .settings import storage_options_for

__all__ = ["UPLOAD_BLOCK", "Backend", "KeyNotFoundError", "open_backend"]


def open_backend(url: str, *, concurrency: int = 64, **storage_options: Any) -> Backend:
    """Open ``url`` (a path, ``file://``, ``memory://``, ``gs://``, ``az://``, ``s3://`` ...);
    ``storage_options`` go to its fsspec filesystem, over those of ``$ARTIFACTFS_STORAGE_OPTIONS``."""
    if "://" not in url:
        url = os.path.abspath(os.path.expanduser(url))
    options = {**storage_options_for(url), **storage_options}
    backend = open_filesystem(url, concurrency, options)
    backend.storage_options = options
    return backend


class Backend(Protocol):
    """Key/value access to one store root. Open one with :func:`open_backend`.

    Capabilities: ``local_files`` (keys are files on this machine: they have a :meth:`path`,
    temp files are renamed into place, ages can be refreshed) and ``concurrent`` (batched
    calls fan out concurrently, and listing a folder is cheaper than asking per key).
    """

    url: str
    root: str
    concurrency: int
    storage_options: dict[str, Any]  # what opened it: enough for another process to reopen it
    local_files: bool
    concurrent: bool

    @property
    def is_local(self) -> bool: ...  # former name of local_files
    @property
    def is_async(self) -> bool: ...  # former name of concurrent

    # where keys are (see layout.place)
    def blob_levels(self) -> int: ...
    def set_layout(self, descriptor: bytes) -> StoreDescriptor: ...
    def path(self, key: str) -> str: ...

    # reads: absent keys raise KeyNotFoundError, or map to None / are left out of batches
    def read(self, key: str) -> bytes: ...
    def read_first(self, key: str) -> bytes: ...
    def read_many(self, keys: Iterable[str]) -> dict[str, bytes | None]: ...
    def read_heads(self, items: dict[str, int]) -> dict[str, bytes | None]: ...
    def read_ranges(self, ranges: dict[str, list[tuple[int, int]]]) -> dict[str, list[bytes] | None]: ...
    def sizes(self, keys: list[str]) -> dict[str, int]: ...
    def size(self, key: str) -> int: ...
    def exists(self, key: str) -> bool: ...
    def existing(self, keys: list[str]) -> set[str]: ...
    def listdir(self, prefix: str) -> list[str]: ...
    def walk(self, prefix: str) -> dict[str, tuple[int, float]]: ...
    def sizes_below(self, prefixes: list[str]) -> dict[str, int]: ...
    def open(self, key: str, *, exact_ranges: bool = False) -> IO[bytes]: ...
    def open_sized(self, key: str, size: int, start: int = 0) -> IO[bytes]: ...

    # writes: each key appears whole or not at all
    def write(self, key: str, data: bytes) -> None: ...
    def write_many(self, items: dict[str, bytes], callback: Callback | None = None) -> None: ...
    def create(self, key: str, data: bytes) -> bool: ...
    def put_file(self, local: str | os.PathLike[str], key: str) -> None: ...
    def put_files(self, pairs: list[tuple[str, str]], callback: Callback | None = None) -> None: ...
    def upload_verified(self, local: str, key: str, digest: Digest, size: int) -> None: ...
    def delete(self, key: str) -> None: ...

    # files on this machine (local_files); refresh works everywhere
    def refresh(self, key: str, size: int, *, touch: bool = True) -> bool: ...
    def modified(self, key: str) -> float | None: ...
    def temp_path(self) -> str: ...
    def adopt(self, tmp: str, key: str) -> None: ...
    def discard(self, tmp: str) -> None: ...
