"""Hashing a draft's files and sending the blobs a store lacks: the first step of a commit
(:mod:`artifactfs.commit`), which then writes the manifest and the version record."""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import os
import threading
import time
from array import array
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fsspec.callbacks import Callback

from . import layout
from .artifact import Artifact
from .draft import Staged, base_of, builders, staged, staged_count
from .errors import ArtifactFSError, JobError, LocalPathNotFoundError, StoreError, local_file_error
from .hashing import DIGEST_BYTES, Digest, hash_bytes, hash_file
from .manifest import Entry, Location
from .packing import Packing
from .shards import ShardRef
from .statcache import StatKey, stat_key
from .transfer import SMALL_BLOB, ChunkedProgress, Source, copy_into_store, upload_blobs

if TYPE_CHECKING:
    from .store import Store

__all__ = ["ingest"]


KEEP_BYTES = 64 << 20  # bytes of small files kept from hashing to upload (beyond: read again, checked)


def _entry_for(
    store: Store, path: str, staged: Staged, sources: dict[Digest, Source], known: Known, learned: Learned
) -> Entry:
    """Hash one staged file; on a local store also write its blob in the same pass.

    ``known`` holds the remembered digests of unchanged files (see statcache), which are not
    read again unless the store lacks their blob; digests computed here are added to ``learned``.
    """
    if staged.entry is not None:
        e = staged.entry
        return Entry(path, e.digest, e.size, e.kind, e.extra)
    assert staged.local is not None
    backend, algorithm = store.backend, store.algorithm
    local = staged.local
    stat = known.stats.get(local) if staged.user_file else None
    remembered = known.trusted.get(local) if staged.user_file else None
    if stat is not None and remembered is not None:
        digest, size = remembered, stat[2]
        if not backend.local_files:
            sources[digest] = Source(local, size)
            return Entry(path, digest, size, staged.kind, staged.extra)
        if (at := known.packed.get(digest)) is not None and at.length == size:
            return Entry(path, digest, size, staged.kind, staged.extra, where=at)
        if backend.refresh(layout.blob(digest), size, touch=False):
            known.reused.add(digest, size)
            return Entry(path, digest, size, staged.kind, staged.extra)
    try:
        large = (stat[2] if stat is not None else os.path.getsize(local)) > SMALL_BLOB
        if large and backend.local_files:
            digest, size = copy_into_store(backend, local, algorithm)
        elif large:
            # Hashed in bounded memory here; hashed again as it is streamed to the store, and
            # the upload abandoned if the two differ (transfer.upload_blobs).
            digest, size = hash_file(local, algorithm)
            sources[digest] = Source(local, size)
        else:
            with open(local, "rb") as f:
                data = f.read()
            digest, size = hash_bytes(data, algorithm), len(data)
            if backend.local_files and backend.refresh(layout.blob(digest), size, touch=False):
                known.reused.add(digest, size)
            else:
                # The very bytes hashed are the ones stored (singly or in a pack), while the
                # budget lasts (_chunk hands small files over about that many bytes at a time).
                keep = known.kept + size <= KEEP_BYTES
                known.kept += size if keep else 0
                sources[digest] = Source(local, size, data if keep else None, single=staged.kind == "table")
    except FileNotFoundError as e:
        raise LocalPathNotFoundError(f"{local} was removed before it could be logged") from e
    except ArtifactFSError:
        raise
    except OSError as e:  # the user's file cannot be read (the store's own errors are StoreError)
        raise local_file_error(e, "read", local) from e
    if stat is not None and stat[2] == size:
        learned.append((local, stat, digest))
    return Entry(path, digest, size, staged.kind, staged.extra)


