"""Store: read-side queries over one store, and the reads behind logged artifacts."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Literal

from . import codec, layout
from .artifact import Artifact
from .cache import BlobCache
from .errors import (
    ArtifactFSError,
    ArtifactNotFoundError,
    ArtifactStateError,
    ArtifactTypeError,
    FormatError,
    IntegrityError,
    InvalidInputError,
    MisplacedRecordError,
    ProjectNotFoundError,
    RunNotFoundError,
    StoreNotFoundError,
)
from .hashing import DEFAULT_ALGORITHM, Digest, hash_bytes, hash_file, hash_stream
from .leases import LEASE_TTL
from .lineage import LineageGraph, Node
from .maintenance import GcReport, Problem, gc, verify
from .manifest import Entry, Manifest
from .partitioned import PartitionedTable
from .records import (
    AliasEvent,
    ArtifactVersionId,
    ReferencedByMarker,
    RunRecord,
    StoreDescriptor,
    Tombstone,
    UsedByMarker,
    VersionRecord,
)
from .refs import LATEST, ArtifactRef, check_alias, check_name, parse_ref
from .settings import default_cache_dir, default_concurrency, default_store_url
from .statcache import StatCache
from .storage import Backend, KeyNotFoundError
from .table import Table
from .verified import VerifiedReader

__all__ = ["ArtifactSummary", "Store", "open_store"]


@dataclass(frozen=True, slots=True)
class ArtifactSummary:
    """One artifact of a project: its type, how many versions, and the newest one."""

    project: str
    name: str
    type: str
    version_count: int
    latest_version: int
    updated_at: str


class Store:
    """A store of versioned artifacts on one fsspec filesystem root.

    Open one with :func:`open_store`. Read-side queries (``projects``, ``artifacts``,
    ``versions``, ``artifact``, ``runs``, ``run``) need no run.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        cache: BlobCache | None = None,
        workers: int = 8,
        claim_lease: float = 60.0,
        lease_ttl: float = LEASE_TTL,
    ) -> None:
        self.backend = backend
        self.cache = cache if cache is not None else BlobCache(default_cache_dir())
        self.stat_cache = StatCache(self.cache.root / "stat.sqlite3")
        self.workers = workers
        self.claim_lease = claim_lease
        self.lease_ttl = lease_ttl  # of commit leases and gc locks (see leases.py)
        self._desc: StoreDescriptor | None = None
        self._records: dict[tuple[str, str, int], VersionRecord] = {}
        self._manifests: dict[Digest, Manifest] = {}
        self._finished_runs: dict[tuple[str, str], RunRecord] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.backend.url

    def __repr__(self) -> str:
        return f"<Store {self.url}>"

    # ------------------------------------------------------------------ descriptor
    def _descriptor(self) -> StoreDescriptor | None:
        """The store descriptor, read once (it never changes), or None if there is none yet.

        Its read is the first contact with the store: on a remote store it is bounded by
        ``$ARTIFACTFS_CONNECT_TIMEOUT`` (an unreachable bucket fails in seconds, not minutes).
        """
        if self._desc is None:
            try:
                raw = self.backend.read_first(layout.DESCRIPTOR)
            except KeyNotFoundError:
                return None
            self._desc = self.backend.set_layout(raw)
        return self._desc

    def _require_store(self) -> StoreDescriptor:
        """The descriptor; :class:`StoreNotFoundError` if the store does not exist (reading never
        creates one: only writing does)."""
        desc = self._descriptor()
        if desc is None:
            raise StoreNotFoundError(
                f"no store at {self.url}: it has no {layout.DESCRIPTOR} (check the path or URL; "
                "a store is made by the first log_artifact or init that writes to it)"
            )
        return desc

    @property
    def exists(self) -> bool:
        """Whether the store has been made (its descriptor exists)."""
        return self._descriptor() is not None

    @property
    def algorithm(self) -> str:
        """The digest algorithm of this store (from its descriptor; for a store not made yet,
        the one it will be made with)."""
        desc = self._descriptor()
        return desc.algorithm if desc is not None else DEFAULT_ALGORITHM

    def _ensure_writable(self) -> None:
        """Write the store descriptor on first use (create-if-absent, so writers agree)."""
        if self._descriptor() is not None:
            return
        desc = StoreDescriptor(codec.STORE_FORMAT, DEFAULT_ALGORITHM, 1, codec.utcnow())
        self.backend.create(layout.DESCRIPTOR, desc.to_bytes())
        self._require_store()

    # ------------------------------------------------------------------ records
    def _version_numbers(self, project: str, name: str) -> list[int]:
        names = self.backend.listdir(layout.versions_dir(project, name))
        return sorted(n for x in names if (n := layout.parse_seq(x)) is not None)

    def _live_numbers(self, project: str, name: str) -> tuple[list[int], set[int]]:
        """(live version numbers, deleted version numbers) of ``project/name``."""
        numbers = self._version_numbers(project, name)
        if not numbers:
            return [], set()
        names = self.backend.listdir(layout.tombstones_dir(project, name))
        deleted = {n for x in names if (n := layout.parse_seq(x)) is not None}
        return [n for n in numbers if n not in deleted], deleted

    def _tombstone(self, project: str, name: str, number: int) -> Tombstone | None:
        key = layout.tombstone(project, name, number)
        try:
            return Tombstone.from_bytes(self.backend.read(key), f"tombstone {key}", version=number)
        except KeyNotFoundError:
            return None

    def _version_record(self, project: str, name: str, number: int) -> VersionRecord:
        key = (project, name, number)
        rec = self._records.get(key)
        if rec is None:
            path = layout.version_record(project, name, number)
            try:
                data = self.backend.read(path)
            except KeyNotFoundError:
                raise ArtifactNotFoundError(f"{project}/{name}:v{number} not found in store {self.url}") from None
            rec = VersionRecord.from_bytes(data, f"version record {path}", at=key)
            self._records[key] = rec
        return rec

    def _prefetch_records(self, project: str, name: str, numbers: list[int]) -> None:
        """Read the version records not cached yet, in one batch."""
        missing = [n for n in numbers if (project, name, n) not in self._records]
        keys = [layout.version_record(project, name, n) for n in missing]
        for n, (key, data) in zip(missing, self.backend.read_many(keys).items(), strict=True):
            if data is not None:
                self._records[(project, name, n)] = VersionRecord.from_bytes(
                    data, f"version record {key}", at=(project, name, n)
                )

    def _manifest(self, digest: Digest) -> Manifest:
        man = self._manifests.get(digest)
        if man is None:
            path = layout.manifest(digest)
            try:
                data = self.backend.read(path)
            except KeyNotFoundError:
                raise IntegrityError(f"manifest {path} is missing from store {self.url}") from None
            if hash_bytes(data, digest.algorithm) != digest:
                raise IntegrityError(f"manifest {path} in store {self.url} does not match its digest")
            man = Manifest.from_bytes(data, f"manifest {path}")
            self._manifests[digest] = man
        return man

    def _alias_map(self, project: str, name: str) -> dict[str, int]:
        """Custom alias -> version, from the highest event of each alias."""
        adir = layout.aliases_dir(project, name)
        aliases = self.backend.listdir(adir)
        tops: dict[str, str] = {}
        for alias in aliases:
            seqs = [s for n in self.backend.listdir(f"{adir}/{alias}") if (s := layout.parse_seq(n)) is not None]
            if seqs:
                tops[alias] = layout.alias_event(project, name, alias, max(seqs))
        out: dict[str, int] = {}
        found = self.backend.read_many(tops.values())
        for alias, key in tops.items():
            data = found[key]
            if data is None:
                continue
            ev = AliasEvent.from_bytes(data, f"alias event {key}", alias=alias)
            if ev.version is not None:
                out[ev.alias] = ev.version
        return out

    def _resolve(self, ref: ArtifactRef) -> tuple[int, dict[str, int], int]:
        """(version, alias map, latest version) for a parsed reference."""
        assert ref.project is not None
        numbers, deleted = self._live_numbers(ref.project, ref.name)
        if not numbers:
            what = "has only deleted versions" if deleted else "not found"
            raise ArtifactNotFoundError(f"artifact {ref.project}/{ref.name} {what} in store {self.url}")
        latest = numbers[-1]
        aliases = {a: v for a, v in self._alias_map(ref.project, ref.name).items() if v not in deleted}
        if ref.tag == LATEST:
            return latest, aliases, latest
        if ref.version is not None:
            if ref.version in deleted:
                stone = self._tombstone(ref.project, ref.name, ref.version)
                when = f" at {stone.deleted_at}" if stone else ""
                raise ArtifactNotFoundError(f"{ref} was deleted{when} from store {self.url}")
            if ref.version not in numbers:
                raise ArtifactNotFoundError(f"{ref} not found in store {self.url}: the newest version is v{latest}")
            return ref.version, aliases, latest
        if ref.tag not in aliases:
            known = ", ".join(sorted(aliases)) or "none"
            raise ArtifactNotFoundError(f"alias {ref.tag!r} is not set on {ref.project}/{ref.name} (aliases: {known})")
        return aliases[ref.tag], aliases, latest

    def _record_manifest(self, rec: VersionRecord) -> Manifest:
        """The manifest of ``rec``, which must name the same artifact and type."""
        man = self._manifest(rec.manifest)
        if (man.name, man.type) != (rec.name, rec.type):
            raise MisplacedRecordError(
                f"{rec.qualified_name} in store {self.url}: its manifest {rec.manifest.short} is of "
                f"{man.name!r} (type {man.type!r}), not {rec.name!r} (type {rec.type!r})"
            )
        return man

    def _load(self, project: str, name: str, number: int, aliases: dict[str, int], latest: int) -> Artifact:
        rec = self._version_record(project, name, number)
        man = self._record_manifest(rec)
        names = ([LATEST] if number == latest else []) + sorted(a for a, v in aliases.items() if v == number)
        return Artifact._logged(self, rec, man, names)

    # ------------------------------------------------------------------ queries
    def projects(self) -> list[str]:
        """Names of the projects in this store, sorted."""
        self._require_store()
        return self.backend.listdir(layout.projects_dir())

    def _check_project(self, project: str) -> None:
        check_name(project, "project")
        self._require_store()
        if not self.backend.listdir(layout.project_dir(project)):
            raise ProjectNotFoundError(f"project {project!r} not found in store {self.url}")

    def artifacts(self, project: str, type: str | None = None) -> list[ArtifactSummary]:
        """The artifacts of a project (optionally of one type), sorted by name."""
        self._check_project(project)
        out = []
        for name in self.backend.listdir(layout.artifacts_dir(project)):
            numbers, _ = self._live_numbers(project, name)
            if not numbers:
                continue
            rec = self._version_record(project, name, numbers[-1])
            if type is not None and rec.type != type:
                continue
            out.append(ArtifactSummary(project, name, rec.type, len(numbers), numbers[-1], rec.created_at))
        return out

    def versions(self, project: str, name: str) -> list[Artifact]:
        """Every live (not deleted) version of ``project/name``, oldest first."""
        check_name(project, "project")
        check_name(name, "artifact name")
        self._require_store()
        numbers, _ = self._live_numbers(project, name)
        if not numbers:
            raise ArtifactNotFoundError(f"artifact {project}/{name} not found in store {self.url}")
        aliases = self._alias_map(project, name)
        self._prefetch_records(project, name, numbers)
        return [self._load(project, name, n, aliases, numbers[-1]) for n in numbers]

    def artifact(self, ref: str, type: str | None = None, *, project: str | None = None) -> Artifact:
        """The version named by ``"project/name:v3"``, ``":latest"`` or ``":alias"``.

        ``project`` is used when the reference names none; ``type``, when given, must match.
        """
        parsed = parse_ref(ref, default_project=project)
        self._require_store()
        if parsed.project is None:
            raise ArtifactNotFoundError(f"reference {ref!r} names no project; use 'project/{ref}'")
        number, aliases, latest = self._resolve(parsed)
        art = self._load(parsed.project, parsed.name, number, aliases, latest)
        if type is not None and art.type != type:
            raise ArtifactTypeError(f"{art.qualified_name} has type {art.type!r}, not {type!r}")
        return art

    def _find_version(self, ident: ArtifactVersionId) -> int | None:
        """This store's number for the version ``ident`` names: the same number if it holds
        the same manifest, else any version with that manifest (versions copied from another
        store keep their manifest but not always their number)."""
        numbers = self._version_numbers(ident.project, ident.name)
        if (
            ident.version in numbers
            and self._version_record(ident.project, ident.name, ident.version).manifest == ident.manifest
        ):
            return ident.version
        self._prefetch_records(ident.project, ident.name, numbers)
        for n in numbers:
            rec = self._records.get((ident.project, ident.name, n))
            if rec is not None and rec.manifest == ident.manifest:
                return n
        return None

    def _artifact_by_id(self, ident: ArtifactVersionId) -> Artifact:
        """The version a lineage edge names; a deleted one comes back with ``deleted`` set."""
        number = self._find_version(ident)
        if number is None:
            raise ArtifactNotFoundError(
                f"{ident.qualified_name} (manifest {ident.manifest.short}) is not in store {self.url}"
            )
        ident = ArtifactVersionId(ident.project, ident.name, number, ident.manifest)
        stone = self._tombstone(ident.project, ident.name, ident.version)
        if stone is not None:
            rec = self._version_record(ident.project, ident.name, ident.version)
            try:
                man: Manifest | None = self._record_manifest(rec)
            except IntegrityError:  # swept by gc after the deletion
                man = None
            return Artifact._logged(self, rec, man, [], deleted_at=stone.deleted_at)
        art = self.artifact(f"{ident.project}/{ident.name}:v{ident.version}")
        if art.manifest_digest != str(ident.manifest):
            raise IntegrityError(f"{ident.qualified_name} in store {self.url} is not the version that was referenced")
        return art

    def resolve(self, ident: ArtifactVersionId) -> Artifact:
        """The version a lineage edge (a run's input or output, an upstream reference) names.

        Unlike :meth:`artifact`, a deleted version comes back too, with ``deleted`` set, and a
        version copied from another store is found by its manifest digest.
        """
        return self._artifact_by_id(ident)

    def runs(self, project: str) -> list[RunRecord]:
        """The runs of a project, oldest first."""
        self._check_project(project)
        names = [
            n[: -len(".msgpack")] for n in self.backend.listdir(layout.runs_dir(project)) if n.endswith(".msgpack")
        ]
        datas = self.backend.read_many(layout.run_record(project, n) for n in names)
        runs = [
            RunRecord.from_bytes(d, f"run record {k}", at=(project, n))
            for n, (k, d) in zip(names, datas.items(), strict=True)
            if d is not None
        ]
        return sorted(runs, key=lambda r: (r.started_at, r.id))

    def run(self, project: str, run_id: str) -> RunRecord:
        """One run record."""
        check_name(project, "project")
        check_name(run_id, "run id")
        self._require_store()
        cached = self._finished_runs.get((project, run_id))
        if cached is not None:
            return cached
        key = layout.run_record(project, run_id)
        try:
            run = RunRecord.from_bytes(self.backend.read(key), f"run record {key}", at=(project, run_id))
        except KeyNotFoundError:
            raise RunNotFoundError(f"run {run_id!r} not found in project {project!r} of store {self.url}") from None
        if run.status != "running":  # a finished run's record no longer changes
            self._finished_runs[(project, run_id)] = run
        return run

    def _mark_used(self, project: str, name: str, number: int, run_project: str, run_id: str) -> None:
        """Index that a run used ``project/name:v<number>`` (read back by :meth:`_used_by`)."""
        marker = UsedByMarker(run_project, run_id).to_bytes()
        self.backend.write(layout.used_by_marker(project, name, number, run_id), marker)

    def _used_by(self, project: str, name: str, number: int) -> list[RunRecord]:
        udir = layout.used_by_dir(project, name, number)
        names = self.backend.listdir(udir)
        markers = self.backend.read_many(f"{udir}/{n}" for n in names)
        runs = []
        for run_id, (key, data) in zip(names, markers.items(), strict=True):
            if data is None:
                continue
            m = UsedByMarker.from_bytes(data, f"used-by marker {key}", run=run_id)
            with contextlib.suppress(RunNotFoundError):
                runs.append(self.run(m.project, m.run))
        return sorted(runs, key=lambda r: (r.started_at, r.id))

    def set_alias(self, ref: str, alias: str) -> None:
        """Point ``alias`` at the version ``ref`` names (moving it from any other version)."""
        from .commit import set_alias

        check_alias(alias)
        art = self.artifact(ref)
        self._ensure_writable()
        set_alias(self, art.project, art.name, alias, art.version_number, None)

    def remove_alias(self, ref: str, alias: str) -> None:
        """Remove ``alias`` from the artifact ``ref`` names."""
        from .commit import set_alias

        check_alias(alias)
        art = self.artifact(ref)
        if alias not in self._alias_map(art.project, art.name):
            raise ArtifactNotFoundError(f"alias {alias!r} is not set on {art.project}/{art.name}")
        set_alias(self, art.project, art.name, alias, None, None)

    # ------------------------------------------------------------------ lineage
    def _referenced_by(self, ident: ArtifactVersionId) -> list[ArtifactVersionId]:
        rdir = layout.referenced_by_dir(ident.project, ident.name, ident.version)
        names = self.backend.listdir(rdir)
        out = []
        for n, (key, data) in zip(names, self.backend.read_many(f"{rdir}/{n}" for n in names).items(), strict=True):
            if data is not None:
                what = f"referenced-by marker {key}"
                out.append(ReferencedByMarker.from_bytes(data, what, manifest=layout.parse_marker_digest(n, what)).by)
        return out

    def lineage(
        self,
        ref: str,
        direction: Literal["upstream", "downstream", "both"] = "upstream",
        depth: int | None = None,
    ) -> LineageGraph:
        """The graph of runs and versions around ``ref``.

        Upstream: the versions it references and the run that logged it, that run's inputs,
        recursively. Downstream: the runs that used it and what they logged, and the versions
        that reference it. ``depth`` bounds the number of edges followed from ``ref``. Reads
        are proportional to the size of the graph returned, not of the project.
        """
        if direction not in ("upstream", "downstream", "both"):
            raise InvalidInputError(f"direction must be upstream, downstream or both, got {direction!r}")
        if depth is not None and (not isinstance(depth, int) or depth < 0):
            raise InvalidInputError(f"depth must be a non-negative integer, got {depth!r}")
        root = self.artifact(ref)
        graph = LineageGraph(root=_art_id(root.version_id), direction=direction)
        graph.add_node(_art_node(root))
        if direction in ("upstream", "both"):
            self._walk(graph, root.version_id, "up", depth)
        if direction in ("downstream", "both"):
            self._walk(graph, root.version_id, "down", depth)
        return graph

    def _walk(self, graph: LineageGraph, start: ArtifactVersionId, way: str, depth: int | None) -> None:
        frontier: list[tuple[str, Any]] = [("artifact", start)]
        seen: set[str] = set()
        level = 0
        while frontier and (depth is None or level < depth):
            nxt: list[tuple[str, Any]] = []
            for kind, item in frontier:
                key = _art_id(item) if kind == "artifact" else _run_id(item)
                if key in seen:
                    continue
                seen.add(key)
                nxt.extend(self._step(graph, kind, item, way))
            frontier = nxt
            level += 1

    def _step(self, graph: LineageGraph, kind: str, item: Any, way: str) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        if kind == "run":
            run: RunRecord = item
            for ident in run.inputs if way == "up" else run.outputs:
                node, found = self._lineage_node(graph, ident)
                if way == "up":
                    graph.add_edge(node, _run_id(run), "used")
                else:
                    graph.add_edge(_run_id(run), node, "logged")
                if found is not None:
                    out.append(("artifact", found))
            return out
        art = self.resolve(item)
        me = _art_id(art.version_id)
        if way == "up":
            for up in art._upstream:
                node, found = self._lineage_node(graph, up)
                graph.add_edge(node, me, "references")
                if found is not None:
                    out.append(("artifact", found))
            try:
                producer = art.logged_by()
            except RunNotFoundError:
                producer = None
            if producer is not None:
                graph.add_node(_run_node(producer))
                graph.add_edge(_run_id(producer), me, "logged")
                out.append(("run", producer))
        else:
            for user in art.used_by():
                graph.add_node(_run_node(user))
                graph.add_edge(me, _run_id(user), "used")
                out.append(("run", user))
            for down in self._referenced_by(art.version_id):
                node, found = self._lineage_node(graph, down)
                graph.add_edge(me, node, "references")
                if found is not None:
                    out.append(("artifact", found))
        return out

    def _lineage_node(self, graph: LineageGraph, ident: ArtifactVersionId) -> tuple[str, ArtifactVersionId | None]:
        """Add the node of the version ``ident`` names; (its id, the version to walk on from).

        A version this store does not hold (copied without its lineage, or from a store whose
        records were lost) is a node marked ``missing``, with nothing beyond it.
        """
        try:
            art = self.resolve(ident)
        except ArtifactNotFoundError:
            attrs = {**ident.to_dict(), "type": None, "deleted": False, "missing": True}
            graph.add_node(Node(_art_id(ident), "artifact", f"{ident.qualified_name} (not in this store)", attrs))
            return _art_id(ident), None
        graph.add_node(_art_node(art))
        return _art_id(art.version_id), art.version_id

    # ------------------------------------------------------------------ maintenance
    def verify(self, project: str | None = None, deep: bool = False) -> list[Problem]:
        """Check that every live version's record, manifest and blobs are present and intact.

        Returns the problems found (empty when the store is healthy). ``deep`` re-hashes every
        blob instead of checking sizes only.
        """
        if project is not None:
            self._check_project(project)
        self._require_store()
        return verify(self, project, deep)

    def gc(self, grace: dt.timedelta = dt.timedelta(hours=24), dry_run: bool = True, *, wait: float = 60.0) -> GcReport:
        """Free blobs and manifests no live version references, if older than ``grace``.

        A dry run (the default) only reports what would be freed. Before deleting, gc waits up
        to ``wait`` seconds for commits in flight (``report.deferred`` counts those still
        running after that: then nothing is deleted); commits that start meanwhile wait for it.
        """
        if not isinstance(grace, dt.timedelta) or grace < dt.timedelta(0):
            raise InvalidInputError(f"grace must be a non-negative timedelta, got {grace!r}")
        if not isinstance(wait, int | float) or not 0 <= wait < float("inf"):
            raise InvalidInputError(f"wait must be a non-negative number of seconds, got {wait!r}")
        self._require_store()
        return gc(self, grace, dry_run, wait)

    # ------------------------------------------------------------------ deletion
    def dependents(self, ref: str) -> list[str]:
        """The live versions that depend on the version ``ref`` names, each with how: versions
        that reference it (``add_reference``), and versions logged by runs that used it."""
        art = self.artifact(ref)
        me = art.version_id
        out: dict[str, str] = {}
        for down in self._referenced_by(me):
            other = self._live(down)
            if other is not None:
                out.setdefault(other, f"{other} (references it)")
        for run in art.used_by():
            for made in run.outputs:
                other = self._live(made)
                if other is not None and other != art.qualified_name:
                    out.setdefault(other, f"{other} (logged by run {run.id}, which used it)")
        return [out[k] for k in sorted(out)]

    def _live(self, ident: ArtifactVersionId) -> str | None:
        """The qualified name of the live version ``ident`` names here, else None."""
        try:
            found = self.resolve(ident)
        except ArtifactNotFoundError:
            return None
        return None if found.deleted else found.qualified_name

    def delete_version(self, ref: str, *, force: bool = False, reason: str | None = None) -> str:
        """Delete one version and return its qualified name (``name:latest`` resolves first).

        It stops resolving, and ``latest`` moves to the newest one left. Refused, naming why,
        unless ``force`` (``--force`` on the command line): a version that a custom alias
        points at (``force`` removes those aliases too), and one that live versions depend on
        (:meth:`dependents`: they reference it, or were made by runs that used it; their
        lineage will show it as deleted, and ``reproduce`` of them will fail). The version
        record stays, with a tombstone beside it; its number is never reused. Its blobs are
        freed by :meth:`gc`.
        """
        from .commit import set_alias

        art = self.artifact(ref)
        custom = [a for a in art.aliases if a != LATEST]
        if custom and not force:
            raise ArtifactStateError(
                f"{art.qualified_name} has the alias(es) {', '.join(custom)}: move them first, or delete it "
                "anyway with force=True (--force on the command line)"
            )
        needed = [] if force else self.dependents(art.qualified_name)
        if needed:
            raise ArtifactStateError(
                f"{art.qualified_name} is needed by {len(needed)} live version(s): {'; '.join(needed)}; deleting "
                "it would break their lineage and reproduce: delete it anyway with force=True (--force)"
            )
        self._ensure_writable()
        for alias in custom:
            set_alias(self, art.project, art.name, alias, None, None)
        stone = Tombstone(art.version_number, codec.utcnow(), reason)
        self.backend.create(layout.tombstone(art.project, art.name, art.version_number), stone.to_bytes())
        return art.qualified_name

    def apply_retention(
        self,
        project: str,
        name: str,
        *,
        keep_last: int | None = None,
        older_than: dt.datetime | None = None,
        force: bool = False,
        dry_run: bool = False,
    ) -> list[str]:
        """Delete versions in bulk; return the qualified names deleted (or that would be).

        A version is deleted when it is not among the newest ``keep_last`` and (if given) was
        created before ``older_than``. The newest version is always kept, and so are versions
        with a custom alias or that live versions depend on (:meth:`dependents`), unless ``force``.
        """
        if keep_last is None and older_than is None:
            raise InvalidInputError("apply_retention needs keep_last and/or older_than")
        if keep_last is not None and (not isinstance(keep_last, int) or keep_last < 1):
            raise InvalidInputError(f"keep_last must be an integer >= 1, got {keep_last!r}")
        if older_than is not None and older_than.tzinfo is None:
            raise InvalidInputError("older_than must be a timezone-aware datetime")
        versions = self.versions(project, name)
        candidates = versions[: -(keep_last or 1)]
        chosen = []
        for art in candidates:
            if older_than is not None and dt.datetime.fromisoformat(art.created_at) >= older_than:
                continue
            if not force and (any(a != LATEST for a in art.aliases) or self.dependents(art.qualified_name)):
                continue
            chosen.append(art.qualified_name)
        if not dry_run:
            for qn in chosen:
                self.delete_version(qn, force=force, reason="retention")
        return chosen

    # ------------------------------------------------------------------ blob reads
    def _blob_source(self, digest: Digest, size: int, what: str) -> IO[bytes]:
        """A readable source of a blob of ``size`` bytes: the store itself when local, else its
        cached copy, fetched (and verified, reading at most ``size + 1`` bytes) if absent."""
        key = layout.blob(digest)
        try:
            if self.backend.is_local:
                return self.backend.open(key)
            path = self.cache.path(digest)
            if not path.is_file():
                with self.backend.open_sized(key, size) as src:
                    self.cache.add(src, digest, size, f"{what} (store key {key})")
            return open(path, "rb")
        except IntegrityError as e:
            raise IntegrityError(f"{what}: {e}") from None
        except OSError as e:
            if isinstance(e, ArtifactFSError):
                raise
            from .download import local_error

            raise local_error(self, e, self.cache.root) from e
        except KeyNotFoundError:
            raise IntegrityError(f"{what}: blob {key} is missing from store {self.url}") from None

    def _table(self, qualified: str, entry: Entry) -> Table:
        """A lazily read table whose every byte is verified before pyarrow sees it."""
        assert entry.digest is not None
        digest = entry.digest
        key = layout.blob(digest)
        what = f"{qualified} table {entry.path!r} (store key {key})"
        blocks = entry.extra.get("blocks")
        if not isinstance(blocks, dict):
            # Written without block digests: verify the whole blob once, through the cache.
            def whole() -> IO[bytes]:
                if self.backend.is_local:
                    return self._verified_local_copy(entry, what)
                return self._blob_source(digest, entry.size, what)

            return self._located(Table(_opener=whole), qualified, entry)
        size, digests = blocks.get("size"), blocks.get("digests")
        if not isinstance(size, int) or not isinstance(digests, bytes):
            raise FormatError(f"{what}: malformed block digests")

        def from_store() -> IO[bytes]:
            try:
                return self.backend.open(key, exact_ranges=True)
            except KeyNotFoundError:
                raise IntegrityError(f"{what}: blob is missing from store {self.url}") from None

        def from_store_evicting_cache() -> IO[bytes]:
            self.cache.evict(digest)  # the cached copy is corrupt
            return from_store()

        def opener() -> IO[bytes]:
            if not self.backend.is_local and self.cache.has(digest):
                raw: IO[bytes] = open(self.cache.path(digest), "rb")  # noqa: SIM115 (closed by the reader)
                fallback: Callable[[], IO[bytes]] | None = from_store_evicting_cache
            else:
                raw, fallback = from_store(), None
            reader = VerifiedReader(raw, entry.size, size, digests, digest.algorithm, what, fallback=fallback)
            return io.BufferedReader(reader, buffer_size=size)

        return self._located(Table(_opener=opener), qualified, entry)

    def _located(self, table: Table, qualified: str, entry: Entry) -> Table:
        table._entry, table._origin = entry, (self, qualified)
        what = f"{qualified} table {entry.path!r} (store key {layout.blob(entry.digest)})"  # type: ignore[arg-type]

        def whole() -> str:
            """The blob as a local file, hashed whole just now (the store itself, or the cache)."""
            assert entry.digest is not None
            if not self.backend.is_local:
                from .download import verify_cached

                verify_cached(self, entry.digest, entry, what)
                return self.cache.file(entry.digest)
            path = self.backend.path(layout.blob(entry.digest))
            try:
                got, size = hash_file(path, entry.digest.algorithm, limit=entry.size + 1)
            except FileNotFoundError:
                raise IntegrityError(f"{what}: blob is missing from store {self.url}") from None
            if got != entry.digest or size != entry.size:
                raise IntegrityError(f"{what}: blob does not match its digest")
            return path

        table._whole = whole
        return table

    def _partitioned_table(self, qualified: str, parts: list[Entry]) -> PartitionedTable:
        """A table over the part entries of one partitioned table, each read as :meth:`_table`."""
        table = PartitionedTable(_parts=[(e, self._table(qualified, e)) for e in parts])
        table._origin = (self, qualified)
        return table

    def _verified_local_copy(self, entry: Entry, what: str) -> IO[bytes]:
        """Open a local blob after checking its digest in one pass."""
        assert entry.digest is not None
        f = self.backend.open(layout.blob(entry.digest))
        got, n = hash_stream(f, entry.digest.algorithm, limit=entry.size + 1)
        if got != entry.digest or n != entry.size:
            f.close()
            raise IntegrityError(f"{what}: blob does not match its digest")
        f.seek(0)
        return f


