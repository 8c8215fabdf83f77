"""Moving blobs, by verb: upload (local files to a store), fetch (a store to this machine's
cache), copy (store to store) and copy into a store of local files. Each plans by set
difference (what the target lacks), then moves in batches: small blobs whole, many per
request round, large ones streamed a few at a time; every byte is verified on the way.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from fsspec.callbacks import Callback

from . import layout
from .backend import Backend
from .cache import BlobCache
from .entry import Location
from .errors import IntegrityError, KeyNotFoundError, SourceChangedError, StoreError
from .hashing import Digest, matches
from .packing import Packing, PackSet, read_packed, write_packs
from .packs import PACK_FILE_MAX, PACK_MIN
from .places import copy_and_hash, copy_verified
from .sources import read_source

__all__ = [
    "SMALL_BLOB",
    "ChunkedProgress",
    "Source",
    "batches",
    "copy_blobs",
    "copy_into_store",
    "fetch_to_cache",
    "missing_blobs",
    "upload_blobs",
]

SMALL_BLOB = 4 << 20  # read whole and moved in one request; larger blobs are streamed
BATCH_BYTES = 64 << 20  # memory held by one batch of small blobs in flight
LARGE_UPLOADS = 4  # large files streamed at once (each holds one upload block in memory)


@dataclass(frozen=True, slots=True)
class Source:
    """A local file to upload as a blob: its path and size when hashed, and its bytes if the
    hashing kept them (then exactly those bytes are sent)."""

    path: str
    size: int
    data: bytes | None = None
    single: bool = False  # never packed (a table: read by range and verified by block)


# Listing a shard (blobs/<alg>/<2 hex>/) costs about one request per 1,000 keys in it; asking
# for one blob costs one request. A shard is listed when at least this many digests fall in it.
SHARD_LIST_MIN = 4


def missing_blobs(backend: Backend, sizes: dict[Digest, int]) -> set[Digest]:
    """The digests whose blobs ``backend`` lacks (or holds with another size than ``sizes``
    says: a damaged blob is sent again, never re-used), found in few requests.

    One listing of ``blobs/<alg>/`` tells which shards hold anything (a digest in an empty
    shard is missing without asking); shards holding several of the digests are listed;
    the rest are asked for one by one, concurrently.
    """
    if not sizes:
        return set()
    if not backend.concurrent or len(sizes) < SHARD_LIST_MIN:
        keys = {layout.blob(d): d for d in sizes}
        present = backend.sizes(list(keys))
        return {d for k, d in keys.items() if present.get(k) != sizes[d]}
    candidates: dict[str, list[Digest]] = {}
    for algorithm in {d.algorithm for d in sizes}:
        nonempty = set(backend.listdir(layout.blobs_dir(algorithm)))
        for d in sizes:
            if d.algorithm == algorithm and d.hex[:2] in nonempty:
                candidates.setdefault(layout.blob_shard(d), []).append(d)
    listed = [shard for shard, ds in candidates.items() if len(ds) >= SHARD_LIST_MIN]
    asked = [layout.blob(d) for shard, ds in candidates.items() if len(ds) < SHARD_LIST_MIN for d in ds]
    present = {**backend.sizes_below(listed), **backend.sizes(asked)}
    return {d for d in sizes if present.get(layout.blob(d)) != sizes[d]}


class ChunkedProgress(Callback):  # type: ignore[misc]
    """Transfers done a chunk at a time, shown as one task: each chunk's size and count add to
    the last's (:meth:`next_chunk` starts one)."""

    def __init__(self, inner: Callback) -> None:
        super().__init__()
        self.size: int | None = None
        self.value: int = 0
        self.inner = inner
        self.base_size = self.base_value = 0

    def next_chunk(self) -> None:
        self.base_size += self.size or 0
        self.base_value += self.value
        self.size, self.value = None, 0

    def call(self, hook_name: str | None = None, **kwargs: object) -> None:
        if self.size is not None:
            self.inner.set_size(self.base_size + self.size)
        self.inner.absolute_update(self.base_value + self.value)


