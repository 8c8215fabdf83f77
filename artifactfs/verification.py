"""Verifying a store: every live version's record, manifest (and shards) and blobs (packed
or single), and every other record, each checked to decode and agree with its key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from . import layout
from .backend import Backend
from .catalog import Catalog
from .errors import ArtifactNotFoundError, FormatError, IntegrityError, KeyNotFoundError, MisplacedRecordError
from .hashing import Digest, hash_bytes, matches
from .manifest import Entry, Location, Manifest
from .markers import ClaimResolution, ReferencedByMarker, UsedByMarker
from .packing import PackSet, forwarded, read_packed
from .purge_records import read_purges
from .records import AliasEvent, ArtifactVersionId, RunRecord, Tombstone, VersionRecord
from .uris import reference_problem

__all__ = ["Problem", "live_versions", "verify"]

REFERENCE_CHECKS = 16  # external references asked about at once (each is one request, or one read)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a store: ``kind`` is missing, size, digest, undecodable, misplaced (a
    record that disagrees with its key) or dangling (pointing at something that is not there);
    for an external reference (``key`` is its URI), missing, changed or unreachable."""

    kind: str
    key: str
    message: str
    warning: bool = False  # lineage that leads outside the store: nothing in it is damaged

    def __str__(self) -> str:
        return f"{'warning: ' if self.warning else ''}{self.kind}: {self.key}: {self.message}"


