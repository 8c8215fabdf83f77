"""Store: the query front of one store (projects, artifacts, versions, runs, lineage),
and its deletion, retention and maintenance commands.

Records are read through the store's :class:`~artifactfs.catalog.Catalog`, blobs through its
:class:`~artifactfs.blobs.BlobReader`; writing versions is :mod:`artifactfs.commit`, by way
of :class:`~artifactfs.run.Run`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any, Literal

from . import codec
from .artifact import Artifact, logged, resolved
from .backend import Backend, open_backend
from .blobs import BlobReader
from .cache import BlobCache
from .catalog import Catalog, Found, Located
from .errors import (
    ArtifactNotFoundError,
    ArtifactTypeError,
    InvalidInputError,
    ProjectNotFoundError,
    StoreError,
)
from .leases import LEASE_TTL
from .lineage import LineageGraph
from .maintenance import GcReport, gc
from .offline import go_offline, remember, resolve_seen
from .packing import PackSet
from .purge import Purging
from .reach import offline_reason
from .records import ArtifactVersionId, RunRecord, VersionRecord
from .refs import check_alias, check_name, did_you_mean, parse_ref
from .registry import Registering
from .retention import Retaining
from .search import Searching
from .seen import SeenRecords
from .settings import default_cache_dir, default_concurrency, default_store_url
from .statcache import StatCache
from .verification import Problem, verify
from .walk import check_walk, lineage

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


class Store(Searching, Registering, Retaining, Purging):
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
        self.stat_cache = StatCache(self.cache.db("stat.sqlite3"))
        self.workers = workers
        self.claim_lease = claim_lease
        self.lease_ttl = lease_ttl  # of commit leases and gc locks (see leases.py)
        self.seen = SeenRecords(self.cache.db("records.sqlite3"))
        self.catalog = Catalog(backend, self.seen)
        self.packs = PackSet(backend)
        self.blobs = BlobReader(backend, self.cache, stat_cache=self.stat_cache, workers=workers, packs=self.packs)
        self.spooled = False  # the spool of offline runs (see spool.py): its versions have no number yet

    @property
    def url(self) -> str:
        return self.backend.url

    def __repr__(self) -> str:
        return f"<Store {self.url}>"

    @property
    def exists(self) -> bool:
        """Whether the store has been made (its descriptor exists)."""
        return self.catalog.descriptor() is not None

    @property
    def algorithm(self) -> str:
        """The digest algorithm of this store (from its descriptor; for a store not made yet,
        the one it will be made with)."""
        return self.catalog.algorithm

    def _artifact(self, located: Located) -> Artifact:
        return logged(self.catalog, self.blobs, located.record, located.manifest, located.aliases, spooled=self.spooled)

    def logged_version(self, record: VersionRecord, *, is_new: bool = False) -> Artifact:
        """The version ``record`` names, as a commit just returned it (its manifest is in
        memory then, so this reads nothing; its aliases are read when first asked for);
        ``is_new`` says whether that commit made it."""
        c = self.catalog
        manifest = c.version_manifest(record)
        if c.store_id is not None:
            self.seen.version_seen(c.store_id, record, "latest" if is_new else None)

        def aliases() -> list[str]:
            return c.version_aliases(record.project, record.name, record.version)

        return logged(c, self.blobs, record, manifest, aliases, is_new=is_new, spooled=self.spooled)

    # ------------------------------------------------------------------ queries
    def projects(self) -> list[str]:
        """Names of the projects in this store, sorted."""
        self.catalog.require_store()
        return self.catalog.projects()

    def _check_project(self, project: str) -> None:
        check_name(project, "project")
        self.catalog.require_store()
        if not self.catalog.has_project(project):
            hint = did_you_mean(project, self.catalog.projects())
            raise ProjectNotFoundError(f"project {project!r} not found in store {self.url}{hint}")

    def artifacts(self, project: str, type: str | None = None) -> list[ArtifactSummary]:
        """The artifacts of a project (optionally of one type), sorted by name."""
        self._check_project(project)
        out = []
        for name, (newest, count) in self.catalog.summaries(project, self.catalog.artifact_names(project)).items():
            rec = newest.record
            if rec is None or (type is not None and rec.type != type):
                continue
            out.append(ArtifactSummary(project, name, rec.type, count, rec.version, rec.created_at))
        return out

    def versions(self, project: str, name: str, limit: int | None = None, before: int | None = None) -> list[Artifact]:
        """The live (not deleted) versions of ``project/name``: every one, oldest first; or a
        page of them with ``limit``, newest first. ``before`` (a version number) continues from
        where a page ended: ``versions(p, n, 50, before=page[-1].version_number)``."""
        check_name(project, "project")
        check_name(name, "artifact name")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise InvalidInputError(f"limit must be a positive integer (or None), got {limit!r}")
        if before is not None and (not isinstance(before, int) or isinstance(before, bool) or before < 0):
            raise InvalidInputError(f"before must be a version number (or None), got {before!r}")
        self.catalog.require_store()
        return [self._artifact(v) for v in self.catalog.live_versions(project, name, limit=limit, before=before)]

    def logging_runs(self, versions: list[Artifact]) -> dict[str, RunRecord]:
        """The runs that logged ``versions`` (qualified name -> run record; versions logged
        without a run are left out), all read in one round of requests: what a list of
        versions shows beside each, without one request after another."""
        wanted = {}
        for art in versions:
            ident = art.logged_run
            if ident is not None:
                wanted[art.qualified_name] = ident
        found = self.catalog.run_records(list(wanted.values()))
        return {qn: found[w] for qn, w in wanted.items() if w in found}

    def artifact(self, ref: str, type: str | None = None, *, project: str | None = None) -> Artifact:
        """The version named by ``"project/name:v3"``, ``":latest"`` or ``":alias"``.

        ``project`` is used when the reference names none; ``type``, when given, must match.
        """
        parsed = parse_ref(ref, default_project=project)
        if parsed.project is None:
            raise ArtifactNotFoundError(f"reference {ref!r} names no project; use 'project/{ref}'")
        if offline_reason(self.url) is not None and not self.spooled:  # (a spool is on this machine)
            art = resolve_seen(self.catalog, self.blobs, self.seen, self.url, parsed)
        else:
            try:
                self.catalog.require_store()
                located = self.catalog.locate(parsed)
            except StoreError as e:  # unreachable, or a folder moved away: what was seen answers
                if not go_offline(self.seen, self.url, e):
                    raise
                art = resolve_seen(self.catalog, self.blobs, self.seen, self.url, parsed)
            else:
                remember(self.catalog, located, parsed)
                art = self._artifact(located)
        if type is not None and art.type != type:
            raise ArtifactTypeError(f"{art.qualified_name} has type {art.type!r}, not {type!r}")
        return art

    def resolve(self, ident: ArtifactVersionId) -> Artifact:
        """The version a lineage edge (a run's input or output, an upstream reference) names.

        Unlike :meth:`artifact`, a deleted version comes back too, with ``deleted`` set, and a
        version copied from another store is found by its manifest digest.
        """
        return resolved(self.catalog, self.blobs, ident)

    def runs(self, project: str) -> list[RunRecord]:
        """The runs of a project, oldest first."""
        self._check_project(project)
        return self.catalog.runs(project)

    def run(self, project: str, run_id: str) -> RunRecord:
        """One run record."""
        check_name(project, "project")
        check_name(run_id, "run id")
        self.catalog.require_store()
        return self.catalog.run(project, run_id)

    def set_alias(self, ref: str, alias: str) -> None:
        """Point ``alias`` at the version ``ref`` names (moving it from any other version)."""
        check_alias(alias)
        art = self.artifact(ref)
        self.catalog.ensure_store()
        self.catalog.set_alias(art.project, art.name, alias, art.version_number, None)

    def remove_alias(self, ref: str, alias: str) -> None:
        """Remove the custom ``alias`` from the artifact of ``ref`` (the version it pointed at stays)."""
        check_alias(alias)
        art = self.artifact(ref)
        state = self.catalog.alias_state(art.project, art.name, alias)
        if state is None or state.version is None:
            raise ArtifactNotFoundError(f"alias {alias!r} is not set on {art.project}/{art.name}")
        self.catalog.set_alias(art.project, art.name, alias, None, None)

    # ------------------------------------------------------------------ lineage
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
        check_walk(direction, depth)
        parsed = parse_ref(ref)
        self.catalog.require_store()
        if parsed.project is None:
            raise ArtifactNotFoundError(f"reference {ref!r} names no project; use 'project/{ref}'")
        root = self.catalog.locate(parsed)
        return lineage(self.catalog, Found(root.record, root.manifest), direction, depth)

    # ------------------------------------------------------------------ maintenance
    @property
    def format(self) -> int:
        """The store's format (docs/format.md, *Compatibility*): 3 once it holds sharded manifests."""
        return self.catalog.require_store().format

    def upgrade(self, *, dry_run: bool = False) -> tuple[int, int]:
        """Make the store the newest format this release writes, ahead of the first write that
        needs it; return ``(before, after)``. Releases that read an older format only refuse it
        afterwards; nothing else changes (records, manifests and blobs are read as they are)."""
        before = self.format
        if before < codec.WRITE_FORMAT and not dry_run:
            self.catalog.require_format(codec.WRITE_FORMAT)
        return before, max(before, codec.WRITE_FORMAT)

    def verify(
        self, project: str | None = None, deep: bool = False, *, lineage: bool = False, references: bool = False
    ) -> list[Problem]:
        """Check that every live version's record, manifest and blobs are present and intact.

        Returns the problems found (empty when the store is healthy). ``deep`` re-hashes every
        blob instead of checking sizes only. ``lineage`` adds warnings (``Problem.warning``)
        for upstream versions and logging runs the store does not hold (a version copied
        without ``with_lineage``): nothing is damaged, but its lineage stops there.
        ``references`` checks every external reference (``add_reference`` of a URI) against
        what was recorded: a request per referenced object (objects recorded by digest are
        read and hashed), each problem ``missing``, ``changed`` or ``unreachable`` keyed by
        its URI.
        """
        if project is not None:
            self._check_project(project)
        self.catalog.require_store()
        return verify(self.catalog, project, deep, lineage, references)

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
        self.catalog.require_store()
        return gc(self.catalog, grace, dry_run, wait, self.lease_ttl)


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
    store = Store(open_backend(os.fspath(url), concurrency=concurrency, **storage_options))
    if offline_reason(store.url) is None:
        try:
            store.catalog.descriptor()  # refuse a store of a newer format before anything else reads it
        except StoreError as e:  # unreachable: usable offline if this machine has read from it
            if not go_offline(store.seen, store.url, e):
                raise
    return store
