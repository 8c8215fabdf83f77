"""Collecting garbage safely: what no live version needs, older than a grace period, is
freed once the commits in flight are done; packs mostly garbage are repacked."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from . import layout
from .catalog import Catalog
from .errors import (
    ArtifactFSError,
    FormatError,
    StoreError,
)
from .hashing import ALGORITHMS, Digest
from .leases import LEASE_TTL, gc_lock, live_leases
from .manifest import Location
from .packing import HOPS, PackSet, repack
from .packs import REPACK_BELOW, PackMoved
from .records import PartRecord, VersionRecord
from .verification import live_versions

__all__ = ["GcReport", "drain", "gc"]

Listing = dict[str, tuple[int, float]]  # key -> (size, modification time)


@dataclass(slots=True)
class GcReport:
    """What garbage collection freed (or, in a dry run, would free)."""

    dry_run: bool
    blobs: int = 0
    manifests: int = 0
    temp_files: int = 0
    packs: int = 0  # packs freed whole (none of their files is live)
    repacked: int = 0  # packs mostly garbage, whose live files were moved to a new pack
    pack_files: int = 0  # packs, their indexes and forwarding records
    bytes: int = 0
    kept_young: int = 0  # unreferenced but younger than the grace period
    deferred: int = 0  # commits still in flight after gc waited for them: nothing was deleted
    keys: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.blobs + self.manifests + self.temp_files + self.pack_files


@dataclass(slots=True)
class _Marked:
    """What the live versions need: keys, version records read, and each pack's live blobs."""

    reachable: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    live: dict[Digest, dict[Digest, Location]] = field(default_factory=dict)


def _mark(catalog: Catalog, skip: set[str], packs: Listing) -> _Marked:
    """What the live versions not in ``skip`` need; ``packs`` lists the packs there are (a
    pack a manifest names that is not among them was repacked: its forwarding record says
    where its blobs went, and those packs are live too)."""
    marked = _Marked()
    reachable, live = marked.reachable, marked.live
    manifests: dict[str, Digest] = {}
    for at, key, data in live_versions(catalog, catalog.projects(), skip):
        marked.seen.add(key)
        if data is None:
            continue
        try:
            rec = VersionRecord.from_bytes(data, f"version record {key}", at=at)
        except FormatError as e:
            raise StoreError(f"gc stopped: cannot decode {key} ({e}); fix or remove it, then run gc again") from e
        manifests[layout.manifest(rec.manifest)] = rec.manifest
    manifests |= _part_manifests(catalog)
    for mkey, digest in manifests.items():
        reachable.add(mkey)
        try:
            manifest = catalog.manifest(digest)
        except ArtifactFSError as e:
            # Without the manifest we cannot know which blobs it needs: sweep nothing.
            raise StoreError(f"gc stopped: manifest {mkey} is unreadable ({e}); run verify") from e
        reachable.update(layout.manifest(ref.shard) for ref in manifest.shards)
        try:
            for entry in manifest.iter_entries():
                if entry.digest is not None:
                    # A packed entry keeps its pack (and its index), and a single blob of its
                    # bytes if there is one (a copied version's, whose pack stayed behind).
                    reachable.add(layout.blob(entry.digest))
                    if entry.where is not None:
                        live.setdefault(entry.where.pack, {})[entry.digest] = entry.where
        except ArtifactFSError as e:
            raise StoreError(f"gc stopped: a shard of manifest {mkey} is unreadable ({e}); run verify") from e
    _follow_moved(catalog, live, packs)
    for pack in live:
        reachable.update((layout.pack(pack), layout.pack_index(pack), layout.pack_moved(pack)))
    return marked


def _part_manifests(catalog: Catalog) -> dict[str, Digest]:
    """The manifests of parts not finished yet (distributed.py): their blobs are kept too."""
    keys = [
        k for k in catalog.backend.walk("parts") if k.rsplit("/", 1)[-1].startswith(tuple(f"{a}-" for a in ALGORITHMS))
    ]
    out = {}
    for key, data in catalog.backend.read_many(keys).items():
        if data is not None:
            try:
                part = PartRecord.from_bytes(data, f"part {key}")
            except FormatError as e:
                raise StoreError(f"gc stopped: cannot decode {key} ({e}); fix or remove it, then run gc again") from e
            out[layout.manifest(part.manifest)] = part.manifest
    return out