def live_versions(
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


def verify(
    catalog: Catalog, project: str | None = None, deep: bool = False, lineage: bool = False, references: bool = False
) -> list[Problem]:
    """Check every live version: record, manifest and blobs (re-hashed when ``deep``); and
    every alias event, tombstone, claim resolution, marker and run record: each decodes,
    agrees with its key, and points at something that exists. With ``lineage``, versions
    whose upstream versions or logging run this store does not hold (copied without
    ``with_lineage``) are reported too, as warnings. With ``references``, every external
    reference is checked against what was recorded (a request per referenced object)."""
    backend = catalog.backend
    problems: list[Problem] = []
    made: list[tuple[VersionRecord, tuple[ArtifactVersionId, ...]]] = []
    outside: dict[tuple[object, ...], tuple[Entry, list[str]]] = {}  # external references, and who names each
    projects = [project] if project else catalog.projects()
    checker = _BlobChecker(backend, backend.walk("blobs"), backend.walk("packs"), deep, problems, own=PackSet(backend))
    for at, key, data in live_versions(catalog, projects):
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
        named = rec.linked.name if rec.linked is not None else rec.name  # a registry version: its source's
        if (manifest.name, manifest.type) != (named, rec.type):
            problems.append(
                Problem(
                    "misplaced",
                    key,
                    f"{rec.qualified_name} (type {rec.type!r}) points at the manifest of "
                    f"{manifest.name!r} (type {manifest.type!r})",
                )
            )
            continue
        if lineage:
            made.append((rec, manifest.upstream))
        repacked: list[Entry] = []  # naming a pack gc repacked: followed below
        for entry in _entries(catalog, manifest, rec, problems):
            if entry.kind == "reference" or entry.digest is None:
                if references and entry.kind == "reference":
                    names = outside.setdefault(_recorded(entry), (entry, []))[1]
                    names.append(f"{rec.qualified_name} entry {entry.path!r}")
                continue  # outside the store (its digest, if any, names no blob here)
            if entry.where is not None and layout.pack(entry.where.pack) not in checker.packs:
                repacked.append(entry)
            else:
                checker.check(entry, entry.where, rec.qualified_name)
        if repacked:
            moved = forwarded(backend, {e.digest: e.where for e in repacked if e.digest and e.where}, checker.own)
            for entry in repacked:  # not moved: a single blob here (a copied version)
                checker.check(entry, moved.get(entry.digest) if entry.digest else None, rec.qualified_name)
        checker.hash_packed()
    _purged(backend, problems, checker.missing)
    for p in projects:
        problems.extend(_verify_records(catalog, p))
    return problems + _check_references(outside) + _outside(catalog, made)


def _recorded(entry: Entry) -> tuple[object, ...]:
    """What a reference entry records of its object, whatever its path: an object that many
    versions (or entries) reference the same way is asked about once."""
    x = entry.extra
    return (x["uri"], entry.digest, entry.size, x.get("etag"), x.get("checksum"))


def _check_references(outside: dict[tuple[object, ...], tuple[Entry, list[str]]]) -> list[Problem]:
    """A problem for each entry whose external object is missing, changed or unreachable."""
    problems = []
    with ThreadPoolExecutor(REFERENCE_CHECKS) as pool:  # a request each: many at once
        found = pool.map(lambda item: reference_problem(item[0], item[1][0]), outside.values())
        for (entry, names), problem in zip(outside.values(), found, strict=True):
            if problem is not None:
                kind, message = problem
                uri = str(entry.extra["uri"])
                problems += [Problem(kind, uri, message.replace(names[0], what, 1)) for what in names]
    return problems


def _purged(backend: Backend, problems: list[Problem], missing: dict[Digest, list[Problem]]) -> None:
    """Take back the problems of missing blobs that were purged on purpose (a purge record
    says so): nothing is wrong there. Records are read for missing blobs only, so a healthy
    store pays no request for them; one that does not decode is a problem of its own."""
    if not missing:
        return
    found, bad = read_purges(backend, missing)
    if found:
        excused = {id(p) for d in found for p in missing[d]}
        problems[:] = [p for p in problems if id(p) not in excused]
    problems.extend(_problem(e, key) for key, e in bad.items())


def _outside(catalog: Catalog, made: list[tuple[VersionRecord, tuple[ArtifactVersionId, ...]]]) -> list[Problem]:
    """Warnings for lineage that leads out of the store: upstream versions and logging runs
    it does not hold (a version copied without its lineage)."""
    here = {rec.manifest for rec, _ in made}
    runs: dict[str, set[str]] = {}
    out = []
    for rec, upstream in made:
        key = layout.version_record(rec.project, rec.name, rec.version)
        fix = _fix(rec)
        for ident in upstream:
            if ident.manifest not in here and not _held(catalog, ident):
                out.append(
                    Problem(
                        "lineage",
                        key,
                        f"{rec.qualified_name} references {ident.qualified_name}, which is not in this store{fix}",
                        warning=True,
                    )
                )
        if rec.run_project is not None and rec.run_id is not None:
            if rec.run_project not in runs:
                names = catalog.backend.listdir(layout.runs_dir(rec.run_project))
                runs[rec.run_project] = {n.removesuffix(".msgpack") for n in names}
            if rec.run_id not in runs[rec.run_project]:
                out.append(
                    Problem(
                        "lineage",
                        key,
                        f"{rec.qualified_name} was logged by run "
                        f"{rec.run_project}/{rec.run_id}, which is not in this store{fix}",
                        warning=True,
                    )
                )
    return out


def _held(catalog: Catalog, ident: ArtifactVersionId) -> bool:
    try:
        catalog.find(ident)  # (a deleted version is held: its lineage shows it as deleted)
        return True
    except ArtifactNotFoundError:
        return False


def _fix(rec: VersionRecord) -> str:
    origin = rec.origin.get("store") if rec.origin else None
    if not origin:
        return ""
    command = f"artifactfs copy {origin} STORE {rec.qualified_name} --with-lineage"
    return f" (copied from {origin} without its lineage: {command})"


@dataclass
class _BlobChecker:
    """Checks entries' blobs against one listing of the store's blobs and packs: present, of
    the right size, and (``deep``) hashing to their digest, each blob hashed once."""

    backend: Backend
    blobs: dict[str, tuple[int, float]]
    packs: dict[str, tuple[int, float]]
    deep: bool
    problems: list[Problem]
    hashed: dict[Digest, bool] = field(default_factory=dict)
    in_packs: dict[Digest, tuple[Location, str]] = field(default_factory=dict)
    own: PackSet | None = None  # the store's pack indexes, read once if a copied version needs them
    missing: dict[Digest, list[Problem]] = field(default_factory=dict)  # (purged ones are excused)

    def check(self, entry: Entry, at: Location | None, qualified: str) -> None:
        assert entry.digest is not None
        bkey, where = layout.blob(entry.digest), f"{qualified} entry {entry.path!r}"
        pkey = layout.pack(at.pack) if at is not None else ""
        if at is not None and pkey in self.packs:
            end = at.offset + at.length
            if end > self.packs[pkey][0]:
                self.problems.append(Problem("size", pkey, f"{where} ends at byte {end:,}, past the pack's end"))
            elif self.deep and entry.digest not in self.hashed:
                self.in_packs[entry.digest] = (at, where)
        elif bkey not in self.blobs:
            self.problems.append(Problem("missing", pkey or bkey, f"blob of {where}"))
            self.missing.setdefault(entry.digest, []).append(self.problems[-1])
        elif self.blobs[bkey][0] != entry.size:
            message = f"blob of {where} has {self.blobs[bkey][0]} bytes, expected {entry.size}"
            self.problems.append(Problem("size", bkey, message))
        elif self.deep:
            if entry.digest not in self.hashed:
                with self.backend.open(bkey) as f:
                    self.hashed[entry.digest] = matches(f, entry.digest, entry.size)
            if not self.hashed[entry.digest]:
                self.problems.append(Problem("digest", bkey, f"blob of {where} does not match its digest"))

    def hash_packed(self) -> None:
        """Hash the packed blobs checked so far, reading their ranges merged per pack."""
        for d, data in read_packed(self.backend, self.in_packs, packs=self.own):
            self.hashed[d] = data is not None and matches(data, d, self.in_packs[d][0].length)
            if not self.hashed[d]:
                pkey = layout.pack(self.in_packs[d][0].pack)
                self.problems.append(
                    Problem("digest", pkey, f"{self.in_packs[d][1]}: its bytes in the pack do not match")
                )
        self.in_packs.clear()


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
