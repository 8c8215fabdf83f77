"""The browser's data access: the only module of ``tui`` that imports artifactfs.

It turns what a store holds into the plain values of :mod:`tui.views` (and tables into a
:class:`~tui.pager.TablePager`), so nothing else in ``tui`` holds a store object. Every method
may do store I/O: screens call them from Textual workers.
"""

from __future__ import annotations

import copy
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import artifactfs as afs
from artifactfs.errors import ArtifactFSError
from artifactfs.filters import FILTER_HELP, Filter, parse_filter

from .pager import TablePager
from .preview import PREVIEW_BYTES, is_image, preview, text_diff
from .query import parse_query
from .views import (
    AliasMove,
    AliasPoint,
    Annotation,
    ArtifactItem,
    CollectionItem,
    DiffView,
    EntryView,
    Home,
    LineageNode,
    Preview,
    RunView,
    SearchItem,
    SearchResults,
    TextDiff,
    UpstreamRef,
    VersionItem,
    VersionView,
)

__all__ = ["FILTER_HELP", "REGISTRY", "ArtifactFSError", "DataSource", "Filter", "parse_filter"]

REGISTRY = afs.REGISTRY  # the project that holds the registry's collections

ENTRIES_PAGE = 1000  # entries of a version shown at first, and fetched per page after
DIFF_FILES = 20  # changed files a diff compares line by line
DIFF_BYTES = 1024 * 1024  # the largest file it compares
SEARCH_LIMIT = 100  # versions a search shows, newest first


