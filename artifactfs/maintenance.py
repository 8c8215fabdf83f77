"""Store maintenance: verify what a store holds, and collect garbage safely."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import layout
from .catalog import Catalog
from .errors import (
    ArtifactFSError,
    ArtifactNotFoundError,
    FormatError,
    IntegrityError,
    KeyNotFoundError,
    MisplacedRecordError,
    StoreError,
)
from .hashing import Digest, hash_bytes, matches
from .leases import LEASE_TTL, gc_lock, live_leases
from .manifest import Entry, Location, Manifest
from .markers import ClaimResolution, ReferencedByMarker, UsedByMarker
from .packing import read_packed
from .records import (
    AliasEvent,
    RunRecord,
    Tombstone,
    VersionRecord,
)

__all__ = ["GcReport", "Problem", "gc", "verify"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a store: ``kind`` is missing, size, digest, undecodable, misplaced (a
    record that disagrees with its key) or dangling (pointing at something that is not there)."""

    kind: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.key}: {self.message}"


@dataclass(slots=True)
class GcReport:
    """What garbage collection freed (or, in a dry run, would free)."""

    dry_run: bool
    blobs: int = 0
    manifests: int = 0
    temp_files: int = 0
    packs: int = 0  # packs freed whole (none of their files is live)
    pack_files: int = 0  # packs, their indexes and forwarding records
    bytes: int = 0
    kept_young: int = 0  # unreferenced but younger than the grace period
    deferred: int = 0  # commits still in flight after gc waited for them: nothing was deleted
    keys: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.blobs + self.manifests + self.temp_files + self.pack_files


def _live_versions(
    catalog: Catalog, projects: list[str], skip: set[str] | frozenset[str] = frozenset()
) -> Iterator[tuple[tuple[str, str, int], str, bytes | None]]:
    """((project, name, number), record key, bytes or None) of every version that is not
    deleted (but those whose keys are in ``skip``)."""
    for project in projects:
        for name in catalog.artifact_names(project):
            numbers, _ = catalog.live_numbers(project, name)
            ids = {k: (project, name, n) for n in numbers if (k := layout.version_record(project, name, n)) not in skip}
            for key, data in catalog.backend.read_many(ids).items():
                yield ids[key], key, data


def _problem(e: FormatError, key: str) -> Problem:
    return Problem("misplaced" if isinstance(e, MisplacedRecordError) else "undecodable", key, str(e))


def verify(catalog: Catalog, project: str | None = None, deep: bool = False) -> list[Problem]:
    """Check every live version: record, manifest and blobs (re-hashed when ``deep``); and
    every alias event, tombstone, claim resolution, marker and run record: each decodes,
    agrees with its key, and points at something that exists."""
    backend = catalog.backend
    problems: list[Problem] = []
    projects = [project] if project else catalog.projects()
    blobs, packs = backend.walk("blobs"), backend.walk("packs")
    hashed: dict[Digest, bool] = {}
    for at, key, data in _live_versions(catalog, projects):
        if data is None:
            problems.append(Problem("missing", key, "version record vanished while verifying"))
            continue
        try:
            rec = VersionRecord.from_bytes(data, f"version record {key}", at=at)
        except FormatError as e:
            problems.append(_problem(e, key))
            continue
        mkey = layout.manifest(rec.manifest)
        try:
            mdata = backend.read(mkey)
        except KeyNotFoundError:
            problems.append(Problem("missing", mkey, f"manifest of {rec.qualified_name}"))
            continue
        if hash_bytes(mdata, rec.manifest.algorithm) != rec.manifest:
            problems.append(Problem("digest", mkey, f"manifest of {rec.qualified_name} is corrupt"))
            continue
        try:
            manifest = Manifest.from_bytes(mdata, f"manifest {mkey}", loader=catalog.shard)
        except FormatError as e:
            problems.append(_problem(e, mkey))
            continue
        if (manifest.name, manifest.type) != (rec.name, rec.type):
            problems.append(
                Problem(
                    "misplaced",
                    key,
                    f"{rec.qualified_name} (type {rec.type!r}) points at the manifest of "
                    f"{manifest.name!r} (type {manifest.type!r})",
                )
            )
            continue
        in_packs: dict[Digest, tuple[Location, str]] = {}
        for entry in _entries(catalog, manifest, rec, problems):
            if entry.digest is None:
                continue  # external reference: checked when downloaded
            bkey = layout.blob(entry.digest)
            where = f"{rec.qualified_name} entry {entry.path!r}"
            pkey = layout.pack(entry.where.pack) if entry.where is not None else ""
            if entry.where is not None and pkey in packs:
                end = entry.where.offset + entry.where.length
                if end > packs[pkey][0]:
                    problems.append(Problem("size", pkey, f"{where} ends at byte {end:,}, past the pack's end"))
                elif deep and entry.digest not in hashed:
                    in_packs[entry.digest] = (entry.where, where)
            elif bkey not in blobs:
                problems.append(Problem("missing", bkey, f"blob of {where}"))
            elif blobs[bkey][0] != entry.size:
                problems.append(
                    Problem("size", bkey, f"blob of {where} has {blobs[bkey][0]} bytes, expected {entry.size}")
                )
            elif deep:
                if entry.digest not in hashed:
                    with backend.open(bkey) as f:
                        hashed[entry.digest] = matches(f, entry.digest, entry.size)
                if not hashed[entry.digest]:
                    problems.append(Problem("digest", bkey, f"blob of {where} does not match its digest"))
        for d, data in read_packed(backend, in_packs):
            hashed[d] = data is not None and matches(data, d, in_packs[d][0].length)
            if not hashed[d]:
                pkey = layout.pack(in_packs[d][0].pack)
                problems.append(Problem("digest", pkey, f"{in_packs[d][1]}: its bytes in the pack do not match"))
    for p in projects:
        problems.extend(_verify_records(catalog, p))
    return problems