def _art_id(ident: ArtifactVersionId) -> str:
    return f"artifact:{ident.qualified_name}"


def _run_id(run: RunRecord) -> str:
    return f"run:{run.project}/{run.id}"


def _art_node(art: Artifact) -> Node:
    attrs = {
        "project": art.project,
        "name": art.name,
        "version": art.version_number,
        "type": art.type,
        "digest": art.digest,
        "manifest": art.manifest_digest,
        "created_at": art.created_at,
        "deleted": art.deleted,
        "missing": False,
    }
    label = art.qualified_name + (" (deleted)" if art.deleted else "")
    return Node(_art_id(art.version_id), "artifact", label, attrs)


def _run_node(run: RunRecord) -> Node:
    attrs = {
        "project": run.project,
        "run_id": run.id,
        "job_type": run.job_type,
        "status": run.status,
        "config": run.config,
        "git": run.extra.get("git"),
        "started_at": run.started_at,
    }
    return Node(_run_id(run), "run", f"run {run.name} ({run.job_type or 'run'})", attrs)


def open_store(
    url: str | os.PathLike[str] | None = None, *, concurrency: int | None = None, **storage_options: Any
) -> Store:
    """Open a store by URL or path (default: ``$ARTIFACTFS_STORE``, else the local default store).

    ``concurrency`` bounds the requests in flight on remote stores (default
    ``$ARTIFACTFS_CONCURRENCY``, else 64). ``storage_options`` go to the fsspec filesystem
    (``endpoint_url``, ``token``, ``connection_string``...), over those of
    ``$ARTIFACTFS_STORAGE_OPTIONS``.
    """
    if url is None:
        url = default_store_url()
    concurrency = concurrency if concurrency is not None else default_concurrency()
    if not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidInputError(f"concurrency must be a positive integer, got {concurrency!r}")
    store = Store(Backend.from_url(os.fspath(url), concurrency=concurrency, **storage_options))
    store._descriptor()  # refuse a store of a newer format before anything else reads it
    return store
