"""The backend of a store on any fsspec filesystem: cloud object stores and ``memory://``.

On asynchronous filesystems (gcsfs, adlfs, s3fs) every batched call fans out on the
filesystem's event loop, ``concurrency`` requests at a time. Create-if-absent is the
backend's conditional write (``If-None-Match`` / ``ifGenerationMatch=0``), proved once per
backend; ``memory://`` creates under a lock. Uploads of blobs are streamed in blocks and
hashed on the way (resumable on clouds: backend_resume); a mismatch aborts before the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import IO, Any

import fsspec
import fsspec.asyn
from fsspec.asyn import AsyncFileSystem
from fsspec.callbacks import DEFAULT_CALLBACK, Callback
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from . import backend_base
from .backend_base import BaseBackend, below, check_heads
from .backend_calls import abandon, details, mtime, names_below, size_of, whole
from .backend_local import LocalBackend
from .backend_resume import upload_resumable
from .errors import StoreError, UnsupportedBackendError
from .hashing import Digest
from .reach import check_reachable
from .settings import CONNECT_TIMEOUT_ENV, connect_timeout
from .sources import check_source, copy_checked, open_source, read_at_most

__all__ = ["FsspecBackend", "MemoryBackend", "open_filesystem"]

_memory_lock = threading.Lock()


def open_filesystem(url: str, concurrency: int, options: dict[str, Any]) -> BaseBackend:
    """The backend of the store at ``url`` (a path or any fsspec URL), ``options`` for its fs."""
    if url.startswith(("gs://", "gcs://")):
        # gcsfs otherwise probes a gRPC API on every call against non-Google endpoints.
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    if not url.startswith(("file://", "memory://", "/")):
        # Other processes add and delete keys: fsspec's cached listings would answer
        # exists/info with what was there when this process last listed (a blob gc has
        # deleted since, say), so every question goes to the store.
        options.setdefault("use_listings_cache", False)
    try:
        fs, root = fsspec.core.url_to_fs(url, **options)
    except ImportError as e:
        raise StoreError(f"cannot open store {url}: missing backend package ({e})") from e
    except (ValueError, TypeError, OSError) as e:
        raise StoreError(f"cannot open store {url}: {e}") from e
    if isinstance(fs, LocalFileSystem):
        local = LocalBackend(root, url=url, concurrency=concurrency)
        local.fs = fs
        return local
    if isinstance(fs, MemoryFileSystem):
        return MemoryBackend(fs, root, url=url, concurrency=concurrency)
    return FsspecBackend(fs, root, url=url, concurrency=concurrency)


_CREATE_CHECKED: set[tuple[type, str]] = set()  # (filesystem class, store root) proven


class FsspecBackend(BaseBackend):
    """A store root on an fsspec filesystem."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, *, url: str, concurrency: int = 64) -> None:
        super().__init__(root, url=url, concurrency=concurrency)
        self._fs = fs
        self.concurrent = isinstance(fs, AsyncFileSystem)
        self._create_checked = False

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        """The filesystem: a store known to be offline is refused here, before any connection."""
        check_reachable(self.url)
        return self._fs

    def _relative(self, path: str) -> str:
        return self.key_of(path.rstrip("/")[len(self.fs._strip_protocol(self.root)) + 1 :])

    # ------------------------------------------------------------------ batches
    def _gather(self, keys: list[str], action: str, make: Callable[[str, str], Any]) -> list[Any]:
        """Run ``make(key, path)`` coroutines on the filesystem's loop, ``concurrency`` at a time.

        FileNotFoundError results are returned in place; any other failure raises StoreError.
        """
        # Placed before the loop runs: placing a blob key may read the descriptor, which
        # cannot be done from within the loop.
        paths = [self.path(k) for k in keys]

        async def run() -> list[Any]:
            sem = asyncio.Semaphore(self.concurrency)

            async def one(key: str, path: str) -> Any:
                async with sem:
                    return await make(key, path)

            return await asyncio.gather(*(one(k, p) for k, p in zip(keys, paths, strict=True)), return_exceptions=True)

        results = fsspec.asyn.sync(self.fs.loop, run)
        for key, r in zip(keys, results, strict=True):
            if isinstance(r, BaseException) and not isinstance(r, FileNotFoundError):
                with self.errors(key, action):
                    raise r
        return list(results)

    # ------------------------------------------------------------------ reads
    def read(self, key: str) -> bytes:
        if not self.concurrent:
            with self.errors(key, "reading"):
                return bytes(self.fs.cat_file(self.path(key)))
        got = self._gather([key], "reading", lambda k, path: whole(self.fs, path))[0]
        if isinstance(got, FileNotFoundError):
            with self.errors(key, "reading"):
                raise got
        return bytes(got)

    def read_first(self, key: str) -> bytes:
        """The whole call, the backend library's own retries included, is bounded by
        ``$ARTIFACTFS_CONNECT_TIMEOUT`` seconds, so an unreachable store fails in seconds
        with one clear :class:`StoreError`."""
        if not self.concurrent:
            return self.read(key)
        timeout = connect_timeout()
        path, fs = self.path(key), self.fs  # (a store known offline is refused here, as it is)

        async def bounded() -> Any:
            return await asyncio.wait_for(whole(fs, path), timeout)

        try:
            with self.errors(key, "reading"):
                try:
                    return bytes(fsspec.asyn.sync(fs.loop, bounded))
                except TimeoutError:
                    raise StoreError(
                        f"store {self.url} did not answer within {timeout:g} s: check the network, the "
                        f"endpoint and the credentials (${CONNECT_TIMEOUT_ENV} sets the wait; --debug shows "
                        "the library's retries)"
                    ) from None
        except StoreError as e:
            raise StoreError(str(e)) from e.__cause__

    def read_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        keys = list(keys)
        if not self.concurrent or not keys:
            return super().read_many(keys)
        got = self._gather(keys, "reading", lambda k, path: whole(self.fs, path))
        return {k: None if isinstance(v, FileNotFoundError) else bytes(v) for k, v in zip(keys, got, strict=True)}

    def read_heads(self, items: dict[str, int]) -> dict[str, bytes | None]:
        if not self.concurrent or not items:
            return super().read_heads(items)
        check_heads(items)

        async def head(key: str, path: str) -> Any:
            try:
                return await self.fs._cat_file(path, start=0, end=items[key])
            except FileNotFoundError:
                raise
            except Exception:
                # An empty object has no byte 0 to range over (HTTP 416); any other failure
                # is raised as it was.
                if await size_of(self.fs, path) == 0:
                    return b""
                raise

        keys = list(items)
        got = self._gather(keys, "reading", head)
        return {
            k: None if isinstance(v, FileNotFoundError) else bytes(v)[: items[k]]
            for k, v in zip(keys, got, strict=True)
        }

    def read_ranges(self, ranges: dict[str, list[tuple[int, int]]]) -> dict[str, list[bytes] | None]:
        if not self.concurrent or not ranges:
            return super().read_ranges(ranges)

        async def parts(key: str, path: str) -> Any:
            return await asyncio.gather(*(self.fs._cat_file(path, start=a, end=b) for a, b in ranges[key]))

        keys = list(ranges)
        got = self._gather(keys, "reading", parts)
        return {
            k: None if isinstance(v, FileNotFoundError) else [bytes(b) for b in v]
            for k, v in zip(keys, got, strict=True)
        }

    def sizes(self, keys: list[str]) -> dict[str, int]:
        if not self.concurrent:
            out = {}
            for k in keys:
                with self.errors(k, "checking"), contextlib.suppress(FileNotFoundError):
                    out[k] = int(self.fs.size(self.path(k)))
            return out
        found = self._gather(keys, "checking", lambda k, path: size_of(self.fs, path))
        return {k: int(r) for k, r in zip(keys, found, strict=True) if not isinstance(r, FileNotFoundError)}

    def exists(self, key: str) -> bool:
        if self.concurrent:
            return bool(self.sizes([key]))
        with self.errors(key, "checking"):
            return bool(self.fs.exists(self.path(key)))

    def listdir(self, prefix: str) -> list[str]:
        path = self.path(prefix)
        if self.concurrent:
            found = self._gather([prefix], "listing", lambda k, p: names_below(self.fs, p))[0]
            found = [] if isinstance(found, FileNotFoundError) else found
        else:
            with self.errors(prefix, "listing"):
                self.fs.invalidate_cache(path)
                try:
                    found = self.fs.ls(path, detail=False)
                except FileNotFoundError:
                    return []
        base = self.fs._strip_protocol(path).rstrip("/")
        names = {p.rstrip("/").rsplit("/", 1)[-1] for p in found if self.fs._strip_protocol(p).rstrip("/") != base}
        return sorted(n for n in names if n and ".tmp-" not in n)

    def walk(self, prefix: str) -> dict[str, tuple[int, float]]:
        out: dict[str, tuple[int, float]] = {}
        base = self.path(prefix)
        with self.errors(prefix, "listing"):
            self.fs.invalidate_cache(base)
            try:
                found = self.fs.find(base, detail=True)
            except FileNotFoundError:
                return out
            for path, info in details(found).items():
                key = self._relative(path)
                if info.get("type") != "directory" and below(key, prefix):
                    out[key] = (int(info.get("size") or 0), mtime(info))
        return out

    def sizes_below(self, prefixes: list[str]) -> dict[str, int]:
        if not self.concurrent:
            return super().sizes_below(prefixes)
        out: dict[str, int] = {}
        for prefix, found in zip(
            prefixes, self._gather(prefixes, "listing", lambda p, path: self.fs._find(path, detail=True)), strict=True
        ):
            if isinstance(found, FileNotFoundError):
                continue
            with self.errors(prefix, "listing"):
                for path, info in details(found).items():
                    key = self._relative(path)
                    if info.get("type") != "directory" and below(key, prefix):
                        out[key] = int(info.get("size") or 0)
        return out

    def open(self, key: str, *, exact_ranges: bool = False) -> IO[bytes]:
        with self.errors(key, "opening"):
            if exact_ranges:
                return self.fs.open(self.path(key), "rb", cache_type="none")  # type: ignore[no-any-return]
            return self.fs.open(self.path(key), "rb")  # type: ignore[no-any-return]

    def open_sized(self, key: str, size: int, start: int = 0) -> IO[bytes]:
        """As :meth:`BaseBackend.open_sized`; remote keys are read in ranges of
        :data:`UPLOAD_BLOCK`, one request each."""
        if not self.concurrent:
            return super().open_sized(key, size, start)
        self.check_size(key, size)  # (opening the file would ask its size a second time)
        return io.BufferedReader(_RangeReader(self, key, size, start), buffer_size=backend_base.UPLOAD_BLOCK)

    # ------------------------------------------------------------------ writes
    def write(self, key: str, data: bytes) -> None:
        with self.errors(key, "writing"):
            self.fs.pipe_file(self.path(key), data)

    def write_many(self, items: dict[str, bytes], callback: Callback | None = None) -> None:
        if not self.concurrent or not items:
            return super().write_many(items, callback)

        async def pipe(key: str, path: str) -> None:
            await self.fs._pipe_file(path, items[key])
            if callback is not None:
                callback.relative_update(1)

        self._gather(list(items), "writing", pipe)

    def create(self, key: str, data: bytes) -> bool:
        path = self.path(key)
        with self.errors(key, "creating"):
            self._check_create()
            try:
                self.fs.pipe_file(path, data, mode="create")
                return True
            except FileExistsError:
                return False

    def _check_create(self) -> None:
        """Once per process and store root: prove that a second create of the same key fails."""
        if self._create_checked or (type(self.fs), self.root) in _CREATE_CHECKED:
            return
        path = self.path(f"tmp/create-probe-{uuid.uuid4().hex}")
        self.fs.pipe_file(path, b"1", mode="create")
        try:
            self.fs.pipe_file(path, b"2", mode="create")
        except FileExistsError:
            self._create_checked = True
            _CREATE_CHECKED.add((type(self.fs), self.root))
            return
        finally:
            with contextlib.suppress(Exception):
                self.fs.rm_file(path)
        raise UnsupportedBackendError(
            f"store {self.url}: {type(self.fs).__name__} overwrote an existing key on a create-only "
            "write, so concurrent writers could take the same version; upgrade the fsspec backend "
            "package (and use a server that honours If-None-Match / ifGenerationMatch=0)"
        )

    def put_file(self, local: str | os.PathLike[str], key: str) -> None:
        open_source(os.fspath(local)).close()  # a missing or unreadable file is named as the user's
        with self.errors(key, "uploading"):
            self.fs.put_file(os.fspath(local), self.path(key))

    def put_files(self, pairs: list[tuple[str, str]], callback: Callback | None = None) -> None:
        if not self.concurrent or not pairs:
            return super().put_files(pairs, callback)
        for local, _ in pairs:
            open_source(local).close()
        with self.errors(pairs[0][1], "uploading"):
            self.fs.put(
                [p[0] for p in pairs],
                [self.path(p[1]) for p in pairs],
                batch_size=self.concurrency,
                callback=callback or DEFAULT_CALLBACK,
            )

    def upload_verified(self, local: str, key: str, digest: Digest, size: int) -> None:
        if self.concurrent and size > backend_base.UPLOAD_BLOCK:  # in blocks that outlive the process
            with self.errors(key, "uploading"):
                if upload_resumable(self.fs, self.path(key), local, digest, size, backend_base.UPLOAD_BLOCK):
                    return
        with open_source(local) as src, self.errors(key, "uploading"):
            if not self.concurrent:  # one buffer, written whole once it is checked
                data = read_at_most(src, local, size + 1)
                check_source(local, data, digest, size)
                self.fs.pipe_file(self.path(key), data)
                return
            out = self.fs.open(self.path(key), "wb", block_size=backend_base.UPLOAD_BLOCK)
            try:
                copy_checked(src, local, out, digest, size, backend_base.UPLOAD_BLOCK)
            except BaseException:
                abandon(out)
                raise
            out.close()

    def delete(self, key: str) -> None:
        with self.errors(key, "deleting"), contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.path(key))