def _follow_moved(
    catalog: Catalog, live: dict[Digest, dict[Digest, Location]], packs: dict[str, tuple[int, float]]
) -> None:
    """Add to ``live`` the packs that hold the blobs of packs not in this store: those that
    repacked packs' blobs moved to, and, for a version copied from another store, the store's
    own packs holding the same blobs (single blobs are marked already)."""
    todo = [p for p in live if layout.pack(p) not in packs]
    lost: dict[Digest, Location] = {}
    for _ in range(HOPS):
        if not todo:
            break
        found = catalog.backend.read_many([layout.pack_moved(p) for p in todo])
        nxt = []
        for pack in todo:
            raw = found.get(layout.pack_moved(pack))
            try:
                moved = PackMoved.from_bytes(raw, f"pack record {layout.pack_moved(pack)}", pack).blobs if raw else {}
            except FormatError as e:
                raise StoreError(f"gc stopped: {e}; run verify") from e
            for d, at in live[pack].items():
                if (to := moved.get(d)) is not None:
                    if to.pack not in live and layout.pack(to.pack) not in packs:
                        nxt.append(to.pack)
                    live.setdefault(to.pack, {})[d] = to
                else:
                    lost[d] = at
        todo = nxt
    for d, at in PackSet(catalog.backend).here(lost).items() if lost else ():
        live.setdefault(at.pack, {})[d] = at


def _sparse(live: dict[Digest, dict[Digest, Location]], packs: Listing, cutoff: float) -> list[Digest]:
    """Packs older than the grace whose live blobs fill less than REPACK_BELOW of them."""
    out = []
    for pack, blobs in sorted(live.items()):
        size, mtime = packs.get(layout.pack(pack), (0, 0.0))
        if size and mtime <= cutoff and sum(w.length for w in blobs.values()) < REPACK_BELOW * size:
            out.append(pack)
    return out


def drain(catalog: Catalog, wait: float) -> int:
    """Wait up to ``wait`` seconds for in-flight commits to finish; how many are left."""
    deadline = time.monotonic() + wait
    pause = 0.05
    while live := live_leases(catalog.backend, layout.commit_leases_dir()):
        if time.monotonic() >= deadline:
            return len(live)
        time.sleep(pause)
        pause = min(pause * 2, 1.0)
    return 0


def gc(
    catalog: Catalog, grace: dt.timedelta, dry_run: bool, wait: float = 60.0, lease_ttl: float = LEASE_TTL
) -> GcReport:
    """Free blobs and manifests that no live version references and that are older than ``grace``.

    Candidates are listed first and references marked after, so a version committed meanwhile
    keeps its blobs; blobs younger than ``grace`` survive. Before deleting, gc takes the store's
    gc lock, waits (up to ``wait`` seconds) for the commits in flight to finish (their leases:
    see :mod:`artifactfs.leases`), marks again the versions they made, and on a local store
    checks each file's age again; commits that start meanwhile wait for gc. If commits are
    still in flight after ``wait``, nothing is deleted and the report says how many.
    """
    backend = catalog.backend
    report = GcReport(dry_run=dry_run)
    cutoff = time.time() - grace.total_seconds()
    packs = backend.walk("packs")
    candidates = {**backend.walk("blobs"), **backend.walk("manifests"), **packs, **backend.walk("tmp")}
    first = _mark(catalog, set(), packs)
    reachable = first.reachable
    sparse = _sparse(first.live, packs, cutoff)
    report.repacked = len(sparse)
    doomed: list[tuple[str, int]] = []
    # A pack's index goes before its pack, so an index never names a pack that is gone.
    for key, (size, mtime) in sorted(candidates.items(), key=lambda kv: (not kv[0].endswith(".index"), kv[0])):
        if key in reachable:
            continue
        if mtime > cutoff:
            report.kept_young += 1
            continue
        doomed.append((key, size))
    if dry_run or not (doomed or sparse):
        for key, size in doomed:
            _count(report, key, size)
        return report
    with gc_lock(backend, lease_ttl) as held:
        report.deferred = drain(catalog, wait)
        if report.deferred:
            report.repacked = 0
            return report
        again = _mark(catalog, first.seen, packs)  # versions committed while gc marked the first time
        more = again.reachable
        for pack in sparse:
            held.check()
            # Blobs of it the new versions use are moved too; the old pack goes after its
            # forwarding record is written, its index first.
            moved = repack(backend, pack, {**first.live[pack], **again.live.get(pack, {})})
            # The new packs are live, even one equal to a garbage pack listed above (a repack
            # that an earlier gc began): it must not be deleted below.
            more.update(k for w in moved.values() for k in (layout.pack(w.pack), layout.pack_index(w.pack)))
            for key in (layout.pack_index(pack), layout.pack(pack)):
                backend.delete(key)
                _count(report, key, packs[key][0] if key in packs else 0)
            report.packs -= 1  # rewritten, not freed whole
        for key, size in doomed:
            if key in more:
                continue
            if backend.local_files:
                now = backend.modified(key)
                if now is None:
                    continue  # gone meanwhile
                if now > cutoff:
                    report.kept_young += 1  # re-used (refreshed) or written again since it was listed
                    continue
            held.check()
            backend.delete(key)
            _count(report, key, size)
    return report


def _count(report: GcReport, key: str, size: int) -> None:
    if key.startswith("blobs/"):
        report.blobs += 1
    elif key.startswith("manifests/"):
        report.manifests += 1
    elif key.startswith("packs/"):
        report.packs += int(key.endswith(".pack"))
        report.pack_files += 1
    else:
        report.temp_files += 1
    report.bytes += size
    report.keys.append(key)
