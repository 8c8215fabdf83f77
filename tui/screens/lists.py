"""Projects (and the registry), artifacts of a project, versions of an artifact, runs of a
project, the registry's collections, versions of a collection."""

from __future__ import annotations

from textual import work
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input

from ..data import REGISTRY
from ..format import human, plain, plural, when
from ..keys import bindings
from ..messages import (
    OpenArtifacts,
    OpenCollection,
    OpenDiff,
    OpenRegistry,
    OpenRun,
    OpenRuns,
    OpenVersion,
    OpenVersions,
)
from ..views import AliasPoint, VersionItem
from .actions import VersionActions
from .base import ListScreen, Row

REGISTRY_ROW = "\x00registry"  # the registry's row (a project's name cannot hold a control character)


class ProjectsScreen(ListScreen):
    """The store's projects, and above them the registry, when the store has one."""

    columns = ("project",)
    where = "projects"

    def __init__(self) -> None:
        super().__init__(["projects"])

    def fetch(self) -> list[Row]:
        home = self.data.home()
        registry: list[Row] = [(REGISTRY_ROW, (f"registry · {plural(home.collections, 'collection')}",))]
        return (registry if home.collections else []) + [(p, (p,)) for p in home.projects]

    def open(self, key: str) -> None:
        self.post_message(OpenRegistry() if key == REGISTRY_ROW else OpenArtifacts(key))


class ArtifactsScreen(ListScreen):
    columns = ("type", "artifact", "versions", "latest", "updated")
    BINDINGS = bindings("artifacts")
    where = "artifacts"

    def __init__(self, project: str) -> None:
        super().__init__(["projects", project])
        self.project = project

    def fetch(self) -> list[Row]:
        return [
            (a.name, (a.type, a.name, a.version_count, f"v{a.latest_version}", when(a.updated_at)))
            for a in self.data.artifacts(self.project)
        ]

    def open(self, key: str) -> None:
        self.post_message(OpenVersions(self.project, key))

    def action_runs(self) -> None:
        self.post_message(OpenRuns(self.project))