class MemoryBackend(FsspecBackend):
    """``memory://``: one process's dictionary, for tests and examples."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, *, url: str, concurrency: int = 64) -> None:
        super().__init__(fs, root, url=url, concurrency=concurrency)
        self._create_checked = True

    def _stored(self, key: str) -> Any:
        # MemoryFileSystem.exists and size scan every key of the process; files are a dict lookup.
        return self.fs.store.get(self.fs._strip_protocol(self.path(key)))

    def exists(self, key: str) -> bool:
        return self._stored(key) is not None

    def sizes(self, keys: list[str]) -> dict[str, int]:
        return {k: int(found.size) for k in keys if (found := self._stored(k)) is not None}

    def put_file(self, local: str | os.PathLike[str], key: str) -> None:
        # fsspec's copy would show readers a growing file; a value is set in one step.
        with open_source(os.fspath(local)) as src:
            data = read_at_most(src, os.fspath(local), -1)
        self.write(key, data)

    def create(self, key: str, data: bytes) -> bool:
        with _memory_lock, self.errors(key, "creating"):
            if self.exists(key):
                return False
            self.fs.pipe_file(self.path(key), data)
            return True


class _RangeReader(io.RawIOBase):
    """``size`` bytes of a remote key, front to back, one ranged request per block."""

    def __init__(self, backend: FsspecBackend, key: str, size: int, start: int = 0) -> None:
        super().__init__()
        self.backend, self.key, self.size, self.pos = backend, key, size, start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        end = min(self.size, self.pos + len(buffer), self.pos + backend_base.UPLOAD_BLOCK)
        if end <= self.pos:
            return 0
        with self.backend.errors(self.key, "reading"):
            data = self.backend.fs.cat_file(self.backend.path(self.key), start=self.pos, end=end)
        n = len(data)
        memoryview(buffer)[:n] = data
        self.pos += n
        return n

    def readall(self) -> bytes:
        """The rest, one block per request (not one per default buffer of 8 KiB)."""
        parts = []
        while chunk := self.read(backend_base.UPLOAD_BLOCK):
            parts.append(chunk)
        return b"".join(parts)
