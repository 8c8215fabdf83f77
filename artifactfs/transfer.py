"""Moving blobs in batches: plan by set difference, then transfer concurrently."""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from fsspec.callbacks import Callback

from . import layout
from .backend import Backend, read_source
from .cache import BlobCache
from .errors import IntegrityError, KeyNotFoundError
from .hashing import Digest

__all__ = ["SMALL_BLOB", "Source", "batches", "fetch_to_cache", "missing_blobs", "upload_blobs"]

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
    if not backend.is_async or len(sizes) < SHARD_LIST_MIN:
        keys = {layout.blob(d): d for d in sizes}
        present = backend.sizes(list(keys))
        return {d for k, d in keys.items() if present.get(k) != sizes[d]}
    candidates: dict[str, list[Digest]] = {}
    for algorithm in {d.algorithm for d in sizes}:
        nonempty = set(backend.listdir(f"blobs/{algorithm}"))
        for d in sizes:
            if d.algorithm == algorithm and d.hex[:2] in nonempty:
                candidates.setdefault(layout.blob_shard(d), []).append(d)
    listed = [shard for shard, ds in candidates.items() if len(ds) >= SHARD_LIST_MIN]
    asked = [layout.blob(d) for shard, ds in candidates.items() if len(ds) < SHARD_LIST_MIN for d in ds]
    present = {**backend.sizes_below(listed), **backend.sizes(asked)}
    return {d for d in sizes if present.get(layout.blob(d)) != sizes[d]}


def upload_blobs(backend: Backend, sources: dict[Digest, Source], callback: Callback | None = None) -> int:
    """Upload the blobs ``backend`` lacks from local files; return how many were sent.

    What is stored under a digest is exactly what was hashed: small files are sent from the
    bytes their hashing kept, or read again and checked; large files are hashed again as they
    are streamed, and an upload whose bytes differ is abandoned before the backend commits it.
    A file that changed since it was hashed raises :class:`SourceChangedError` naming it.
    """
    missing = sorted(missing_blobs(backend, {d: s.size for d, s in sources.items()}))
    if callback is not None:
        callback.set_size(len(missing))
    small = [d for d in missing if sources[d].size <= SMALL_BLOB]
    for batch in batches(small, {d: sources[d].size for d in small}):
        items = {}
        for d in batch:
            src = sources[d]
            items[layout.blob(d)] = src.data if src.data is not None else read_source(src.path, d, src.size)
        backend.write_many(items, callback)
    large = [d for d in missing if sources[d].size > SMALL_BLOB]

    def stream(d: Digest) -> None:
        backend.upload_verified(sources[d].path, layout.blob(d), d, sources[d].size)
        if callback is not None:
            callback.relative_update(1)

    if large:
        with ThreadPoolExecutor(min(LARGE_UPLOADS, len(large))) as pool:
            list(pool.map(stream, large))
    return len(missing)


def fetch_to_cache(
    backend: Backend,
    cache: BlobCache,
    wanted: dict[Digest, tuple[int, str]],
    callback: Callback | None = None,
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
            with backend.open_sized(key, size) as src:
                cache.add(src, d, size, f"{what}: blob {key} in store {backend.url}")
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