class VersionsScreen(VersionActions[list[Row]], ListScreen):
    """The versions of an artifact, newest first, a page at a time: moving onto the last row
    fetches the next page, so an artifact with 10,000 versions opens as fast as one with 10."""

    columns = ("version", "aliases", "size", "files", "created", "logged by")
    BINDINGS = bindings("versions")
    where = "versions"
    PAGE = 50

    def __init__(self, project: str, name: str) -> None:
        super().__init__(["projects", project, name])
        self.project, self.artifact_name = project, name
        self.more = False  # whether older versions may remain to fetch
        self.loading_more = False
        self.marked: str | None = None  # the version marked to compare with another
        self.aliases: dict[str, tuple[str, ...]] = {}

    def fetch(self) -> list[Row]:
        page = self.data.versions(self.project, self.artifact_name, limit=self.PAGE)
        self.more = len(page) == self.PAGE
        self.aliases = {v.qualified_name: v.aliases for v in page}
        return [self.row(v) for v in page]

    def row(self, v: VersionItem) -> Row:
        run = v.logged_by
        by = f"{run.name} ({run.job_type})" if run else ""
        return (v.qualified_name, (v.version, ", ".join(v.aliases), human(v.size), v.files, when(v.created_at), by))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.more and not self.loading_more and self.rows and event.cursor_row >= event.data_table.row_count - 1:
            self.loading_more = True
            self.set_status("loading older versions…")
            self._fetch_more(int(self.rows[-1][0].rsplit(":v", 1)[1]))

    @work(thread=True, exclusive=True, group="more")
    def _fetch_more(self, before: int) -> None:
        try:
            page = self.data.versions(self.project, self.artifact_name, limit=self.PAGE, before=before)
            self.aliases.update((v.qualified_name, v.aliases) for v in page)
        except Exception as e:  # shown to the user; the rows already shown stay
            self.app.call_from_thread(self._failed, e)
            self.loading_more = False
            return
        self.app.call_from_thread(self._append, [self.row(v) for v in page], len(page) == self.PAGE)

    def _append(self, rows: list[Row], more: bool) -> None:
        self.rows += rows
        self.more, self.loading_more = more, False
        table = self.query_one("#list", DataTable)
        needle = self.query_one("#filter", Input).value.lower()
        for key, cells in rows:
            if not needle or any(needle in str(c).lower() for c in cells):
                table.add_row(*(plain(c) for c in cells), key=key)
        self.set_status("")

    def open(self, key: str) -> None:
        self.post_message(OpenVersion(key))

    def target(self) -> tuple[str, tuple[str, ...]] | None:
        key = self._cursor_key()
        return None if key is None else (key, self.aliases.get(key, ()))

    def _cursor_key(self) -> str | None:
        table = self.query_one("#list", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return key if isinstance(key, str) else None

    def action_mark(self) -> None:
        """Mark the version under the cursor; on another one, compare the two."""
        key = self._cursor_key()
        if key is None:
            return
        if self.marked is None or self.marked == key:
            self._set_mark(None if self.marked == key else key)
            if self.marked:
                self.notify(f"marked {key}: press m or d on another version to compare them", markup=False)
        else:
            self._compare(self.marked, key)

    def render_rows(self, needle: str) -> None:
        super().render_rows(needle)
        marked, self.marked = self.marked, None
        self._set_mark(marked)  # a filter or reload redraws the rows: the mark stays

    def _set_mark(self, key: str | None) -> None:
        table = self.query_one("#list", DataTable)
        for k in (self.marked, key):
            if k is not None and k in table.rows:
                version = k.rsplit(":", 1)[1]
                table.update_cell_at(Coordinate(table.get_row_index(k), 0), plain(("● " if k == key else "") + version))
        self.marked = key

    def _compare(self, a: str, b: str) -> None:
        """The diff from the older of ``a`` and ``b`` to the newer."""
        self._set_mark(None)
        older, newer = sorted((a, b), key=lambda k: int(k.rsplit(":v", 1)[1]))
        self.post_message(OpenDiff(older, newer))

    def action_diff(self) -> None:
        """Compare the cursor's version with the marked one, else with the one before it."""
        key = self._cursor_key()
        if key is None:
            return
        if self.marked is not None and self.marked != key:
            self._compare(self.marked, key)
            return
        keys = [k for k, _ in self.rows]
        row = keys.index(key)
        if row + 1 < len(keys):  # rows are newest first: the previous version is below
            self.post_message(OpenDiff(keys[row + 1], key))
        else:
            self.notify("the oldest version has nothing before it")


class RunsScreen(ListScreen):
    columns = ("started", "run", "job type", "status", "duration", "inputs", "outputs")
    where = "runs"

    def __init__(self, project: str) -> None:
        super().__init__(["projects", project, "runs"])
        self.project = project

    def fetch(self) -> list[Row]:
        rows: list[Row] = []
        for r in reversed(self.data.runs(self.project)):
            dur = f"{r.duration:.1f}s" if r.duration is not None else "—"
            rows.append(
                (r.id, (when(r.started_at), r.name, r.job_type or "", r.status, dur, len(r.inputs), len(r.outputs)))
            )
        return rows

    def open(self, key: str) -> None:
        self.post_message(OpenRun(self.project, key))


class RegistryScreen(ListScreen):
    """The registry's collections: each one's type, how many versions, and where its custom
    aliases point (``production → v3 (p/model:v7)``)."""

    columns = ("type", "collection", "versions", "updated", "aliases")
    where = "registry"

    def __init__(self) -> None:
        super().__init__(["registry"])

    def fetch(self) -> list[Row]:
        return [
            (c.name, (c.type, c.name, c.version_count, when(c.updated_at), _aliases(c.aliases)))
            for c in self.data.collections()
        ]

    def show(self, result: list[Row]) -> None:
        super().show(result)
        if not result:
            self.set_status("the registry is empty: link a version with store.link(ref, collection)")

    def open(self, key: str) -> None:
        self.post_message(OpenCollection(key))


def _aliases(points: tuple[AliasPoint, ...]) -> str:
    return ", ".join(f"{p.alias} → {p.version} ({p.source})" for p in points)


class CollectionScreen(VersionsScreen):
    """The versions of a registry collection, newest first, with the version each links to;
    the keys of any versions list work here (``a`` moves an alias: a promotion)."""

    columns = ("version", "links to", "aliases", "size", "created", "linked by")

    def __init__(self, name: str) -> None:
        super().__init__(REGISTRY, name)
        self.crumbs = ["registry", name]

    def row(self, v: VersionItem) -> Row:
        run = v.logged_by
        by = f"{run.name} ({run.job_type})" if run else ""
        cells = (v.version, v.linked_from or "", ", ".join(v.aliases), human(v.size), when(v.created_at), by)
        return (v.qualified_name, cells)