def upload_blobs(
    backend: Backend, sources: dict[Digest, Source], callback: Callback | None = None, packing: Packing | None = None
) -> dict[Digest, Location]:
    """Upload the blobs ``backend`` lacks from local files; return where the packed ones are.

    What is stored under a digest is exactly what was hashed: small files are sent from the
    bytes their hashing kept, or read again and checked; large files are hashed again as they
    are streamed, and an upload whose bytes differ is abandoned before the backend commits it.
    A file that changed since it was hashed raises :class:`SourceChangedError` naming it.

    With ``packing``, a blob already in a pack is not sent again, and many small new ones are
    sent as packs (docs/format.md, *Packs*).
    """
    found: dict[Digest, Location] = {}
    if packing is not None and packing.has_packs and sources:
        # A table is always a single blob (manifests pack files only): sent as one even if
        # its bytes are in a pack already.
        found = packing.packs.find(next(iter(sources)).algorithm, (d for d, s in sources.items() if not s.single))
        sources = {d: s for d, s in sources.items() if d not in found}
    if len(sources) < SHARD_LIST_MIN and all(s.data is not None for s in sources.values()):
        _create_few(backend, sources, callback)
        return found
    missing = sorted(missing_blobs(backend, {d: s.size for d, s in sources.items()}))
    if callback is not None:
        callback.set_size(len(missing))
    small_new = [d for d in missing if sources[d].size < PACK_FILE_MAX and not sources[d].single]
    if packing is not None and len(small_new) >= PACK_MIN:
        packing.before_first()

        def read(d: Digest) -> bytes:
            data = _bytes(sources[d], d)
            if callback is not None:
                callback.relative_update(1)
            return data

        found.update(write_packs(backend, {d: sources[d].size for d in small_new}, read, small_new[0].algorithm))
        missing = [d for d in missing if d not in found]
    small = [d for d in missing if sources[d].size <= SMALL_BLOB]
    for batch in batches(small, {d: sources[d].size for d in small}):
        items = {}
        for d in batch:
            items[layout.blob(d)] = _bytes(sources[d], d)
        backend.write_many(items, callback)
    large = [d for d in missing if sources[d].size > SMALL_BLOB]

    def stream(d: Digest) -> None:
        backend.upload_verified(sources[d].path, layout.blob(d), d, sources[d].size)
        if callback is not None:
            callback.relative_update(1)

    if large:
        with ThreadPoolExecutor(min(LARGE_UPLOADS, len(large))) as pool:
            list(pool.map(stream, large))
    return found


def _bytes(src: Source, digest: Digest) -> bytes:
    """The bytes of a small source, exactly as hashed (read again and checked if not kept)."""
    return src.data if src.data is not None else read_source(src.path, digest, src.size)


def _create_few(backend: Backend, sources: dict[Digest, Source], callback: Callback | None) -> None:
    """A few small blobs held in memory: each created if absent, one request when new (asking
    first would be two); only those already there are checked, and sent again if damaged."""
    if callback is not None:
        callback.set_size(len(sources))
    there = {}
    for d, src in sorted(sources.items()):
        assert src.data is not None
        if not backend.create(layout.blob(d), src.data):
            there[d] = src.size
        if callback is not None:
            callback.relative_update(1)
    damaged = missing_blobs(backend, there)
    if damaged:
        backend.write_many({layout.blob(d): sources[d].data or b"" for d in sorted(damaged)})