class Reused:
    """Blobs of a local store a commit re-uses by their remembered digests, found there but not
    touched yet: their age is refreshed (for a concurrent gc's grace period, docs/format.md)
    only if the commit makes a new version, so re-logging unchanged files touches nothing.
    40 bytes a blob, for a commit of millions of files."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self.digests = bytearray()
        self.sizes = array("Q")
        self._lock = threading.Lock()  # large files are hashed in threads: a digest and its size go in together

    def add(self, digest: Digest, size: int) -> None:
        raw = bytes.fromhex(digest.hex)
        with self._lock:
            self.digests += raw
            self.sizes.append(size)

    def touch(self, store: Store) -> None:
        """Refresh each blob's age; one gone since it was found (a gc that took this commit
        for dead) is a :class:`StoreError`, and no version is made."""
        for i, size in enumerate(self.sizes):
            d = Digest(self.algorithm, self.digests[i * DIGEST_BYTES : (i + 1) * DIGEST_BYTES].hex())
            if not store.backend.refresh(layout.blob(d), size):
                raise StoreError(
                    f"blob {layout.blob(d)} of store {store.url} was removed while this version was being "
                    "logged (by a gc that found the commit's lease expired); log it again"
                )


@dataclass
class Known:
    """Stat keys of the user's files, taken before any of them is read, and trusted digests."""

    reused: Reused
    stats: dict[str, StatKey] = field(default_factory=dict)
    trusted: dict[str, Digest] = field(default_factory=dict)
    kept: int = 0  # bytes of small files held for upload (see KEEP_BYTES)
    packed: dict[Digest, Location] = field(default_factory=dict)  # trusted digests packed in a local store


Learned = list[tuple[str, StatKey, Digest]]


def _known(store: Store, items: list[tuple[str, Staged]], reused: Reused) -> Known:
    known = Known(reused)
    for _, item in items:
        if item.user_file and item.local is not None:
            try:
                known.stats[item.local] = stat_key(os.stat(item.local))
            except FileNotFoundError as e:
                raise LocalPathNotFoundError(f"{item.local} was removed before it could be logged") from e
    absolute = {p: os.path.abspath(p) for p in known.stats}
    found = store.stat_cache.lookup(((absolute[p], k) for p, k in known.stats.items()), store.algorithm)
    known.trusted = {p: found[a] for p, a in absolute.items() if a in found}
    if store.backend.local_files and known.trusted and (packing := _packing(store)).has_packs:
        # An object store is asked about all the chunk's blobs at upload; a local one is asked
        # here, once, about the trusted digests, which are then not read nor stat-ed one by one.
        known.packed = packing.packs.find(store.algorithm, set(known.trusted.values()))
    return known


CHUNK = 16_384  # staged items hashed and sent at a time: memory stays bounded however many there are


def ingest(store: Store, draft: Artifact, callback: Callback | None) -> tuple[int, Iterator[Entry | ShardRef], Reused]:
    """How many entries the draft has, and the entries in path order, each with its blob in
    the store: items are hashed and their blobs sent :data:`CHUNK` at a time as the entries
    are taken, so a draft of millions of files is committed in bounded memory. The blobs
    re-used untouched (:class:`Reused`) are filled in as the entries are taken. A draft of a
    logged version also gives that version's unchanged shards, whole."""
    started = time.time_ns()
    built = sorted(
        (e for p, s in builders(draft) if s.build is not None for e in s.build(store.backend, store.algorithm, p)),
        key=_path,
    )
    if built:
        _check_built(store, built)
    total = staged_count(draft) + len(built)
    progress = ChunkedProgress(callback) if callback is not None else None
    reused = Reused(store.algorithm)
    chunks = (_chunk(store, items, progress, started, reused) for items in _batched(staged(draft), CHUNK))
    entries = heapq.merge(itertools.chain.from_iterable(chunks), built, key=_path)
    base = base_of(draft)
    if base is None:
        return total, entries, reused
    # A draft of a logged version: its entries, as they are, around what was added.
    added = [p for p, _ in staged(draft)] + [e.path for e in built]
    return base.prepare(added), base.overlay(entries), reused