def _decoded(problems: list[Problem], found: dict[str, bytes | None], decode: Callable[[str, bytes], object]) -> None:
    for key, data in found.items():
        try:
            decode(key, data or b"")
        except FormatError as e:
            problems.append(_problem(e, key))


def _verify_records(catalog: Catalog, project: str) -> list[Problem]:
    """Alias events, tombstones, claim resolutions, markers and runs of one project."""
    backend = catalog.backend
    problems: list[Problem] = []
    for name in catalog.artifact_names(project):
        numbers = set(catalog.version_numbers(project, name))
        adir = layout.aliases_dir(project, name)
        events = {f"{adir}/{a}/{e}": a for a in backend.listdir(adir) for e in backend.listdir(f"{adir}/{a}")}
        for key, data in backend.read_many(events).items():
            try:
                ev = AliasEvent.from_bytes(data or b"", f"alias event {key}", alias=events[key])
            except FormatError as e:
                problems.append(_problem(e, key))
                continue
            if ev.version is not None and ev.version not in numbers:
                problems.append(Problem("dangling", key, f"alias {ev.alias!r} points at missing v{ev.version}"))
        problems.extend(_verify_tombstones(catalog, project, name, numbers))
        problems.extend(_verify_resolutions(catalog, project, name))
    for kind in ("used-by", "referenced-by"):
        markers = list(backend.walk(f"{layout.project_dir(project)}/{kind}"))
        for key, data in backend.read_many(markers).items():
            leaf = key.rsplit("/", 1)[-1]
            what = f"{kind} marker {key}"
            try:
                if kind == "used-by":
                    UsedByMarker.from_bytes(data or b"", what, run=leaf)
                else:
                    ReferencedByMarker.from_bytes(data or b"", what, manifest=layout.parse_marker_digest(leaf, what))
            except FormatError as e:
                problems.append(_problem(e, key))
    rdir = layout.runs_dir(project)
    runs = {f"{rdir}/{n}": n.removesuffix(".msgpack") for n in backend.listdir(rdir)}
    _decoded(problems, backend.read_many(runs), lambda k, d: RunRecord.from_bytes(d, k, at=(project, runs[k])))
    return problems


def _verify_tombstones(catalog: Catalog, project: str, name: str, numbers: set[int]) -> list[Problem]:
    backend = catalog.backend
    problems: list[Problem] = []
    tdir = layout.tombstones_dir(project, name)
    stones = {f"{tdir}/{n}": seq for n in backend.listdir(tdir) if (seq := layout.parse_seq(n)) is not None}
    _decoded(problems, backend.read_many(stones), lambda k, d: Tombstone.from_bytes(d, k, version=stones[k]))
    problems.extend(Problem("dangling", k, f"tombstone of missing v{n}") for k, n in stones.items() if n not in numbers)
    return problems


