"""One artifact version: what it is, what it holds, where it came from."""

from __future__ import annotations

import json

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from ..data import REGISTRY
from ..format import human, lines, plain, styled, when
from ..keys import bindings
from ..messages import OpenFile, OpenLineage, OpenTable, OpenVersion
from ..views import AliasMove, Annotation, EntryView, VersionView
from .actions import VersionActions

HISTORY = 5  # moves of each alias shown, the newest
DATASET = "\x00table:"  # row keys of partitioned tables (entry paths cannot hold control characters)


class VersionScreen(VersionActions[VersionView]):
    """A version's summary and its entries, a page at a time: moving onto the last row fetches
    the next page, so a version of a million files opens as fast as one of ten."""

    BINDINGS = bindings("version")
    where = "version"
    leave_on_delete = True

    def __init__(self, ref: str) -> None:
        project, rest = ref.split("/", 1)
        name, version = rest.split(":", 1)
        super().__init__(["registry", name, version] if project == REGISTRY else ["projects", project, name, version])
        self.ref = ref
        self.version: VersionView | None = None
        self.entries: dict[str, EntryView] = {}
        self.shown: set[str] = set()  # partitioned tables with a row already
        self.more = False  # whether entries after the last shown may remain to fetch
        self.loading_more = False

    def body(self) -> ComposeResult:
        yield Static(id="summary")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="entries")

    def on_mount(self) -> None:
        self.query_one("#entries", DataTable).add_columns("path", "kind", "size", "digest")
        super().on_mount()

    def fetch(self) -> VersionView:
        return self.data.version(self.ref)

    def show(self, v: VersionView) -> None:
        self.version = v
        self.entries = {}
        meta = json.dumps(v.metadata, indent=None, default=str) if v.metadata else "{}"
        run = v.logged_by
        by = f"{run.name} ({run.job_type}, {run.status})" if run else "—"
        refs = [r.qualified_name + (" (deleted)" if r.deleted else "") for r in v.references]
        summary = lines(
            styled((v.qualified_name, "b"), "  ", (v.type, "dim"), f"   aliases: {', '.join(v.aliases) or '—'}"),
            *([styled("linked from: ", (v.linked_from, "b"), ("   o opens it", "dim"))] if v.linked_from else []),
            f"tags: {', '.join(v.tags) or '—'}",
            f"description: {v.description or '—'}",
            f"metadata: {meta}",
            *([_annotated(v.annotated)] if v.annotated else []),
            f"digest: {v.digest}",
            f"size: {human(v.size)}   files: {v.files:,}   created: {when(v.created_at)}",
            f"logged by: {by}",
            f"upstream: {', '.join(refs) or '—'}",
            f"used by: {_used_by(v)}",
            *_alias_history(v),
        )
        self.query_one("#summary", Static).update(summary)
        table = self.query_one("#entries", DataTable)
        table.clear()
        self.shown = set()
        self._add(v.entries)
        self.more = v.files > len(v.entries)
        table.focus()

    def _add(self, entries: tuple[EntryView, ...]) -> None:
        table = self.query_one("#entries", DataTable)
        self.entries.update((e.path, e) for e in entries)
        # A partitioned table is one row (its parts are opened together), where its first part is.
        parts: dict[str, list[int]] = {}
        for e in entries:
            if e.dataset is not None:
                parts.setdefault(e.dataset, []).append(e.size)
        for e in entries:
            if e.dataset is not None:
                if e.dataset not in self.shown:
                    self.shown.add(e.dataset)
                    sizes = parts[e.dataset]
                    label = plain(f"{e.dataset}/ ({len(sizes)} parts)")
                    table.add_row(label, "table", human(sum(sizes)), "", key=DATASET + e.dataset)
                continue
            table.add_row(plain(e.path), e.kind, human(e.size), plain(e.digest), key=e.path)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.more and not self.loading_more and event.cursor_row >= event.data_table.row_count - 1:
            self.loading_more = True
            self.set_status("loading more files…")
            self._fetch_more(max(self.entries))

    @work(thread=True, exclusive=True, group="more")
    def _fetch_more(self, after: str) -> None:
        try:
            page = self.data.entries(self.ref, after)
        except Exception as e:  # shown to the user; the rows already shown stay
            self.app.call_from_thread(self._failed, e)
            self.loading_more = False
            return
        self.app.call_from_thread(self._append, page)

    def _append(self, page: tuple[EntryView, ...]) -> None:
        self._add(page)
        total = self.version.files if self.version is not None else 0
        self.more, self.loading_more = bool(page) and len(self.entries) < total, False
        self.set_status("")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if self.version is None or event.row_key.value is None:
            return
        key, ref = event.row_key.value, self.version.qualified_name
        if key.startswith(DATASET):
            self.post_message(OpenTable(ref, key.removeprefix(DATASET), self.crumbs))
            return
        entry = self.entries[key]
        if entry.kind == "table":
            self.post_message(OpenTable(ref, entry.path, self.crumbs))
        else:
            self.post_message(OpenFile(ref, entry.path, self.crumbs))

    def target(self) -> tuple[str, tuple[str, ...]] | None:
        v = self.version
        return None if v is None else (v.qualified_name, v.aliases)

    def target_file(self) -> tuple[str, str] | None:
        table = self.query_one("#entries", DataTable)
        if self.version is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        if not isinstance(key, str) or key.startswith(DATASET):
            return None
        return self.version.qualified_name, key

    def action_lineage(self) -> None:
        self.post_message(OpenLineage(self.ref))

    def action_open_linked(self) -> None:
        """The version this registry version links to."""
        if self.version is None:
            return
        if self.version.linked_from is None:
            self.notify(f"{self.version.qualified_name} is not a registry version: it links to nothing", markup=False)
        else:
            self.post_message(OpenVersion(self.version.linked_from))

    def action_copy_name(self) -> None:
        self.app.copy_to_clipboard(self.ref)
        self.notify(f"copied {self.ref}", markup=False)

    def action_snippet(self) -> None:
        if self.version is not None:
            snippet = self.data.snippet(self.version)
            self.app.copy_to_clipboard(snippet)
            self.notify(snippet, title="Python (copied)", timeout=10, markup=False)


