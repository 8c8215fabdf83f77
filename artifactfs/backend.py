"""The storage layer: the only module that calls fsspec or touches store files.

A :class:`Backend` is an fsspec filesystem plus a root prefix. It offers the few primitives the
rest of artifactfs needs (read, write, create-if-absent, list, transfer) and translates every
fsspec/OS error into an :mod:`artifactfs.errors` type that names the store and the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import fsspec
import fsspec.asyn
from fsspec.asyn import AsyncFileSystem
from fsspec.callbacks import DEFAULT_CALLBACK, Callback
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from .cache import copy_into_place
from .errors import (
    ArtifactFSError,
    IntegrityError,
    KeyNotFoundError,
    LocalFileError,
    LocalPathNotFoundError,
    SourceChangedError,
    StoreError,
    UnsupportedBackendError,
)
from .hashing import Digest, hash_bytes, new_file_hasher
from .layout import DESCRIPTOR
from .records import StoreDescriptor
from .settings import CONNECT_TIMEOUT_ENV, connect_timeout, storage_options_for

__all__ = ["Backend", "KeyNotFoundError", "read_source"]

_memory_lock = threading.Lock()
UPLOAD_BLOCK = 32 << 20  # a multiple of 256 KiB (GCS) above 5 MiB (S3's smallest part)
_BLOB_KEY = re.compile(r"blobs/([a-z0-9]+)/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_FLAT_BLOB = re.compile(r"blobs/([a-z0-9]+)/([0-9a-f]{2})/([0-9a-f]{64})")


class Backend:
    """Key/value access to one store root on an fsspec filesystem.

    Keys are ``/``-separated paths relative to the root. Local folders are handled with ``os``
    calls so that create-if-absent is atomic (temp file + ``os.link``) and no reader ever sees
    a partially written file.
    """

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, *, url: str, concurrency: int = 64) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.url = url
        self.concurrency = concurrency  # requests in flight at once on async backends
        self.is_async = isinstance(fs, AsyncFileSystem) and not isinstance(fs, LocalFileSystem)
        self.is_local = isinstance(fs, LocalFileSystem)
        self._is_memory = isinstance(fs, MemoryFileSystem)
        self._create_checked = self.is_local or self._is_memory
        self._dirs: set[str] = set()  # local folders known to exist
        self._flat: bool | None = None
        # What opened it (with from_url): enough for another process, a Dask worker, to reopen it.
        self.storage_options: dict[str, Any] = {}

    @classmethod
    def from_url(cls, url: str, *, concurrency: int = 64, **storage_options: Any) -> Backend:
        """Open ``url`` (a path, ``file://``, ``memory://``, ``gs://``, ``az://``, ``s3://`` ...)."""
        if "://" not in url:
            url = os.path.abspath(os.path.expanduser(url))
        if url.startswith(("gs://", "gcs://")):
            # gcsfs otherwise probes a gRPC API on every call against non-Google endpoints.
            os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        storage_options = {**storage_options_for(url), **storage_options}
        if not url.startswith(("file://", "memory://", "/")):
            # Other processes add and delete keys: fsspec's cached listings would answer
            # exists/info with what was there when this process last listed (a blob gc has
            # deleted since, say), so every question goes to the store.
            storage_options.setdefault("use_listings_cache", False)
        try:
            fs, root = fsspec.core.url_to_fs(url, **storage_options)
        except ImportError as e:
            raise StoreError(f"cannot open store {url}: missing backend package ({e})") from e
        except (ValueError, TypeError, OSError) as e:
            raise StoreError(f"cannot open store {url}: {e}") from e
        backend = cls(fs, root, url=url, concurrency=concurrency)
        backend.storage_options = storage_options
        return backend

    # ------------------------------------------------------------------ helpers
    def path(self, key: str) -> str:
        """Full filesystem path of ``key`` (a blob key is placed as the store's layout says)."""
        if key.startswith("blobs/") and self.flat_blobs:
            m = _BLOB_KEY.match(key)
            if m:
                key = f"blobs/{m[1]}/{m[2]}/{m[4]}"
        return f"{self.root}/{key}" if key else self.root

    @property
    def flat_blobs(self) -> bool:
        """Whether blobs sit in one level of folders (format 2 stores) rather than two (format 1).

        Keys are always the format 1 form ``blobs/<alg>/<ab>/<cd>/<hex>``; only paths differ,
        so every other module is blind to the layout, and copies between stores of either
        layout just work. A store without a descriptor yet will be made flat.
        """
        if self._flat is None:
            try:
                raw = self.read(DESCRIPTOR)
            except KeyNotFoundError:
                # A store to be made by this version; a writer first makes the descriptor, and
                # the Store sets the layout from whichever descriptor won (see set_layout).
                self._flat = True
                return True
            self.set_layout(raw)
        return bool(self._flat)

    def set_layout(self, descriptor: bytes) -> StoreDescriptor:
        """Take the blob layout from the store descriptor's bytes, and return it decoded.

        A descriptor that does not decode, or names a layout this release does not know, is a
        :class:`FormatError`: guessing would place (and gc would collect) blobs wrongly.
        """
        desc = StoreDescriptor.from_bytes(descriptor, f"store {self.url} ({DESCRIPTOR})")
        self._flat = desc.blob_levels == 1
        return desc

    def _key(self, relative: str) -> str:
        """The key of a file found by listing (``relative`` to the root): the inverse of :meth:`path`."""
        if relative.startswith("blobs/") and self.flat_blobs:
            m = _FLAT_BLOB.match(relative)
            if m:
                return f"blobs/{m[1]}/{m[2]}/{m[3][2:4]}/{m[3]}"
        return relative

    @contextlib.contextmanager
    def _errors(self, key: str, action: str) -> Iterator[None]:
        try:
            yield
        except ArtifactFSError:
            raise
        except FileNotFoundError as e:
            raise KeyNotFoundError(f"{key} not found in store {self.url}") from e
        except (OSError, ValueError, RuntimeError) as e:
            raise StoreError(f"{action} {key} in store {self.url} failed: {e}") from e
        except Exception as e:  # backend SDKs raise their own types (botocore, azure.core, ...)
            raise StoreError(f"{action} {key} in store {self.url} failed: {type(e).__name__}: {e}") from e

    def _makedirs(self, path: str) -> None:
        if path not in self._dirs:
            os.makedirs(path, exist_ok=True)
            self._dirs.add(path)

    def _tmp_name(self, path: str) -> str:
        return f"{path}.tmp-{uuid.uuid4().hex}"

    def _open_tmp(self, tmp: str, folder: str) -> IO[bytes]:
        try:
            return open(tmp, "wb")
        except FileNotFoundError:  # the folder was removed since we last made it
            self._dirs.discard(folder)
            self._makedirs(folder)
            return open(tmp, "wb")

    def _write_local(self, path: str, data: bytes, place: Any, sync: bool = False) -> None:
        """Write a temp file beside ``path``, then ``place(tmp, path)`` (os.replace or os.link)."""
        folder = os.path.dirname(path)
        self._makedirs(folder)
        tmp = self._tmp_name(path)
        try:
            with self._open_tmp(tmp, folder) as f:
                f.write(data)
                if sync:
                    os.fsync(f.fileno())
            place(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    # ------------------------------------------------------------------ reads
    def read(self, key: str) -> bytes:
        with self._errors(key, "reading"):
            if self.is_local:
                return Path(self.path(key)).read_bytes()
            return bytes(self.fs.cat_file(self.path(key)))

    def read_first(self, key: str) -> bytes:
        """:meth:`read` as the first contact with a remote store: the whole call, the backend
        library's own retries included, is bounded by ``$ARTIFACTFS_CONNECT_TIMEOUT`` seconds,
        so an unreachable store fails in seconds with one clear :class:`StoreError`."""
        if not self.is_async:
            return self.read(key)
        timeout = connect_timeout()

        async def bounded() -> Any:
            return await asyncio.wait_for(self.fs._cat_file(self.path(key)), timeout)

        try:
            with self._errors(key, "reading"):
                try:
                    return bytes(fsspec.asyn.sync(self.fs.loop, bounded))
                except TimeoutError:
                    raise StoreError(
                        f"store {self.url} did not answer within {timeout:g} s: check the network, the "
                        f"endpoint and the credentials (${CONNECT_TIMEOUT_ENV} sets the wait; --debug shows "
                        "the library's retries)"
                    ) from None
        except StoreError as e:
            raise StoreError(str(e)) from e.__cause__

    def read_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        """Read several keys in one batched call; absent keys map to None."""
        keys = list(keys)
        if not keys:
            return {}
        if not self.is_async:
            out: dict[str, bytes | None] = {}
            for k in keys:
                try:
                    out[k] = self.read(k)
                except KeyNotFoundError:
                    out[k] = None
            return out
        got = self._gather(keys, "reading", lambda k: self.fs._cat_file(self.path(k)))
        return {k: None if isinstance(v, FileNotFoundError) else bytes(v) for k, v in zip(keys, got, strict=True)}

    def read_heads(self, items: dict[str, int]) -> dict[str, bytes | None]:
        """The first ``n`` bytes (at most) of each key of ``items`` (key -> ``n`` >= 1), read
        concurrently; absent keys map to None. Readers of blobs of a known size ask for one
        byte more, so an oversized blob costs no more than that to refuse."""
        if not items:
            return {}
        if any(n < 1 for n in items.values()):
            raise ValueError("read_heads needs n >= 1: an empty range cannot be asked for")
        keys = list(items)
        if not self.is_async:
            out: dict[str, bytes | None] = {}
            for k in keys:
                try:
                    with self.open(k) as f:
                        out[k] = f.read(items[k])
                except KeyNotFoundError:
                    out[k] = None
            return out
        got = self._gather(keys, "reading", lambda k: self.fs._cat_file(self.path(k), start=0, end=items[k]))
        return {k: None if isinstance(v, FileNotFoundError) else bytes(v) for k, v in zip(keys, got, strict=True)}

    # ------------------------------------------------------------------ batches (async backends)
    def _gather(self, keys: list[str], action: str, make: Callable[[str], Any]) -> list[Any]:
        """Run ``make(key)`` coroutines on the filesystem's loop, ``concurrency`` at a time.

        FileNotFoundError results are returned in place; any other failure raises StoreError.
        """
        _ = self.flat_blobs  # known before the loop runs: path() cannot read the descriptor there

        async def run() -> list[Any]:
            sem = asyncio.Semaphore(self.concurrency)

            async def one(key: str) -> Any:
                async with sem:
                    return await make(key)

            return await asyncio.gather(*(one(k) for k in keys), return_exceptions=True)

        results = fsspec.asyn.sync(self.fs.loop, run)
        for key, r in zip(keys, results, strict=True):
            if isinstance(r, BaseException) and not isinstance(r, FileNotFoundError):
                with self._errors(key, action):
                    raise r
        return list(results)

    def sizes_below(self, prefixes: list[str]) -> dict[str, int]:
        """key -> size of every file below each prefix, listed concurrently."""
        out: dict[str, int] = {}
        if not self.is_async:
            for p in prefixes:
                out.update({k: size for k, (size, _) in self.walk(p).items()})
            return out
        strip = len(self.fs._strip_protocol(self.root)) + 1

        for found in self._gather(prefixes, "listing", lambda p: self.fs._find(self.path(p), detail=True)):
            if isinstance(found, FileNotFoundError):
                continue
            for path, info in found.items():
                if info.get("type") != "directory":
                    out[self._key(path.rstrip("/")[strip:])] = int(info.get("size") or 0)
        return out

    def existing(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` exist, checked concurrently."""
        return set(self.sizes(keys))

    def sizes(self, keys: list[str]) -> dict[str, int]:
        """key -> size of those of ``keys`` that exist, checked concurrently."""
        if not self.is_async:
            out = {}
            for k in keys:
                with contextlib.suppress(KeyNotFoundError):
                    out[k] = self.size(k)
            return out
        found = self._gather(keys, "checking", lambda k: self.fs._info(self.path(k)))
        return {
            k: int(r.get("size") or 0) for k, r in zip(keys, found, strict=True) if not isinstance(r, FileNotFoundError)
        }

    def put_files(self, pairs: list[tuple[str, str]], callback: Callback | None = None) -> None:
        """Upload (local path, key) pairs concurrently; each key appears whole or not at all."""
        if not pairs:
            return
        if not self.is_async:
            for local, key in pairs:
                self.put_file(local, key)
                if callback is not None:
                    callback.relative_update(1)
            return
        with self._errors(pairs[0][1], "uploading"):
            self.fs.put(
                [p[0] for p in pairs],
                [self.path(p[1]) for p in pairs],
                batch_size=self.concurrency,
                callback=callback or DEFAULT_CALLBACK,
            )

    def write_many(self, items: dict[str, bytes], callback: Callback | None = None) -> None:
        """Write several whole keys concurrently (each appears whole or not at all)."""
        if not self.is_async:
            for key, data in items.items():
                self.write(key, data)
                if callback is not None:
                    callback.relative_update(1)
            return
        keys = list(items)

        async def pipe(key: str) -> None:
            await self.fs._pipe_file(self.path(key), items[key])
            if callback is not None:
                callback.relative_update(1)

        self._gather(keys, "writing", pipe)

    def upload_verified(self, local: str, key: str, digest: Digest, size: int) -> None:
        """Upload the local file ``local`` to ``key``, hashing every byte sent on the way.

        ``key`` appears only if the bytes sent are ``size`` long and hash to ``digest``;
        otherwise the upload is abandoned before the backend commits it (the multipart,
        resumable or block upload is aborted) and :class:`SourceChangedError` names the file.
        So a file rewritten between its hashing and its upload is never stored under a digest
        its bytes do not match. Memory stays bounded (one block in flight) whatever the size.
        """
        try:
            src = open(local, "rb")  # noqa: SIM115 (closed below, on every path)
        except FileNotFoundError as e:
            raise LocalPathNotFoundError(f"{local} was removed before it could be logged") from e
        except OSError as e:
            raise LocalFileError(f"cannot read {local}: {e.strerror or e}") from e
        with src, self._errors(key, "uploading"):
            if not self.is_async:  # memory: one buffer, written whole once it is checked
                data = _read_at_most(src, local, size + 1)
                _check_source(local, data, digest, size)
                self.fs.pipe_file(self.path(key), data)
                return
            out = self.fs.open(self.path(key), "wb", block_size=UPLOAD_BLOCK)
            try:
                h = new_file_hasher(digest.algorithm)
                sent = 0
                while sent <= size and (chunk := _read_at_most(src, local, min(UPLOAD_BLOCK, size + 1 - sent))):
                    h.update(chunk)
                    sent += len(chunk)
                    if sent <= size:
                        out.write(chunk)
                got = Digest(digest.algorithm, h.hexdigest())
                if sent != size or got != digest:
                    raise SourceChangedError(_changed(local, digest, size, got, sent))
            except BaseException:
                _abandon(out)
                raise
            out.close()

    def exists(self, key: str) -> bool:
        """Whether the file ``key`` exists."""
        with self._errors(key, "checking"):
            if self.is_local:
                return os.path.exists(self.path(key))
            if self._is_memory:
                # MemoryFileSystem.exists scans every key of the process; files are a dict lookup.
                return self.fs._strip_protocol(self.path(key)) in self.fs.store
            return bool(self.fs.exists(self.path(key)))

    def size(self, key: str) -> int:
        with self._errors(key, "checking"):
            if self.is_local:
                return os.path.getsize(self.path(key))
            if self._is_memory:
                found = self.fs.store.get(self.fs._strip_protocol(self.path(key)))
                if found is None:
                    raise FileNotFoundError(key)
                return int(found.size)
            return int(self.fs.size(self.path(key)))

    def listdir(self, prefix: str) -> list[str]:
        """Names directly below ``prefix`` (files and folders), sorted; [] if it does not exist."""
        path = self.path(prefix)
        with self._errors(prefix, "listing"):
            if self.is_local:
                try:
                    names = os.listdir(path)
                except (FileNotFoundError, NotADirectoryError):
                    return []
                return sorted(n for n in names if ".tmp-" not in n)
            self.fs.invalidate_cache(path)
            try:
                found = self.fs.ls(path, detail=False)
            except FileNotFoundError:
                return []
        found_names = {p.rstrip("/").rsplit("/", 1)[-1] for p in found if p.rstrip("/") != path.rstrip("/")}
        return sorted(n for n in found_names if n and ".tmp-" not in n)

    def walk(self, prefix: str) -> dict[str, tuple[int, float]]:
        """Every file below ``prefix``: key -> (size, modified time as epoch seconds)."""
        out: dict[str, tuple[int, float]] = {}
        base = self.path(prefix)
        with self._errors(prefix, "listing"):
            if self.is_local:
                for dirpath, _, filenames in os.walk(base):
                    rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
                    rel = "" if rel == "." else rel + "/"
                    for f in filenames:
                        try:
                            st = os.stat(os.path.join(dirpath, f))
                        except FileNotFoundError:
                            continue
                        out[self._key(f"{rel}{f}")] = (st.st_size, st.st_mtime)
                return out
            self.fs.invalidate_cache(base)
            try:
                found = self.fs.find(base, detail=True)
            except FileNotFoundError:
                return out
        for path, info in found.items():
            if info.get("type") == "directory":
                continue
            key = self._key(path.rstrip("/")[len(self.fs._strip_protocol(self.root)) + 1 :])
            out[key] = (int(info.get("size") or 0), _mtime(info))
        return out

    def refresh(self, key: str, size: int) -> bool:
        """Whether the local file ``key`` exists with ``size`` bytes, refreshing its modified
        time if so.

        Re-used blobs are kept young so that a concurrent gc's grace period does not expire them
        under a commit that relies on them. A blob of another size is not re-used (the caller
        writes it again), so a damaged blob never spreads to new versions.
        """
        assert self.is_local
        path = self.path(key)
        with self._errors(key, "touching"):
            try:
                os.utime(path)
                return os.stat(path).st_size == size
            except FileNotFoundError:
                return False

    def modified(self, key: str) -> float | None:
        """Modified time (epoch seconds) of the local file ``key``; None if it is gone."""
        assert self.is_local
        try:
            return os.stat(self.path(key)).st_mtime
        except FileNotFoundError:
            return None

    def open(self, key: str, *, exact_ranges: bool = False) -> IO[bytes]:
        """A seekable binary file for ``key`` (remote backends read by byte range).

        ``exact_ranges`` turns off fsspec's read-ahead, for callers that already read in
        blocks of their own (each read is then exactly one ranged request).
        """
        with self._errors(key, "opening"):
            if self.is_local:
                return open(self.path(key), "rb")
            if exact_ranges:
                return self.fs.open(self.path(key), "rb", cache_type="none")  # type: ignore[no-any-return]
            return self.fs.open(self.path(key), "rb")  # type: ignore[no-any-return]

    def open_sized(self, key: str, size: int) -> IO[bytes]:
        """Read ``key``, which must hold exactly ``size`` bytes, from start to end.

        Its size is asked first: a key of another size is refused before any of its bytes is
        read (:class:`IntegrityError` naming it), and no read goes past ``size``. Remote keys
        are read in ranges of :data:`UPLOAD_BLOCK`, one request each.
        """
        found = self.sizes([key]).get(key)
        if found is None:
            raise KeyNotFoundError(f"{key} not found in store {self.url}")
        if found != size:
            raise IntegrityError(f"{key} in store {self.url} holds {found} bytes, not the {size} recorded")
        if not self.is_async:
            return self.open(key)
        return io.BufferedReader(_RangeReader(self, key, size), buffer_size=UPLOAD_BLOCK)

    # ------------------------------------------------------------------ writes
    def write(self, key: str, data: bytes) -> None:
        """Write ``key`` whole, replacing any previous value; readers see old or new, never half."""
        path = self.path(key)
        with self._errors(key, "writing"):
            if self.is_local:
                self._write_local(path, data, os.replace)
            else:
                self.fs.pipe_file(path, data)

    def create(self, key: str, data: bytes) -> bool:
        """Write ``key`` only if it does not exist; True if this call created it.

        Atomic on every supported backend: exactly one of any number of concurrent callers wins.
        """
        path = self.path(key)
        with self._errors(key, "creating"):
            if self.is_local:
                try:
                    # link(2) fails atomically if path exists, and the file is never partially visible.
                    self._write_local(path, data, os.link, sync=True)
                    return True
                except FileExistsError:
                    return False
            if self._is_memory:
                with _memory_lock:
                    if self.exists(key):
                        return False
                    self.fs.pipe_file(path, data)
                    return True
            self._check_create()
            try:
                self.fs.pipe_file(path, data, mode="create")
                return True
            except FileExistsError:
                return False

    def _check_create(self) -> None:
        """Once per backend: prove that a second create of the same key fails."""
        if self._create_checked:
            return
        key = f"tmp/create-probe-{uuid.uuid4().hex}"
        path = self.path(key)
        self.fs.pipe_file(path, b"1", mode="create")
        try:
            self.fs.pipe_file(path, b"2", mode="create")
        except FileExistsError:
            self._create_checked = True
            return
        finally:
            with contextlib.suppress(Exception):
                self.fs.rm_file(path)
        raise UnsupportedBackendError(
            f"store {self.url}: {type(self.fs).__name__} overwrote an existing key on a create-only "
            "write, so concurrent writers could take the same version; upgrade the fsspec backend "
            "package (and use a server that honours If-None-Match / ifGenerationMatch=0)"
        )

    # Local stores only: stream a new blob into a temp file, then rename it into place.
    def temp_path(self) -> str:
        """A fresh temp file path inside the store (local stores only)."""
        assert self.is_local
        d = self.path("tmp")
        self._makedirs(d)
        return os.path.join(d, f"blob.tmp-{uuid.uuid4().hex}")

    def adopt(self, tmp: str, key: str) -> None:
        """Move a finished temp file to ``key`` (local stores only); a no-op if ``key`` exists
        with the same size (it is then only refreshed, see :meth:`refresh`)."""
        path = self.path(key)
        with self._errors(key, "writing"):
            if self.refresh(key, os.path.getsize(tmp)):
                return
            self._makedirs(os.path.dirname(path))
            os.replace(tmp, path)

    def discard(self, tmp: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)

    def put_file(self, local: str | os.PathLike[str], key: str) -> None:
        """Upload a local file to ``key``; the key never holds a partial file."""
        path = self.path(key)
        with self._errors(key, "uploading"):
            if self.is_local:
                self._makedirs(os.path.dirname(path))
                copy_into_place(local, path)
            else:
                self.fs.put_file(os.fspath(local), path)

    def delete(self, key: str) -> None:
        with self._errors(key, "deleting"):
            if self.is_local:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path(key))
            else:
                with contextlib.suppress(FileNotFoundError):
                    self.fs.rm_file(self.path(key))


class _RangeReader(io.RawIOBase):
    """``size`` bytes of a remote key, front to back, one ranged request per block."""

    def __init__(self, backend: Backend, key: str, size: int) -> None:
        super().__init__()
        self.backend, self.key, self.size, self.pos = backend, key, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        end = min(self.size, self.pos + len(buffer), self.pos + UPLOAD_BLOCK)
        if end <= self.pos:
            return 0
        with self.backend._errors(self.key, "reading"):
            data = self.backend.fs.cat_file(self.backend.path(self.key), start=self.pos, end=end)
        n = len(data)
        memoryview(buffer)[:n] = data
        self.pos += n
        return n


def _read_at_most(src: IO[bytes], local: str, n: int) -> bytes:
    try:
        return src.read(n)
    except OSError as e:
        raise LocalFileError(f"cannot read {local}: {e.strerror or e}") from e


def _changed(local: str, digest: Digest, size: int, got: Digest, sent: int) -> str:
    now = f"{sent} bytes" if sent != size else f"digest {got.short}"
    return (
        f"{local} changed while it was being logged (hashed as {digest.short}, {size} bytes; "
        f"read again: {now}); nothing was stored for it: log it again once it is complete"
    )


def read_source(local: str, digest: Digest, size: int) -> bytes:
    """The bytes of a local file hashed earlier as ``digest`` (``size`` bytes), read again and
    checked: :class:`SourceChangedError` if the file changed since."""
    try:
        with open(local, "rb") as src:
            data = _read_at_most(src, local, size + 1)
    except FileNotFoundError as e:
        raise LocalPathNotFoundError(f"{local} was removed before it could be logged") from e
    except OSError as e:
        raise LocalFileError(f"cannot read {local}: {e.strerror or e}") from e
    _check_source(local, data, digest, size)
    return data


def _check_source(local: str, data: bytes, digest: Digest, size: int) -> None:
    got = hash_bytes(data, digest.algorithm)
    if len(data) != size or got != digest:
        raise SourceChangedError(_changed(local, digest, size, got, len(data)))


def _abandon(out: Any) -> None:
    """Throw away a write-mode fsspec file without committing it (no key appears)."""
    with contextlib.suppress(Exception):
        out.discard()  # aborts a multipart (S3) or resumable (GCS) upload already begun
    out.forced = True  # so close() does not flush the rest; Azure's staged blocks stay uncommitted
    with contextlib.suppress(Exception):
        out.close()


def _mtime(info: dict[str, Any]) -> float:
    """Modified time from an fsspec info dict, whatever the backend calls it (0 if unknown)."""
    import datetime as dt

    for k in ("mtime", "LastModified", "last_modified", "updated", "created", "timeCreated"):
        v = info.get(k)
        if v is None:
            continue
        if isinstance(v, int | float):
            return float(v)
        if isinstance(v, dt.datetime):
            return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).timestamp()
        if isinstance(v, str):
            try:
                parsed = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                continue
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()
    return 0.0
