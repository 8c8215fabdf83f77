"""The blob reader: every read of a store's blobs, each byte verified before it is used.

A :class:`BlobReader` gives a blob as a stream (the store's own file when local, else the
machine's cache, fetched and verified first), as a verified local file (hashed whole just
now), or in verified byte ranges (tables with block digests: only the row groups asked for are
fetched). :class:`EntrySource` is one entry's bytes, handed to the tables that read them. How a
whole blob is judged is one function, :func:`hashing.matches`.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from . import layout
from .backend import Backend, open_backend
from .cache import BlobCache
from .errors import (
    ArtifactFSError,
    FormatError,
    IntegrityError,
    KeyNotFoundError,
    LocalFileError,
    PurgedError,
    local_file_error,
)
from .hashing import Digest, matches
from .manifest import Entry, Location
from .packing import PackSet, read_packed
from .purge_records import purged_error, read_purges
from .settings import CACHE_ENV, default_cache_dir
from .statcache import StatCache
from .verified import VerifiedReader

__all__ = ["BlobReader", "EntrySource"]


class BlobReader:
    """Verified reads of the blobs of the store behind ``backend``, through ``cache``."""

    def __init__(
        self,
        backend: Backend,
        cache: BlobCache,
        *,
        stat_cache: StatCache | None = None,
        workers: int = 8,
        packs: PackSet | None = None,
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.packs = packs if packs is not None else PackSet(backend)
        self.stat_cache = stat_cache if stat_cache is not None else StatCache(cache.db("stat.sqlite3"))
        self.workers = workers

    @classmethod
    def open(cls, url: str, options: dict[str, Any]) -> BlobReader:
        """A reader of the store at ``url`` with this machine's default cache (Dask workers)."""
        return cls(open_backend(url, **options), BlobCache(default_cache_dir()))

    @property
    def url(self) -> str:
        return self.backend.url

    def local_error(self, e: OSError, dest: object) -> LocalFileError:
        """A local failure while writing a download or the cache, as a LocalFileError naming it."""
        cache = os.fspath(self.cache.root)
        if any(isinstance(f, str) and f.startswith(cache) for f in (e.filename, e.filename2)):
            advice = f"set ${CACHE_ENV} to a writable folder with free space"
            return local_file_error(e, "write to the blob cache at", cache, f"{e.strerror or e}: {advice}")
        return local_file_error(e, "download into", e.filename or dest)

    def source(self, digest: Digest, size: int, what: str, where: Location | None = None) -> IO[bytes]:
        """A readable source of a blob of ``size`` bytes: the store itself when local, else its
        cached copy, fetched (and verified, reading at most ``size + 1`` bytes) if absent;
        ``where`` is its place in a pack (one ranged read)."""
        key = layout.blob(digest)
        try:
            if self.backend.local_files and where is None:
                return self.backend.open(key)
            path = self.cache.file(digest)
            for _ in range(3):  # another process may evict it between fetching and opening
                if not os.path.isfile(path):
                    self.cache.make_room(size, keep=(digest,))
                if not os.path.isfile(path) and where is not None and size:
                    got = dict(read_packed(self.backend, {digest: (where, what)}, packs=self.packs))[digest]
                    if got is not None:
                        self.cache.add(io.BytesIO(got), digest, size, f"{what} (in pack {layout.pack(where.pack)})")
                if not os.path.isfile(path):
                    self.cache.fetch(
                        lambda start: self.backend.open_sized(key, size, start),
                        digest,
                        size,
                        f"{what} (store key {key})",
                    )
                with contextlib.suppress(FileNotFoundError):
                    f = open(path, "rb")  # noqa: SIM115 (the caller closes it)
                    self.cache.used([(digest, size)])
                    return f
            raise LocalFileError(
                f"{what}: evicted from the blob cache at {self.cache.root} three times before it was read"
            )
        except IntegrityError as e:
            raise IntegrityError(f"{what}: {e}") from None
        except OSError as e:
            if isinstance(e, ArtifactFSError):
                raise
            raise self.local_error(e, self.cache.root) from e
        except KeyNotFoundError:
            raise IntegrityError(f"{what}: blob {key} is missing from store {self.url}") from None

    def verified_file(self, digest: Digest, size: int, what: str, where: Location | None = None) -> str:
        """The blob as a local file, hashed whole just now: the store's own file when local,
        else the cached copy (fetched if absent; a corrupt one is evicted and fetched again)."""
        if self.backend.local_files and where is None:
            path = self.backend.path(layout.blob(digest))
            try:
                with open(path, "rb") as f:
                    ok = matches(f, digest, size)
            except FileNotFoundError:
                raise IntegrityError(f"{what}: blob is missing from store {self.url}") from None
            if not ok:
                raise IntegrityError(f"{what}: blob does not match its digest")
            return path
        for attempt in (0, 1):
            with self.source(digest, size, what, where) as src:
                if matches(src, digest, size):
                    return self.cache.file(digest)
            self.cache.evict(digest)  # changed since it was cached: fetch it again from the store
            if attempt:
                break
        raise IntegrityError(f"{what}: blob in store {self.url} does not match its digest")

    def open_whole(self, digest: Digest, size: int, what: str, where: Location | None = None) -> IO[bytes]:
        """Open a blob for reading from the start, hashed whole first through the very handle
        returned (what is read is what was checked): the store's own file when local, else the
        cached copy, fetched if absent; a corrupt cached copy is evicted and fetched again once.
        ``where`` is its place in a pack."""
        for attempt in (0, 1):
            f = self.source(digest, size, what, where)
            try:
                if matches(f, digest, size):
                    f.seek(0)
                    return f
            except BaseException:
                f.close()
                raise
            f.close()
            if attempt or (self.backend.local_files and where is None):
                break
            self.cache.evict(digest)  # changed since it was cached: fetch it again from the store
        raise IntegrityError(f"{what}: blob in store {self.url} does not match its digest")

    def open_blocks(self, digest: Digest, size: int, blocks: dict[str, Any], what: str) -> IO[bytes]:
        """Open a blob whose block digests are ``blocks``; every block is verified as it is read,
        from the cached copy if there is one (falling back to the store if it is corrupt)."""
        block, digests = blocks.get("size"), blocks.get("digests")
        if not isinstance(block, int) or not isinstance(digests, bytes):
            raise FormatError(f"{what}: malformed block digests")
        key = layout.blob(digest)

        def from_store() -> IO[bytes]:
            try:
                return self.backend.open(key, exact_ranges=True)
            except KeyNotFoundError:
                raise IntegrityError(f"{what}: blob is missing from store {self.url}") from None

        def from_store_evicting_cache() -> IO[bytes]:
            self.cache.evict(digest)  # the cached copy is corrupt
            return from_store()

        raw: IO[bytes] | None = None
        fallback: Callable[[], IO[bytes]] | None = None
        if not self.backend.local_files:
            with contextlib.suppress(FileNotFoundError):  # not cached, or evicted just now
                raw, fallback = open(self.cache.file(digest), "rb"), from_store_evicting_cache  # noqa: SIM115
                self.cache.used([(digest, size)])
        if raw is None:
            raw = from_store()
        reader = VerifiedReader(raw, size, block, digests, digest.algorithm, what, fallback=fallback)
        return io.BufferedReader(reader, buffer_size=block)

    def purged(self, qualified: str, entry: Entry) -> PurgedError | None:
        """The error saying ``entry``'s bytes were purged, if a purge record says so: read
        only once its blob was found missing, so a healthy read pays nothing for it."""
        if entry.digest is None or entry.kind == "reference":
            return None
        try:
            found, _ = read_purges(self.backend, [entry.digest])
        except ArtifactFSError:
            return None  # (the store failed again: the first error is the one to give)
        record = found.get(entry.digest)
        return None if record is None else purged_error(record, qualified, entry.path, self.url)

    def entry(self, qualified: str, entry: Entry) -> EntrySource:
        """The bytes of ``entry`` of version ``qualified``, for a table to read."""
        return EntrySource(self, qualified, entry)