class DataSource:
    """Thin, synchronous access to one store for the screens."""

    def __init__(self, url: str | None = None) -> None:
        self.store = afs.open_store(url)
        self.url = self.store.url

    # ------------------------------------------------------------------ lists
    def home(self) -> Home:
        """The projects, and the registry apart from them (one listing more when there is one)."""
        names = self.store.projects()
        projects = tuple(p for p in names if p != REGISTRY)
        return Home(projects, len(self.store.collections()) if REGISTRY in names else 0)

    def projects(self) -> list[str]:
        """The store's projects, without the registry's (see :meth:`home`)."""
        return [p for p in self.store.projects() if p != REGISTRY]

    def artifacts(self, project: str) -> list[ArtifactItem]:
        """The project's artifacts, grouped by type then sorted by name."""
        found = sorted(self.store.artifacts(project), key=lambda a: (a.type, a.name))
        return [ArtifactItem(a.project, a.name, a.type, a.version_count, a.latest_version, a.updated_at) for a in found]

    def collections(self) -> list[CollectionItem]:
        """The registry's collections by name, each with where its custom aliases point. Every
        live version of each collection is read for that (their records and manifests, one
        round of requests each, the collections at once): the store names a collection's
        aliases only with its versions."""
        found = sorted(self.store.artifacts(REGISTRY), key=lambda a: a.name) if self.store.collections() else []

        def aliases(name: str) -> tuple[AliasPoint, ...]:
            points = [
                AliasPoint(alias, v.version, v.source_qualified_name)
                for v in self.store.versions(REGISTRY, name)
                for alias in v.aliases
                if alias != "latest"
            ]
            return tuple(sorted(points, key=lambda p: p.alias))

        with ThreadPoolExecutor(max(1, min(8, len(found)))) as pool:
            points = list(pool.map(aliases, [c.name for c in found]))
        return [
            CollectionItem(c.name, c.type, c.version_count, c.latest_version, c.updated_at, p)
            for c, p in zip(found, points, strict=True)
        ]

    def versions(
        self, project: str, name: str, limit: int | None = None, before: int | None = None
    ) -> list[VersionItem]:
        """The live versions of ``project/name``: all of them oldest first, or a page of
        ``limit`` newest first (``before`` a version number to continue below). The runs that
        logged them are read together, once per page."""
        found = self.store.versions(project, name, limit=limit, before=before)
        runs = self.store.logging_runs(found)
        return [
            VersionItem(
                v.qualified_name,
                v.version,
                tuple(v.aliases),
                v.size,
                v.file_count,
                v.created_at,
                _run_view(r) if (r := runs.get(v.qualified_name)) else None,
                _linked_from(v),
            )
            for v in found
        ]

    def version(self, ref: str) -> VersionView:
        art = self.store.artifact(ref)
        return VersionView(
            project=art.project,
            name=art.name,
            qualified_name=art.qualified_name,
            version=art.version,
            type=art.type,
            aliases=tuple(art.aliases),
            description=art.description,
            metadata=copy.deepcopy(art.metadata),  # an ordinary dict, not the store's read-only one
            digest=art.digest,
            size=art.size,
            created_at=art.created_at,
            entries=tuple(_entry_view(e) for e in art.files(limit=ENTRIES_PAGE)),
            logged_by=_logged_by(art),
            references=tuple(UpstreamRef(a.qualified_name, a.deleted) for a in art.references()),
            file_count=art.file_count,
            used_by=tuple(_run_view(r) for r in art.used_by()),
            tags=tuple(art.tags),
            alias_history=self._alias_history(art),
            annotated=_annotated(art),
            linked_from=_linked_from(art),
        )

    def _alias_history(self, art: afs.Artifact) -> tuple[AliasMove, ...]:
        """Every move of each alias ``art`` holds, oldest first: one read per alias (``latest``
        has none: it always names the newest version)."""
        out: list[AliasMove] = []
        for alias in art.aliases:
            if alias == "latest":
                continue
            previous: str | None = None
            for change in self.store.alias_history(art.qualified_name, alias):
                out.append(AliasMove(alias, change.version, previous, change.created_at, change.run_id))
                previous = change.version
        return tuple(out)

    def entries(self, ref: str, after: str, limit: int = 0) -> tuple[EntryView, ...]:
        """The next ``limit`` entries of version ``ref`` after the path ``after`` (a large
        version is read a shard at a time: only the shards that hold them)."""
        page = self.store.artifact(ref).files(start=after, limit=(limit or ENTRIES_PAGE) + 1)
        return tuple(_entry_view(e) for e in page if e.path != after)[: limit or ENTRIES_PAGE]

    def runs(self, project: str) -> list[RunView]:
        """The project's runs, oldest first."""
        return [_run_view(r) for r in self.store.runs(project)]

    def run(self, project: str, run_id: str) -> RunView:
        return _run_view(self.store.run(project, run_id))

    def search(self, text: str, limit: int = SEARCH_LIMIT) -> SearchResults:
        """The versions the query ``text`` asks for (:mod:`tui.query`), newest first, from the
        store's search index; a query the store refuses comes back with its reason."""
        try:
            q = parse_query(text)
            hits = self.store.search(
                project=q.project, type=q.type, name=q.name, tags=q.tags or None, where=q.where, limit=limit
            )
        except (ValueError, afs.errors.InvalidInputError) as e:  # the user's query, not the store
            return SearchResults(text, (), limit, str(e))
        found = tuple(
            SearchItem(h.qualified_name, h.type, h.created_at, h.description, h.tags, copy.deepcopy(dict(h.metadata)))
            for h in hits
        )
        return SearchResults(text, found, limit)

    # ------------------------------------------------------------------ content
    def table(self, ref: str, path: str) -> TablePager:
        """Rows of the table ``path`` of version ``ref``; reads the Parquet footer only."""
        table = self.store.artifact(ref).get_table(path)
        return TablePager(
            table.schema,
            table.num_rows,
            table.row_groups,
            table.read_row_group,
            table.iter_batches,
            stats=table.column_stats(),
            lengths=table.max_lengths(),
        )

    def preview(self, ref: str, path: str) -> Preview:
        """The file ``path`` of version ``ref`` as the file viewer shows it (reads its head)."""
        art = self.store.artifact(ref)
        entry = art.get_entry(path)
        digest = (entry.digest and str(entry.digest)) or str(entry.extra.get("uri", ""))
        if is_image(path):
            return Preview("image", path, entry.size, digest)
        with tempfile.TemporaryDirectory() as tmp:
            local = art.get_path(path, root=tmp)
            with open(local, "rb") as f:
                head = f.read(PREVIEW_BYTES)
        return preview(path, entry.size, digest, head)

    def snippet(self, version: VersionView) -> str:
        """Python that uses ``version`` in a run (no I/O)."""
        return (
            "import artifactfs as afs\n\n"
            f"with afs.init(project={version.project!r}, store={self.url!r}) as run:\n"
            f"    art = run.use_artifact({version.qualified_name!r})\n"
            "    path = art.download()\n"
        )

    def diff(self, a: str, b: str) -> DiffView:
        """What changed from ``a`` to ``b``; changed text files line by line (the first
        :data:`DIFF_FILES` of them, each up to :data:`DIFF_BYTES`)."""
        old, new = self.store.artifact(a), self.store.artifact(b)
        d = afs.diff(old, new)
        texts = []
        for path in d.changed[:DIFF_FILES]:
            x, y = old.get_entry(path), new.get_entry(path)
            if x.kind != "file" or y.kind != "file" or is_image(path) or "uri" in x.extra or "uri" in y.extra:
                continue
            if max(x.size, y.size) > DIFF_BYTES:
                texts.append(TextDiff(path, (), f"too large to compare line by line ({max(x.size, y.size):,} bytes)"))
                continue
            with tempfile.TemporaryDirectory() as tmp:
                texts.append(text_diff(path, _read(old, path, f"{tmp}/a"), _read(new, path, f"{tmp}/b")))
        return DiffView(d.a, d.b, tuple(d.added), tuple(d.removed), tuple(d.changed), tuple(d.notes), tuple(texts))

    # ------------------------------------------------------------------ writing
    def set_alias(self, ref: str, alias: str) -> None:
        self.store.set_alias(ref, alias)

    def remove_alias(self, ref: str, alias: str) -> None:
        self.store.remove_alias(ref, alias)

    def download(self, ref: str, root: str) -> str:
        """Every file of ``ref``, verified, under ``root``; returns the folder."""
        return self.store.artifact(ref).download(root)

    def download_file(self, ref: str, path: str, root: str) -> str:
        """The file ``path`` of ``ref``, verified, under ``root``; returns its local path."""
        return self.store.artifact(ref).get_path(path, root=root)

    def dependents(self, ref: str) -> list[str]:
        """The live versions that need ``ref`` (see :meth:`artifactfs.Store.dependents`)."""
        return self.store.dependents(ref)

    def delete(self, ref: str) -> None:
        """Delete the version ``ref``, with its aliases: the browser asked first, naming them
        and the versions that need it."""
        self.store.delete_version(ref, force=True, reason="deleted in the browser")

    # ------------------------------------------------------------------ lineage
    def lineage_root(self, ref: str) -> LineageNode:
        graph = self.store.lineage(ref, depth=0)
        return self._graph_node(graph.nodes[graph.root])

    def upstream(self, node: LineageNode) -> list[LineageNode]:
        """What ``node`` was made from: a version's references and the run that logged it;
        a run's inputs."""
        if node.kind == "run":
            return [self._version_node(self.store.resolve(i)) for i in self._run_record(node).inputs]
        return self._neighbours(node.ref, "upstream")  # a deleted version's content is gone: an error

    def downstream(self, node: LineageNode) -> list[LineageNode]:
        """What was made from ``node``: the runs that used a version; a run's outputs."""
        if node.kind == "run":
            return [self._version_node(self.store.resolve(o)) for o in self._run_record(node).outputs]
        if node.deleted:  # Store.lineage starts from live versions; the runs that used it remain
            return [self._run_node(r) for r in self._deleted(node).used_by()]
        return self._neighbours(node.ref, "downstream")

    def _neighbours(self, ref: str, direction: Literal["upstream", "downstream"]) -> list[LineageNode]:
        """One step of :meth:`Store.lineage` from the live version ``ref``. Downstream, only the
        runs that used it (not the versions that reference it), as the tree has always shown."""
        graph = self.store.lineage(ref, direction, depth=1)
        if direction == "upstream":
            ids = [e.src for e in graph.edges if e.dst == graph.root]
        else:
            ids = [e.dst for e in graph.edges if e.src == graph.root and e.kind == "used"]
        return [self._graph_node(graph.nodes[i]) for i in ids]

    def _graph_node(self, node: afs.Node) -> LineageNode:
        if node.kind == "run":
            return self._run_node(self.store.run(node.attrs["project"], node.attrs["run_id"]))
        ref = node.id.removeprefix("artifact:")
        manifest = str(node.attrs.get("manifest", ""))
        if node.attrs.get("missing"):
            return LineageNode("artifact", node.label, ref, missing=True, manifest=manifest)
        deleted = bool(node.attrs.get("deleted"))
        label = ref + (" (deleted)" if deleted else f"  · {node.attrs.get('type')}")
        return LineageNode("artifact", label, ref, deleted, manifest=manifest)

    def _version_node(self, art: afs.Artifact) -> LineageNode:
        label = art.qualified_name + (" (deleted)" if art.deleted else f"  · {art.type}")
        return LineageNode("artifact", label, art.qualified_name, art.deleted, manifest=art.manifest_digest)

    def _run_node(self, run: afs.RunRecord) -> LineageNode:
        label = f"run {run.name}  · {run.job_type or 'run'}, {run.status}"
        return LineageNode("run", label, f"{run.project}/{run.id}")

    def _run_record(self, node: LineageNode) -> afs.RunRecord:
        project, run_id = node.ref.split("/", 1)
        return self.store.run(project, run_id)

    def _deleted(self, node: LineageNode) -> afs.Artifact:
        """A deleted version, found by its manifest (its name no longer resolves)."""
        project, rest = node.ref.split("/", 1)
        name, version = rest.rsplit(":", 1)
        ident = {"project": project, "name": name, "version": int(version.removeprefix("v")), "manifest": node.manifest}
        return self.store.resolve(afs.ArtifactVersionId.from_dict(ident))


