"""Moving blobs in batches: plan by set difference, then transfer concurrently."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable

from fsspec.callbacks import Callback

from . import layout
from .cache import BlobCache
from .errors import IntegrityError
from .hashing import Digest, hash_stream
from .storage import Backend

__all__ = ["fetch_to_cache", "missing_blobs", "upload_blobs"]

# Listing a shard (blobs/<alg>/<2 hex>/) costs about one request per 1,000 keys in it; asking
# for one blob costs one request. A shard is listed when at least this many digests fall in it.
SHARD_LIST_MIN = 4


def missing_blobs(backend: Backend, digests: Iterable[Digest]) -> set[Digest]:
    """The digests whose blobs ``backend`` lacks, found in few requests.

    One listing of ``blobs/<alg>/`` tells which shards hold anything (a digest in an empty
    shard is missing without asking); shards holding several of the digests are listed;
    the rest are asked for one by one, concurrently.
    """
    wanted = set(digests)
    if not wanted:
        return set()
    if not backend.is_async or len(wanted) < SHARD_LIST_MIN:
        keys = {layout.blob(d): d for d in wanted}
        present = backend.existing(list(keys))
        return {d for k, d in keys.items() if k not in present}
    candidates: dict[str, list[Digest]] = {}
    for algorithm in {d.algorithm for d in wanted}:
        nonempty = set(backend.listdir(f"blobs/{algorithm}"))
        for d in wanted:
            if d.algorithm == algorithm and d.hex[:2] in nonempty:
                candidates.setdefault(layout.blob_shard(d), []).append(d)
    listed = [shard for shard, ds in candidates.items() if len(ds) >= SHARD_LIST_MIN]
    asked = [layout.blob(d) for shard, ds in candidates.items() if len(ds) < SHARD_LIST_MIN for d in ds]
    present = set(backend.sizes_below(listed)) | backend.existing(asked)
    return {d for d in wanted if layout.blob(d) not in present}


def upload_blobs(backend: Backend, sources: dict[Digest, str], callback: Callback | None = None) -> int:
    """Upload the blobs ``backend`` lacks from local files; return how many were sent."""
    missing = missing_blobs(backend, sources)
    if callback is not None:
        callback.set_size(len(missing))
    backend.put_files([(sources[d], layout.blob(d)) for d in sorted(missing)], callback)
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
    unverified enters the cache.
    """
    todo = sorted(d for d in wanted if not cache.has(d))
    if callback is not None:
        callback.set_size(len(todo))
    tmp_dir = cache.root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    pairs = [(layout.blob(d), str(tmp_dir / f"{d.hex}.tmp-{uuid.uuid4().hex}")) for d in todo]
    try:
        backend.get_files(pairs, callback)
        for d, (key, tmp) in zip(todo, pairs, strict=True):
            with open(tmp, "rb") as f:
                got, size = hash_stream(f, d.algorithm)
            want, what = wanted[d]
            if got != d or size != want:
                raise IntegrityError(f"{what}: blob {key} in store {backend.url} does not match its digest")
            cache.adopt(tmp, d)
    finally:
        for _, tmp in pairs:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return set(todo)
