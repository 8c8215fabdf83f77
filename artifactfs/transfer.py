"""Moving blobs in batches: plan by set difference, then transfer concurrently."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from fsspec.callbacks import Callback

from . import layout
from .cache import BlobCache
from .errors import IntegrityError
from .hashing import Digest, hash_stream
from .storage import Backend

if TYPE_CHECKING:
    pass

__all__ = ["LIST_THRESHOLD", "fetch_to_cache", "missing_blobs", "upload_blobs"]

# From this many digests on, list the blob shards that hold them (about one request per
# 1,000 keys) instead of asking for each blob (one request each).
LIST_THRESHOLD = 64


def missing_blobs(backend: Backend, digests: Iterable[Digest]) -> set[Digest]:
    """The digests whose blobs ``backend`` lacks (or holds with the wrong size is not checked)."""
    keys = {layout.blob(d): d for d in set(digests)}
    if not keys:
        return set()
    if backend.is_async and len(keys) >= LIST_THRESHOLD:
        shards = sorted({layout.blob_shard(d) for d in keys.values()})
        present: Iterable[str] = backend.sizes_below(shards)
    else:
        present = backend.existing(list(keys))
    present = set(present)
    return {d for k, d in keys.items() if k not in present}


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