def _read(art: afs.Artifact, path: str, root: str) -> bytes:
    """The verified bytes of the file ``path`` of ``art``."""
    with open(art.get_path(path, root=root), "rb") as f:
        return f.read()


def _entry_view(e: afs.Entry) -> EntryView:
    dataset = e.extra.get("dataset") if e.kind == "table" else None
    digest = e.digest.short if e.digest else e.extra.get("uri", "")
    return EntryView(e.path, e.kind, e.size, str(digest), dataset if isinstance(dataset, str) else None)


def _linked_from(art: afs.Artifact) -> str | None:
    """The version a registry version links to (no I/O: its record names it)."""
    linked = art.linked_from
    return None if linked is None else linked.qualified_name


def _annotated(art: afs.Artifact) -> Annotation | None:
    """The last annotation of ``art`` (read with its tags: no more I/O)."""
    events = art.annotation_events
    if not events:
        return None
    last = events[-1]
    return Annotation(last.created_at, last.user, last.run_id, len(events))


def _logged_by(art: afs.Artifact) -> RunView | None:
    run = art.logged_by()
    return None if run is None else _run_view(run)


def _run_view(run: afs.RunRecord) -> RunView:
    return RunView(
        project=run.project,
        id=run.id,
        name=run.name,
        job_type=run.job_type,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration=run.duration,
        host=run.host,
        error=run.error,
        config=copy.deepcopy(run.config),  # an ordinary dict, not the store's read-only one
        inputs=tuple(i.qualified_name for i in run.inputs),
        outputs=tuple(o.qualified_name for o in run.outputs),
        summary=copy.deepcopy(run.summary),
        steps=len(run.history),
    )