def _used_by(v: VersionView, shown: int = 5) -> str:
    """The runs that used ``v``, newest first, with what each logged."""
    if not v.used_by:
        return "—"
    runs = []
    for r in reversed(v.used_by[-shown:]):
        made = f" → {', '.join(r.outputs)}" if r.outputs else ""
        runs.append(f"{r.name} ({r.job_type or 'run'}, {r.status}){made}")
    more = f"; and {len(v.used_by) - shown} more" if len(v.used_by) > shown else ""
    return f"{len(v.used_by)} run{'s' if len(v.used_by) != 1 else ''}: " + "; ".join(runs) + more


def _annotated(a: Annotation) -> str:
    """Who said what is said of the version last, and when."""
    who = " ".join(x for x in (f"by {a.user}" if a.user else "", f"in run {a.run_id}" if a.run_id else "") if x)
    times = "once" if a.count == 1 else f"{a.count} times"
    return f"annotated: {times}, last {when(a.created_at)}" + (f" {who}" if who else "")


def _alias_history(v: VersionView) -> list[Text | str]:
    """The moves of each alias ``v`` holds, the newest :data:`HISTORY` of each; those that
    brought an alias to ``v`` or took it away in bold."""
    if not v.alias_history:
        return []
    rows: list[Text | str] = ["alias history:"]
    by_alias: dict[str, list[AliasMove]] = {}
    for m in v.alias_history:
        by_alias.setdefault(m.alias, []).append(m)
    for alias, moves in by_alias.items():
        if len(moves) > HISTORY:
            rows.append(styled(f"  {alias}  ", (f"{len(moves) - HISTORY} earlier moves", "dim")))
        for m in moves[-HISTORY:]:
            here = v.version in (m.version, m.previous)
            run = f"  run {m.run_id}" if m.run_id else ""
            rows.append(styled(f"  {alias}  {when(m.created_at)}  ", (_move(m), "b" if here else ""), (run, "dim")))
    return rows


def _move(m: AliasMove) -> str:
    if m.version is None:
        return f"removed from {m.previous}" if m.previous else "removed"
    if m.previous is None:
        return f"set on {m.version}"
    return f"moved {m.previous} → {m.version}"