@dataclass(frozen=True)
class EntrySource:
    """One stored entry's bytes (a table's, or a file's read through ``afs://``): opened
    verified (by block where it has block digests), or given whole as a verified local file.
    Its ``origin`` lets another process reopen it."""

    reader: BlobReader
    qualified: str
    entry: Entry

    @property
    def what(self) -> str:
        assert self.entry.digest is not None
        return f"{self.qualified} {self.entry.kind} {self.entry.path!r} (store key {layout.blob(self.entry.digest)})"

    def open(self) -> IO[bytes]:
        """The entry opened for reading, seekable: by verified blocks where it has block
        digests (only the blocks read are fetched), else verified whole before it is returned."""
        digest = self.entry.digest
        assert digest is not None
        blocks = self.entry.extra.get("blocks")
        with self._purged():
            try:
                if not isinstance(blocks, dict):
                    # No block digests (a plain file, or a table of an old release): hashed whole first.
                    return self.reader.open_whole(digest, self.entry.size, self.what, self.entry.where)
                return self.reader.open_blocks(digest, self.entry.size, blocks, self.what)
            except OSError as e:
                if isinstance(e, ArtifactFSError):
                    raise
                raise self.reader.local_error(e, self.reader.cache.root) from e

    def local_file(self) -> str:
        """The whole entry as a local file, hashed whole just now."""
        assert self.entry.digest is not None
        with self._purged():
            return self.reader.verified_file(self.entry.digest, self.entry.size, self.what, self.entry.where)

    @contextlib.contextmanager
    def _purged(self) -> Iterator[None]:
        """A missing blob whose purge record exists is a :class:`PurgedError` instead."""
        try:
            yield
        except (IntegrityError, KeyNotFoundError):
            if (gone := self.reader.purged(self.qualified, self.entry)) is not None:
                raise gone from None
            raise

    @property
    def origin(self) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
        """(store URL, storage options, qualified version name, entry): enough to reopen it."""
        return self.reader.url, self.reader.backend.storage_options, self.qualified, self.entry.to_dict()

    @classmethod
    def reopen(cls, origin: tuple[str, dict[str, Any], str, dict[str, Any]]) -> EntrySource:
        url, options, qualified, entry = origin
        return cls(BlobReader.open(url, options), qualified, Entry.from_dict(entry))
