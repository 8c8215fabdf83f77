"""Purging a file's bytes from a store (``store.purge(ref, path)``): a secret or personal data
logged by mistake. Its blob goes, single or in packs (each pack is rewritten without it), and
so does this machine's cached copy; an audit record, written first, says what was purged,
when, by whom and why. Manifests are never rewritten: every version that held the bytes
keeps the entry, and shows it as purged (docs/format.md, *Purge*)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import codec, layout
from .annotation import current_user
from .entry import Location
from .errors import ArtifactFSError, EntryNotFoundError, FormatError, InvalidInputError, StoreError
from .hashing import DIGEST_BYTES, Digest
from .leases import Held, gc_lock
from .maintenance import drain
from .markers import PurgeRecord
from .packing import INDEX_BATCH, repack
from .packs import PackIndex
from .purge_records import purged_digests, read_purges
from .records import MAX_REASON, VersionRecord
from .refs import did_you_mean
from .verification import live_versions

if TYPE_CHECKING:
    from .artifact import Artifact
    from .backend import Backend
    from .cache import BlobCache
    from .catalog import Catalog
    from .entry import Entry

__all__ = ["PurgeReport", "Purging"]

WAIT = 60.0  # seconds a purge waits for the commits in flight, as gc does


@dataclass(slots=True)
class PurgeReport:
    """What a purge removed (in a dry run, would remove). Blobs are named by their digest, so
    the bytes are gone for every version that held them, under any path: ``holders``."""

    ref: str  # the version named
    path: str
    digest: str
    size: int
    holders: list[tuple[str, str]]  # (version, path): every live version holding these bytes
    single: bool  # a single blob object held them
    packs: list[str]  # the packs that held them, each rewritten without them
    cached: bool  # this machine's blob cache held them
    deleted: list[str]  # store keys deleted
    written: list[str]  # store keys written: the purge record, new packs, indexes, forwarding records
    record: PurgeRecord  # the audit record (an earlier purge's, if there was one)
    already_purged: bool  # an earlier purge wrote the record: this one finished what it left
    dry_run: bool

    @property
    def versions(self) -> list[str]:
        """The live versions holding these bytes (the one named included), sorted."""
        return sorted({v for v, _ in self.holders})

    @property
    def packed(self) -> bool:
        return bool(self.packs)

    @property
    def rewritten(self) -> list[str]:
        """The packs rewritten without the bytes (their other files are in new packs)."""
        return self.packs

    @property
    def found(self) -> bool:
        """Whether the store (or this machine's cache) still held the bytes."""
        return self.single or bool(self.packs) or self.cached


class Purging:
    """The :meth:`purge` method of :class:`~artifactfs.Store`."""

    backend: Backend
    catalog: Catalog
    cache: BlobCache
    lease_ttl: float

    def artifact(self, ref: str, type: str | None = None, *, project: str | None = None) -> Artifact:
        raise NotImplementedError

    def purges(self) -> list[PurgeRecord]:
        """Every purge of this store (its audit records: what, when, by whom, why), oldest
        first: one listing of ``purged/<alg>/``, and the records it names."""
        found, _ = read_purges(self.backend, purged_digests(self.backend, self.catalog.algorithm))
        return sorted(found.values(), key=lambda r: (codec.timestamp(r.purged_at), str(r.digest)))

    def purge(self, ref: str, path: str, *, reason: str | None = None, dry_run: bool = False) -> PurgeReport:
        """Remove the bytes of the file ``path`` of the version ``ref`` from the store, for good.

        The blob is deleted, or, when packed, its pack is rewritten without it (the pack's
        other files move to a new pack, found through a forwarding record); this machine's
        cached copy is deleted too. Every version holding the same bytes, under any path,
        loses them (``report.holders``). An audit record (``purged/<alg>/<hex>.msgpack``:
        the version and path named, when, by whom, ``reason``) is written first; versions
        keep their entries and show them purged: ``verify`` is clean, ``download`` skips
        them with a :class:`~artifactfs.errors.PurgedWarning`, reading one raises
        :class:`~artifactfs.errors.PurgedError`.

        Running it again is harmless: a purge already done reports so (``already_purged``)
        and finishes whatever an interrupted one left. ``dry_run`` only reports. Copies in
        other stores and other machines' caches keep their bytes: purge them there.
        """
        if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
            raise InvalidInputError(f"reason must be a text of at most {MAX_REASON} characters, got {reason!r:.60}")
        art = self.artifact(ref)
        entry = _entry(art, path)
        assert entry.digest is not None
        record = PurgeRecord(
            entry.digest,
            entry.size,
            art.project,
            art.name,
            art.version_number,
            entry.path,
            codec.utcnow(),
            current_user(),
            reason,
        )
        record.to_bytes()  # refused now (too large) rather than halfway
        if dry_run:
            return self._purge(art, record, None)
        # Under gc's lock: no gc repacks (copying the bytes to a new pack) meanwhile, and
        # commits wait, so none re-uses the blob while it goes; those in flight finish first.
        with gc_lock(self.backend, self.lease_ttl, doing="purge") as held:
            if left := drain(self.catalog, WAIT):
                raise StoreError(
                    f"{left} commit(s) to store {self.backend.url} still in flight after {WAIT:.0f} s: nothing "
                    "was purged; run purge again"
                )
            return self._purge(art, record, held)

    def _purge(self, art: Artifact, record: PurgeRecord, held: Held | None) -> PurgeReport:
        backend, digest = self.backend, record.digest
        key = layout.purge_record(digest)
        found, bad = read_purges(backend, [digest])
        if key in bad:
            raise FormatError(f"{bad[key]}: remove it (or fix it by hand), then purge again")
        earlier = found.get(digest)
        bkey = layout.blob(digest)
        packs = _packs_holding(backend, digest)
        report = PurgeReport(
            art.qualified_name,
            record.path,
            str(digest),
            record.size,
            _holders(self.catalog, digest, (art.qualified_name, record.path)),
            backend.exists(bkey),
            [layout.pack(p) for p in packs],
            self.cache.has(digest) or self.cache.partial(digest).exists(),
            [],
            [],
            earlier or record,
            earlier is not None,
            held is None,
        )
        report.deleted = [k for p in packs for k in (layout.pack(p), layout.pack_index(p))]
        report.deleted += [bkey] if report.single else []
        if held is None:
            report.written = [] if earlier else [key]
            return report
        if earlier is None:
            if backend.create(key, record.to_bytes()):
                report.written.append(key)
            else:  # another purge of the same bytes got there first: its record is the audit trail
                report.record, report.already_purged = _record(backend, digest), True
        for pack, blobs in packs.items():
            held.check()
            others = {d: at for d, at in blobs.items() if d != digest}
            if others:  # the pack's other files, to a new pack, with a forwarding record
                moved = repack(backend, pack, others)
                new = {w.pack for w in moved.values()}
                report.written += [k for p in sorted(new, key=str) for k in (layout.pack(p), layout.pack_index(p))]
                report.written.append(layout.pack_moved(pack))
            # The pack before its index (gc deletes the other way round): killed between the
            # two, the index is left, naming the bytes, and the next purge finds the pack by it.
            backend.delete(layout.pack(pack))
            backend.delete(layout.pack_index(pack))
        if report.single:
            held.check()
            backend.delete(bkey)
        self.cache.evict(digest)
        with contextlib.suppress(FileNotFoundError):
            self.cache.partial(digest).unlink()
        return report


def _entry(art: Artifact, path: str) -> Entry:
    """The file ``path`` of ``art``, refusing what has no bytes in the store to purge."""
    if not isinstance(path, str) or not path.strip("/"):
        raise InvalidInputError(f"purge takes the path of a file of {art.qualified_name}, got {path!r}")
    p = path.strip("/")
    man = art.manifest
    entry = man.entry(p) or man.entry(p + ".parquet")
    if entry is None:
        inside = man.page(p + "/", p + "/", 4)
        if inside:
            shown = ", ".join(repr(e.path) for e in inside[:3]) + (", ..." if len(inside) > 3 else "")
            raise InvalidInputError(
                f"{art.qualified_name}: {p!r} is a folder ({shown}); purge takes one file at a time, "
                "so that nothing is removed by mistake: purge each of its files"
            )
        parent = p.rpartition("/")[0]
        near = [e.path for e in man.page(parent + "/" if parent else "", parent + "/" if parent else "", 10_000)]
        raise EntryNotFoundError(f"{art.qualified_name} has no file {p!r}{did_you_mean(p, near)}")
    if entry.kind == "reference" or entry.digest is None:
        raise InvalidInputError(
            f"{art.qualified_name} entry {entry.path!r} is a reference to {entry.extra.get('uri')}: its bytes "
            "are not in the store, so there is nothing to purge (remove them where they are)"
        )
    if entry.size == 0:
        raise InvalidInputError(
            f"{art.qualified_name} entry {entry.path!r} is empty: it holds no bytes to purge (its path is in "
            "the manifest, which no purge rewrites)"
        )
    return entry


def _record(backend: Backend, digest: Digest) -> PurgeRecord:
    found, bad = read_purges(backend, [digest])
    if digest not in found:
        key = layout.purge_record(digest)
        raise bad.get(key) or StoreError(f"purge record {key} in store {backend.url} vanished while purging")
    return found[digest]


def _packs_holding(backend: Backend, digest: Digest) -> dict[Digest, dict[Digest, Location]]:
    """Every pack whose index names ``digest``, with all the blobs it holds: one listing and
    every index (the same bytes may be in several packs: copies, a repack gc began)."""
    folder = layout.packs_dir(digest.algorithm)
    keys = sorted(f"{folder}/{n}" for n in backend.listdir(folder) if n.endswith(".index"))
    raw = bytes.fromhex(digest.hex)
    assert len(raw) == DIGEST_BYTES
    out = {}
    for at in range(0, len(keys), INDEX_BATCH):
        for key, data in backend.read_many(keys[at : at + INDEX_BATCH]).items():
            if data is None:
                continue  # removed meanwhile
            pack = Digest(digest.algorithm, key.rsplit("/", 1)[-1].removesuffix(".index"))
            _, blobs = PackIndex.raw_from_bytes(data, f"pack index {key} in store {backend.url}", pack)
            if any(b[0] == raw for b in blobs):
                out[pack] = {Digest(digest.algorithm, r.hex()): Location(pack, o, n) for r, o, n in blobs}
    return out


def _holders(catalog: Catalog, digest: Digest, named: tuple[str, str]) -> list[tuple[str, str]]:
    """(version, path) of every live version holding ``digest`` (each manifest read, as gc
    does); a version whose manifest cannot be read is left out (``verify`` names it)."""
    out = {named}
    for at, key, data in live_versions(catalog, catalog.projects()):
        if data is None:
            continue
        try:
            rec = VersionRecord.from_bytes(data, f"version record {key}", at=at)
            out.update(
                (rec.qualified_name, e.path)
                for e in catalog.manifest(rec.manifest).iter_entries()
                if e.digest == digest and e.kind != "reference"
            )
        except ArtifactFSError:
            continue
    return sorted(out)
