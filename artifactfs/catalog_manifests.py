"""Manifests and their shards: read and checked against the digests that name them, kept in
memory per store for the life of the process, and written (the catalog extends this)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from . import layout
from .backend import Backend
from .catalog_heads import HeadRecords
from .errors import IntegrityError, KeyNotFoundError, MisplacedRecordError
from .hashing import Digest, hash_bytes
from .manifest import Encoded, Entry, Manifest, ShardRef, decode_shard
from .records import VersionRecord
from .seen import SeenRecords
from .shards import SHARD_FORMAT

__all__ = ["ManifestRecords", "forget_kept"]

# Manifests and shards kept in memory per store for the life of the process: each is named by
# the digest of its bytes, so a kept one is the only value it can correctly have.
MANIFESTS_KEPT = 256
SHARDS_KEPT = 32  # ~1 MiB each as bytes, a few as entries: enough for paging and lookups
_kept: dict[str, OrderedDict[Digest, Manifest]] = {}
_kept_shards: dict[str, OrderedDict[Digest, tuple[Entry, ...]]] = {}
_kept_lock = threading.Lock()


def forget_kept() -> None:
    """Drop every manifest and shard this process keeps, as a new process starts."""
    with _kept_lock:
        _kept.clear()
        _kept_shards.clear()


class ManifestRecords(HeadRecords):
    """The manifests and shards of the store behind ``backend``."""

    def __init__(self, backend: Backend, seen: SeenRecords | None = None) -> None:
        super().__init__(backend)
        self.seen = seen  # what this machine has read before: manifests answered from there
        self._manifests: OrderedDict[Digest, Manifest] = OrderedDict()
        self._shards: OrderedDict[Digest, tuple[Entry, ...]] = OrderedDict()

    def _share_kept(self, store_id: str) -> None:
        """Keep manifests with every other catalog of the store ``store_id`` in this process."""
        with _kept_lock:
            self._manifests = _kept.setdefault(store_id, self._manifests)
            self._shards = _kept_shards.setdefault(store_id, self._shards)

    def manifest(self, digest: Digest) -> Manifest:
        """The manifest with ``digest``, its bytes checked against it (:class:`IntegrityError`)."""
        with _kept_lock:
            man = self._manifests.get(digest)
        if man is None:
            man = self._decode_manifest(digest, self.manifest_bytes(digest))
            self._keep(digest, man)
        return man

    def _decode_manifest(self, digest: Digest, data: bytes) -> Manifest:
        return Manifest.from_bytes(data, f"manifest {layout.manifest(digest)}", loader=self.shard)

    def manifests(self, digests: list[Digest]) -> dict[Digest, Manifest]:
        """Several manifests, those not in memory read in one round of requests."""
        with _kept_lock:
            out = {d: m for d in digests if (m := self._manifests.get(d)) is not None}
        todo = {layout.manifest(d): d for d in digests if d not in out}
        for key, data in (self.backend.read_many(list(todo)) if todo else {}).items():
            d = todo[key]
            if data is not None and hash_bytes(data, d.algorithm) == d:
                out[d] = self._decode_manifest(d, data)
                self._keep(d, out[d])
        return out

    def _keep(self, digest: Digest, man: Manifest) -> None:
        with _kept_lock:
            self._manifests[digest] = man
            self._manifests.move_to_end(digest)
            while len(self._manifests) > MANIFESTS_KEPT:
                self._manifests.popitem(last=False)

    def manifest_bytes(self, digest: Digest, what: str = "manifest") -> bytes:
        """The stored object (a manifest, or a shard) with ``digest``, checked against it: as
        this machine saw it before if it did (a digest names one content), else read."""
        if self.seen is not None and (kept := self.seen.object(digest)) is not None:
            return kept
        key = layout.manifest(digest)
        try:
            data: bytes | None = self.backend.read(key)
        except KeyNotFoundError:
            data = None
        checked = self._checked(digest, data, what)
        if self.seen is not None:
            self.seen.object_seen(digest, checked)
        return checked

    def _checked(self, digest: Digest, data: bytes | None, what: str) -> bytes:
        key = layout.manifest(digest)
        if data is None:
            raise IntegrityError(f"{what} {key} is missing from store {self.url}")
        if hash_bytes(data, digest.algorithm) != digest:
            raise IntegrityError(f"{what} {key} in store {self.url} does not match its digest")
        return data

    def shard(self, ref: ShardRef) -> tuple[Entry, ...]:
        """The entries of one shard of a sharded manifest, checked against what its root says."""
        with _kept_lock:
            entries = self._shards.get(ref.shard)
        if entries is None:
            data = self.manifest_bytes(ref.shard, "manifest shard")
            entries = decode_shard(data, ref, ref.shard.algorithm, f"manifest shard {layout.manifest(ref.shard)}")
            with _kept_lock:
                self._shards[ref.shard] = entries
                while len(self._shards) > SHARDS_KEPT:
                    self._shards.popitem(last=False)
        return entries

    def version_manifest(self, rec: VersionRecord) -> Manifest:
        """The manifest of ``rec``, which must name the same artifact and type."""
        man = self.manifest(rec.manifest)
        self._check_manifest(rec, man)
        return man

    def _check_manifest(self, rec: VersionRecord, man: Manifest) -> None:
        named = rec.linked.name if rec.linked is not None else rec.name  # a registry version: its source's
        if (man.name, man.type) != (named, rec.type):
            raise MisplacedRecordError(
                f"{rec.qualified_name} in store {self.url}: its manifest {rec.manifest.short} is of "
                f"{man.name!r} (type {man.type!r}), not {named!r} (type {rec.type!r})"
            )

    def put_manifest(self, manifest: Manifest, enc: Encoded) -> Digest:
        """Store an encoded manifest and return its digest: its shards first (all at once), then
        the manifest (create-if-absent: one request). Shards and packs need a store of format 3."""
        if enc.format > 1:
            self.require_format(enc.format)
        self.put_shards(enc.shards)
        digest = hash_bytes(enc.data, manifest.algorithm)
        self.backend.create(layout.manifest(digest), enc.data)
        if self.seen is not None:
            for ref, data in enc.shards:
                self.seen.object_seen(ref.shard, data)
            self.seen.object_seen(digest, enc.data)
        # Read back at once by log_artifact. A sharded one is kept as its root (as it is read),
        # reading its shards from this store: its entries are not held on to.
        self._keep(digest, self._decode_manifest(digest, enc.data) if enc.shards or manifest.sharded else manifest)
        return digest

    def put_shards(self, shards: Sequence[tuple[ShardRef, bytes]]) -> None:
        """Store shard objects (those already there are not sent again): one round of requests."""
        if not shards:
            return
        self.require_format(SHARD_FORMAT)
        items = {layout.manifest(ref.shard): data for ref, data in shards}
        have = self.backend.existing(list(items)) if len(items) > 1 else set()
        self.backend.write_many({k: v for k, v in items.items() if k not in have})

    def shard_objects(self, manifest: Manifest) -> tuple[tuple[ShardRef, bytes], ...]:
        """The stored bytes of every shard of ``manifest`` (one round of requests), for a copy."""
        found = self.backend.read_many([layout.manifest(r.shard) for r in manifest.shards])
        return tuple(
            (r, self._checked(r.shard, found.get(layout.manifest(r.shard)), "manifest shard")) for r in manifest.shards
        )

    def require_format(self, fmt: int) -> None:
        raise NotImplementedError  # the catalog's: it owns the store descriptor