def _chunk(
    store: Store, items: list[tuple[str, Staged]], callback: ChunkedProgress | None, started: int, reused: Reused
) -> list[Entry]:
    """Entries for some staged items, with every blob the store lacks uploaded."""
    sources: dict[Digest, Source] = {}
    known = _known(store, items, reused)
    learned: Learned = []
    small: list[tuple[str, Staged]] = []
    large: list[tuple[str, Staged]] = []
    for p, s in items:
        (large if s.local is not None and _size(s.local, known) > SMALL_BLOB else small).append((p, s))
    # Small files in this thread alone: each is a handful of short system calls, and threads
    # contending for the GIL made logging 10,000 of them 4x slower with 8 threads (3.4 s)
    # than with one (0.8 s). Large files, where the time is in copying and hashing outside
    # the GIL, go to the pool.
    entries: list[Entry] = []
    where: dict[Digest, Location] = {}
    for group in _by_bytes(small, known):
        # Sent a group at a time, so that the bytes hashed are the ones sent, never read twice.
        entries += [_entry_for(store, p, s, sources, known, learned) for p, s in group]
        where |= _send(store, sources, callback)
        sources.clear()
        known.kept = 0
    if large:
        with ThreadPoolExecutor(store.workers) as pool:
            entries += pool.map(lambda item: _entry_for(store, item[0], item[1], sources, known, learned), large)
        where |= _send(store, sources, callback)
    store.stat_cache.record(((os.path.abspath(p), k, d) for p, k, d in learned), started)
    if where:
        entries = [_located(e, where) for e in entries]
    return sorted(entries, key=_path)


def _send(store: Store, sources: dict[Digest, Source], callback: ChunkedProgress | None) -> dict[Digest, Location]:
    if callback is not None:
        callback.next_chunk()
    # The packing is asked anew each time: a pack sent just before made the store format 3.
    return upload_blobs(store.backend, sources, callback, _packing(store))


def _by_bytes(items: list[tuple[str, Staged]], known: Known) -> Iterator[list[tuple[str, Staged]]]:
    """``items`` in groups of about :data:`KEEP_BYTES` of files."""
    group: list[tuple[str, Staged]] = []
    size = 0
    for item in items:
        local = item[1].local
        n = _size(local, known) if local is not None else 0
        if group and size + n > KEEP_BYTES:
            yield group
            group, size = [], 0
        group.append(item)
        size += n
    if group:
        yield group


def _batched(items: Iterator[tuple[str, Staged]], n: int) -> Iterator[list[tuple[str, Staged]]]:
    while batch := list(itertools.islice(items, n)):
        yield batch


def _path(e: Entry) -> str:
    return e.path


def _packing(store: Store) -> Packing:
    """Small new files go to packs (docs/format.md, *Packs*): on an object store each would be
    a request; on a local store a file, a temp file, a rename and a time stamp."""
    return Packing(store.packs, store.catalog.require_store().format >= 3, lambda: store.catalog.require_format(3))


def _located(e: Entry, where: dict[Digest, Location]) -> Entry:
    if e.kind == "file" and e.digest is not None and (at := where.get(e.digest)) is not None:
        return dataclasses.replace(e, where=at)
    return e


def _size(local: str, known: Known) -> int:
    stat = known.stats.get(local)
    if stat is not None:
        return stat[2]
    try:
        return os.path.getsize(local)
    except FileNotFoundError as e:
        raise LocalPathNotFoundError(f"{local} was removed before it could be logged") from e


def _check_built(store: Store, entries: list[Entry]) -> None:
    """Entries written elsewhere (by Dask workers) must have their blobs in this store."""
    keys = {layout.blob(e.digest) for e in entries if e.digest is not None}
    missing = keys - store.backend.existing(sorted(keys))
    if missing:
        raise JobError(
            f"{len(missing)} table parts written by workers are missing from store {store.url} "
            f"(e.g. {sorted(missing)[0]}): do the workers reach the same store? (memory:// is per process)"
        )