def fetch_to_cache(
    backend: Backend,
    cache: BlobCache,
    wanted: dict[Digest, tuple[int, str]],
    callback: Callback | None = None,
    where: dict[Digest, Location] | None = None,
    packs: PackSet | None = None,
) -> set[Digest]:
    """Download the blobs of ``wanted`` (digest -> (size, what)) that the cache lacks, verifying each.

    Returns the digests fetched now. A blob whose bytes do not match raises
    :class:`IntegrityError` naming ``what`` (artifact and entry) and the store key; nothing
    unverified enters the cache. No blob is read past its recorded size + 1 byte, so a blob
    larger than its entry says costs no more than that (and no disk) to refuse.
    """
    todo = sorted(d for d in wanted if not cache.has(d))
    if callback is not None:
        callback.set_size(len(todo))
    packed = {d: (where[d], wanted[d][1]) for d in todo if where and d in where and wanted[d][0]}
    single = []  # packed blobs whose pack this store does not hold: they are single blobs here
    for d, data in read_packed(backend, packed, packs=packs):
        if data is None:
            single.append(d)
            continue
        key = layout.pack(packed[d][0].pack)
        cache.add(io.BytesIO(data), d, wanted[d][0], f"{wanted[d][1]}: blob in pack {key} in store {backend.url}")
        if callback is not None:
            callback.relative_update(1)
    todo = [d for d in todo if d not in packed or d in single]
    small = [d for d in todo if wanted[d][0] <= SMALL_BLOB]
    large = [d for d in todo if wanted[d][0] > SMALL_BLOB]
    for batch in batches(small, {d: wanted[d][0] for d in small}):
        heads = backend.read_heads({layout.blob(d): wanted[d][0] + 1 for d in batch if wanted[d][0]})
        for d in batch:
            size, what = wanted[d]
            data = heads.get(layout.blob(d), b"") if size else b""  # an empty blob is known: not asked for
            if data is None:
                raise IntegrityError(f"{what}: blob {layout.blob(d)} is missing from store {backend.url}")
            cache.add(io.BytesIO(data), d, size, f"{what}: blob {layout.blob(d)} in store {backend.url}")
            if callback is not None:
                callback.relative_update(1)

    def stream(d: Digest) -> None:
        size, what = wanted[d]
        key = layout.blob(d)
        try:
            cache.fetch(
                lambda start: backend.open_sized(key, size, start),
                d,
                size,
                f"{what}: blob {key} in store {backend.url}",
            )
        except IntegrityError as e:
            raise IntegrityError(f"{what}: {e}") from None
        except KeyNotFoundError:
            raise IntegrityError(f"{what}: blob {key} is missing from store {backend.url}") from None
        if callback is not None:
            callback.relative_update(1)

    if large:
        with ThreadPoolExecutor(min(LARGE_UPLOADS, len(large))) as pool:
            list(pool.map(stream, large))
    return set(todo)


def copy_blobs(
    src: Backend,
    dst: Backend,
    sizes: dict[Digest, int],
    what: str,
    callback: Callback | None = None,
    where: dict[Digest, Location] | None = None,
    present: set[Digest] | frozenset[Digest] = frozenset(),
    packing: Packing | None = None,
) -> tuple[int, int]:
    """Copy the blobs ``dst`` lacks, verifying each digest in transit; (count, bytes) sent.

    ``where`` says which are packed in ``src`` (read by range); ``present`` are the blobs
    ``dst`` holds in its own packs. With ``packing``, many of the packed ones land in ``dst``
    as new packs (readers find them through its pack indexes: the copied manifest names
    ``src``'s packs), the rest as single blobs (entries without a location are read as
    such). No blob is read past its recorded size + 1 byte: an oversized blob is refused
    cheaply.
    """
    missing = sorted(missing_blobs(dst, {d: n for d, n in sizes.items() if d not in present}))
    if callback is not None:
        callback.set_size(len(missing))
    small = [d for d in missing if sizes[d] <= SMALL_BLOB]
    large = [d for d in missing if sizes[d] > SMALL_BLOB]
    where = where or {}
    # Only blobs the manifest places in a pack may go to a pack here: a reader looks in the
    # store's packs for an entry with a location, and for a single blob otherwise.
    pack = packing is not None and sum(d in where and sizes[d] < PACK_FILE_MAX for d in small) >= PACK_MIN
    if packing is not None and pack:
        packing.before_first()
    sent = 0
    for got in _verified(src, small, sizes, where, what):
        packable = {d: b for d, b in got.items() if pack and d in where and len(b) < PACK_FILE_MAX}
        if packable:
            write_packs(dst, {d: len(b) for d, b in packable.items()}, packable.__getitem__, next(iter(got)).algorithm)
        dst.write_many({layout.blob(d): b for d, b in got.items() if d not in packable})
        sent += sum(len(b) for b in got.values())
        if callback is not None:
            callback.relative_update(len(got))
    for d in large:
        key = layout.blob(d)
        with tempfile.TemporaryDirectory(prefix="artifactfs-copy-") as tmp:
            local = os.path.join(tmp, d.hex)
            try:
                with src.open_sized(key, sizes[d]) as f:
                    copy_verified(f, local, d, sizes[d], f"{what}: blob {key} in store {src.url}")
            except IntegrityError as e:
                raise IntegrityError(f"{what}: {e}") from None
            except KeyNotFoundError:
                raise IntegrityError(f"{what}: blob {key} is missing from store {src.url}") from None
            dst.put_files([(local, key)])
        sent += sizes[d]
        if callback is not None:
            callback.relative_update(1)
    return len(missing), sent


