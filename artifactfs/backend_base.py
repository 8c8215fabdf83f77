"""What every backend shares: where keys are placed, how errors are translated, and the
batched calls derived from the primitives (an implementation overrides them where its
transport does better). See :mod:`artifactfs.backend` for the interface."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any

from fsspec.callbacks import Callback

from . import layout
from .errors import ArtifactFSError, IntegrityError, KeyNotFoundError, StoreError, UnsupportedBackendError
from .hashing import Digest
from .records import StoreDescriptor

__all__ = ["UPLOAD_BLOCK", "BaseBackend", "below", "check_heads"]

UPLOAD_BLOCK = 32 << 20  # a multiple of 256 KiB (GCS) above 5 MiB (S3's smallest part)


class BaseBackend:
    """Key/value access to one store root (see :class:`artifactfs.backend.Backend`).

    Capabilities: ``local_files`` (keys are files on this machine: they have a :meth:`path`,
    temp files are renamed into place, ages can be refreshed) and ``concurrent`` (batched
    calls fan out concurrently, and listing a folder is cheaper than asking per key).
    """

    local_files = False
    concurrent = False

    def __init__(self, root: str, *, url: str, concurrency: int = 64) -> None:
        self.root = root.rstrip("/")
        self.url = url
        self.concurrency = concurrency  # requests in flight at once on concurrent backends
        # What opened it (with from_url): enough for another process, a Dask worker, to reopen it.
        self.storage_options: dict[str, Any] = {}
        self._levels: int | None = None  # blob folder levels, from the store descriptor

    @property
    def is_local(self) -> bool:
        """Former name of :attr:`local_files`."""
        return self.local_files

    @property
    def is_async(self) -> bool:
        """Former name of :attr:`concurrent`."""
        return self.concurrent

    # ------------------------------------------------------------------ where keys are
    def blob_levels(self) -> int:
        """Folder levels of this store's blobs (1 for stores made by this release, 2 before),
        from its descriptor, read once; a store without one yet will be made with 1."""
        if self._levels is None:
            try:
                raw = self.read(layout.DESCRIPTOR)
            except KeyNotFoundError:
                # A store to be made now: its first writer makes the descriptor, and the
                # catalog sets the layout from whichever descriptor won (see set_layout).
                return 1
            self.set_layout(raw)
        assert self._levels is not None
        return self._levels

    @property
    def flat_blobs(self) -> bool:
        """Whether blobs sit in one level of folders (see :meth:`blob_levels`)."""
        return self.blob_levels() == 1

    def set_layout(self, descriptor: bytes) -> StoreDescriptor:
        """Take the blob layout from the store descriptor's bytes, and return it decoded.

        A descriptor that does not decode, or names a layout this release does not know, is a
        :class:`FormatError`: guessing would place (and gc would collect) blobs wrongly.
        """
        desc = StoreDescriptor.from_bytes(descriptor, f"store {self.url} ({layout.DESCRIPTOR})")
        self._levels = desc.blob_levels
        return desc

    def path(self, key: str) -> str:
        """Full filesystem path of ``key``."""
        placed = layout.place(key, self.blob_levels()) if key.startswith("blobs/") else key
        return f"{self.root}/{placed}" if placed else self.root

    def key_of(self, relative: str) -> str:
        """The key of a file found by listing (``relative`` to the root): the inverse of :meth:`path`."""
        return layout.unplace(relative, self.blob_levels()) if relative.startswith("blobs/") else relative

    @contextlib.contextmanager
    def errors(self, key: str, action: str) -> Iterator[None]:
        """Translate what a filesystem raises while ``action`` ``key`` into artifactfs errors."""
        try:
            yield
        except ArtifactFSError:
            raise
        except FileNotFoundError as e:
            if action in ("writing", "creating", "uploading"):  # the bucket or root itself is gone
                raise StoreError(f"{action} {key} in store {self.url} failed: the store's root does not exist") from e
            raise KeyNotFoundError(f"{key} not found in store {self.url}") from e
        except (OSError, ValueError, RuntimeError) as e:
            raise StoreError(f"{action} {key} in store {self.url} failed: {e}") from e
        except Exception as e:  # backend SDKs raise their own types (botocore, azure.core, ...)
            raise StoreError(f"{action} {key} in store {self.url} failed: {type(e).__name__}: {e}") from e

    # ------------------------------------------------------------------ reads
    def read(self, key: str) -> bytes:
        """The whole value of ``key`` (:class:`KeyNotFoundError` if absent)."""
        raise NotImplementedError

    def read_first(self, key: str) -> bytes:
        """:meth:`read` as the first contact with the store (remote ones bound its wait)."""
        return self.read(key)

    def read_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        """Several keys at once; absent keys map to None."""
        out: dict[str, bytes | None] = {}
        for k in keys:
            try:
                out[k] = self.read(k)
            except KeyNotFoundError:
                out[k] = None
        return out

    def read_heads(self, items: dict[str, int]) -> dict[str, bytes | None]:
        """The first ``n`` bytes (at most) of each key of ``items`` (key -> ``n`` >= 1); absent
        keys map to None. Readers of blobs of a known size ask for one byte more, so an
        oversized blob costs no more than that to refuse."""
        check_heads(items)
        out: dict[str, bytes | None] = {}
        for k, n in items.items():
            try:
                with self.open(k) as f:
                    out[k] = f.read(n)
            except KeyNotFoundError:
                out[k] = None
        return out

    def read_ranges(self, ranges: dict[str, list[tuple[int, int]]]) -> dict[str, list[bytes] | None]:
        """Bytes ``[start, end)`` of keys, several ranges each, all at once (one request per
        range on an object store); an absent key maps to None. Short reads are returned short."""
        out: dict[str, list[bytes] | None] = {}
        for key, spans in ranges.items():
            try:
                with self.open(key, exact_ranges=True) as f:
                    got = []
                    for a, b in spans:
                        f.seek(a)
                        got.append(f.read(b - a))
                    out[key] = got
            except KeyNotFoundError:
                out[key] = None
        return out

    def sizes(self, keys: list[str]) -> dict[str, int]:
        """key -> size of those of ``keys`` that exist."""
        raise NotImplementedError

    def size(self, key: str) -> int:
        found = self.sizes([key])
        if key not in found:
            raise KeyNotFoundError(f"{key} not found in store {self.url}")
        return found[key]

    def exists(self, key: str) -> bool:
        return bool(self.sizes([key]))

    def existing(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` exist."""
        return set(self.sizes(keys))

    def listdir(self, prefix: str) -> list[str]:
        """Names directly below ``prefix`` (files and folders), sorted; [] if it does not exist."""
        raise NotImplementedError

    def walk(self, prefix: str) -> dict[str, tuple[int, float]]:
        """Every file below the folder ``prefix``: key -> (size, modified time as epoch seconds)."""
        raise NotImplementedError

    def sizes_below(self, prefixes: list[str]) -> dict[str, int]:
        """key -> size of every file below each folder of ``prefixes``."""
        out: dict[str, int] = {}
        for p in prefixes:
            out.update({k: size for k, (size, _) in self.walk(p).items()})
        return out

    def open(self, key: str, *, exact_ranges: bool = False) -> IO[bytes]:
        """A seekable binary file for ``key``. ``exact_ranges`` turns off read-ahead, for callers
        that read in blocks of their own (each read is then exactly one ranged request)."""
        raise NotImplementedError

    def open_sized(self, key: str, size: int, start: int = 0) -> IO[bytes]:
        """Read ``key``, which must hold exactly ``size`` bytes, from ``start`` to the end.

        Its size is asked first: a key of another size is refused before any of its bytes is
        read (:class:`IntegrityError` naming it), and no read goes past ``size``.
        """
        self.check_size(key, size)
        f = self.open(key)
        if start:
            f.seek(start)
        return f

    def check_size(self, key: str, size: int) -> None:
        """Refuse ``key`` unless it holds ``size`` bytes (one size request; none of its bytes)."""
        found = self.sizes([key]).get(key)
        if found is None:
            raise KeyNotFoundError(f"{key} not found in store {self.url}")
        if found != size:
            raise IntegrityError(f"{key} in store {self.url} holds {found} bytes, not the {size} recorded")

    # ------------------------------------------------------------------ writes
    def write(self, key: str, data: bytes) -> None:
        """Write ``key`` whole, replacing any previous value; readers see old or new, never half."""
        raise NotImplementedError

    def write_many(self, items: dict[str, bytes], callback: Callback | None = None) -> None:
        """Write several whole keys (each appears whole or not at all)."""
        for key, data in items.items():
            self.write(key, data)
            if callback is not None:
                callback.relative_update(1)

    def create(self, key: str, data: bytes) -> bool:
        """Write ``key`` only if it does not exist; True if this call created it. Atomic: exactly
        one of any number of concurrent callers wins."""
        raise NotImplementedError

    def put_file(self, local: str | os.PathLike[str], key: str) -> None:
        """Upload a local file to ``key``; the key never holds a partial file."""
        raise NotImplementedError

    def put_files(self, pairs: list[tuple[str, str]], callback: Callback | None = None) -> None:
        """Upload (local path, key) pairs; each key appears whole or not at all."""
        for local, key in pairs:
            self.put_file(local, key)
            if callback is not None:
                callback.relative_update(1)

    def upload_verified(self, local: str, key: str, digest: Digest, size: int) -> None:
        """Upload the local file ``local`` to ``key``, hashing every byte sent on the way.

        ``key`` appears only if the bytes sent are ``size`` long and hash to ``digest``;
        otherwise nothing is stored and :class:`SourceChangedError` names the file. So a file
        rewritten between its hashing and its upload is never stored under a digest its bytes
        do not match. Memory stays bounded whatever the size.
        """
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove ``key`` (nothing happens if it is absent)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ files on this machine
    def refresh(self, key: str, size: int, *, touch: bool = True) -> bool:
        """Whether ``key`` exists with ``size`` bytes; where files age on this machine (see
        :attr:`local_files`), its modified time is refreshed too (unless ``touch`` is False),
        so that a concurrent gc's grace period does not expire a blob a commit re-uses. A blob
        of another size is not re-used (the caller writes it again), so a damaged blob never
        spreads."""
        return self.sizes([key]).get(key) == size

    def modified(self, key: str) -> float | None:
        """Modified time (epoch seconds) of ``key``; None if it is gone."""
        raise self._local_only("modified")

    def temp_path(self) -> str:
        """A fresh temp file path inside the store, to write a blob into and :meth:`adopt`."""
        raise self._local_only("temp_path")

    def adopt(self, tmp: str, key: str) -> None:
        """Move a finished temp file to ``key``; a no-op if ``key`` exists with its size."""
        raise self._local_only("adopt")

    def discard(self, tmp: str) -> None:
        """Remove a temp file of :meth:`temp_path` (if it is still there)."""
        raise self._local_only("discard")

    def _local_only(self, what: str) -> UnsupportedBackendError:
        return UnsupportedBackendError(f"{what} needs a store of local files; {self.url} is not one")


def check_heads(items: dict[str, int]) -> None:
    if any(n < 1 for n in items.values()):
        raise ValueError("read_heads needs n >= 1: an empty range cannot be asked for")


def below(key: str, prefix: str) -> bool:
    """Whether ``key`` is inside the folder ``prefix`` (a file named ``prefix`` is not)."""
    return not prefix or key.startswith(prefix.rstrip("/") + "/")