def _verify_resolutions(catalog: Catalog, project: str, name: str) -> list[Problem]:
    """Each claim resolution names a version that holds the content its folder is named by."""
    backend = catalog.backend
    problems: list[Problem] = []
    top = f"{layout.artifact_dir(project, name)}/digests"
    for folder in backend.listdir(top):
        what = f"content claim folder {top}/{folder}"
        try:
            content = layout.parse_marker_digest(folder, what)
        except FormatError as e:
            problems.append(_problem(e, f"{top}/{folder}"))
            continue
        keys = [f"{top}/{folder}/{n}" for n in backend.listdir(f"{top}/{folder}") if layout.parse_seq(n) is not None]
        for key, data in backend.read_many(keys).items():
            try:
                version = ClaimResolution.from_bytes(data or b"", f"content claim resolution {key}").version
                rec = catalog.version(project, name, version)
            except FormatError as e:
                problems.append(_problem(e, key))
                continue
            except ArtifactNotFoundError:
                problems.append(Problem("dangling", key, f"names missing v{version}"))
                continue
            if rec.content != content:
                problems.append(Problem("misplaced", key, f"names v{version}, which holds other content"))
    return problems


def _entries(catalog: Catalog, manifest: Manifest, rec: VersionRecord, problems: list[Problem]) -> Iterator[Entry]:
    """The entries of ``manifest``, a shard at a time; a shard that is missing, corrupt or not
    what its manifest lists is a problem, and its entries are skipped."""
    if not manifest.sharded:
        yield from manifest.entries
        return
    for ref in manifest.shards:
        skey = layout.manifest(ref.shard)
        try:
            entries = manifest.shard_entries(ref)
        except IntegrityError as e:
            kind = "digest" if catalog.backend.exists(skey) else "missing"
            problems.append(Problem(kind, skey, f"manifest shard of {rec.qualified_name}: {e}"))
            continue
        except FormatError as e:
            problems.append(_problem(e, skey))
            continue
        yield from entries


def _mark(catalog: Catalog, skip: set[str]) -> tuple[set[str], set[str]]:
    """(keys reachable from the live versions not in ``skip``, the version record keys read)."""
    reachable: set[str] = set()
    manifests: dict[str, Digest] = {}
    seen: set[str] = set()
    for at, key, data in _live_versions(catalog, catalog.projects(), skip):
        seen.add(key)
        if data is None:
            continue
        try:
            rec = VersionRecord.from_bytes(data, f"version record {key}", at=at)
        except FormatError as e:
            raise StoreError(f"gc stopped: cannot decode {key} ({e}); fix or remove it, then run gc again") from e
        manifests[layout.manifest(rec.manifest)] = rec.manifest
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
                        reachable.update(_pack_keys(entry.where.pack))
        except ArtifactFSError as e:
            raise StoreError(f"gc stopped: a shard of manifest {mkey} is unreadable ({e}); run verify") from e
    return reachable, seen


def _pack_keys(pack: Digest) -> tuple[str, str, str]:
    return layout.pack(pack), layout.pack_index(pack), layout.pack_moved(pack)


def _drain(catalog: Catalog, wait: float) -> int:
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
    candidates = {**backend.walk("blobs"), **backend.walk("manifests"), **backend.walk("packs"), **backend.walk("tmp")}
    reachable, seen = _mark(catalog, set())
    doomed: list[tuple[str, int]] = []
    # A pack's index goes before its pack, so an index never names a pack that is gone.
    for key, (size, mtime) in sorted(candidates.items(), key=lambda kv: (not kv[0].endswith(".index"), kv[0])):
        if key in reachable:
            continue
        if mtime > cutoff:
            report.kept_young += 1
            continue
        doomed.append((key, size))
    if dry_run or not doomed:
        for key, size in doomed:
            _count(report, key, size)
        return report
    with gc_lock(backend, lease_ttl) as held:
        report.deferred = _drain(catalog, wait)
        if report.deferred:
            return report
        more, _ = _mark(catalog, seen)  # versions committed while gc marked the first time
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