def _verified(
    src: Backend, digests: list[Digest], sizes: dict[Digest, int], where: dict[Digest, Location], what: str
) -> Iterator[dict[Digest, bytes]]:
    """The bytes of small blobs of ``src`` (packed ones read by range), each checked against
    its digest, about :data:`BATCH_BYTES` at a time."""
    packed = {d: (where[d], what) for d in digests if d in where and sizes[d]}
    out: dict[Digest, bytes] = {}
    single = [d for d in digests if d not in packed]
    for d, data in read_packed(src, packed):
        if data is None:
            single.append(d)  # not packed in this store after all: read as a single blob below
            continue
        if not matches(data, d, sizes[d]):
            raise IntegrityError(
                f"{what}: a blob in pack {layout.pack(packed[d][0].pack)} in store {src.url} is damaged"
            )
        out[d] = data
        if sum(len(v) for v in out.values()) >= BATCH_BYTES:
            yield out
            out = {}
    for batch in batches(single, sizes):
        heads = src.read_heads({layout.blob(x): sizes[x] + 1 for x in batch if sizes[x]})
        for x in batch:
            data = heads.get(layout.blob(x), b"") if sizes[x] else b""
            if data is None:
                raise IntegrityError(f"{what}: blob {layout.blob(x)} is missing from store {src.url}")
            if not matches(data, x, sizes[x]):
                raise IntegrityError(f"{what}: blob {layout.blob(x)} in store {src.url} does not match its digest")
            out[x] = data
        yield out
        out = {}
    if out:
        yield out


def copy_into_store(backend: Backend, local: str, algorithm: str) -> tuple[Digest, int]:
    """Copy a large local file into a store of local files, hashing the copy on the way; name
    it by its digest.

    If the source changed during the copy (size, mtime or inode differ), the copy is made
    again, so the entry is one state of the file, never a mix. Memory stays bounded whatever
    the size.
    """
    for _ in range(3):
        before = _file_identity(local)
        tmp = backend.temp_path()
        try:
            src = open(local, "rb")  # noqa: SIM115 (closed below; a failure here is the user's file)
            try:
                with src, open(tmp, "w+b") as out:
                    digest, size = copy_and_hash(src, out, algorithm)
            except OSError as e:  # a full or failing disk: name the file and the store
                raise StoreError(f"could not copy {local} into {backend.url}: {e.strerror or e}") from e
            if _file_identity(local) == before and os.path.getsize(tmp) == size:
                backend.adopt(tmp, layout.blob(digest))
                return digest, size
        finally:
            backend.discard(tmp)
    raise SourceChangedError(f"{local} kept changing while it was being logged; log it once it is complete")


def _file_identity(path: str) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


def batches(digests: list[Digest], sizes: dict[Digest, int]) -> Iterator[list[Digest]]:
    """``digests`` in runs of about :data:`BATCH_BYTES` (the memory one batch holds)."""
    batch: list[Digest] = []
    held = 0
    for d in digests:
        batch.append(d)
        held += sizes[d]
        if held >= BATCH_BYTES:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch
