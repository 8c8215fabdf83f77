"""One artifact version: what it is, what it holds, where it came from."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ..format import human, lines, plain, styled, when
from .base import BaseScreen

DATASET = "\x00table:"  # row keys of partitioned tables (entry paths cannot hold control characters)


class VersionScreen(BaseScreen):
    BINDINGS = [
        Binding("l", "lineage", "Lineage"),
        Binding("c", "copy_name", "Copy name"),
        Binding("s", "snippet", "Python snippet"),
    ]

    def __init__(self, ref: str) -> None:
        project, rest = ref.split("/", 1)
        name, version = rest.split(":", 1)
        super().__init__(["projects", project, name, version])
        self.ref = ref
        self.art: Any = None

    def body(self) -> ComposeResult:
        yield Static(id="summary")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="entries")

    def on_mount(self) -> None:
        self.query_one("#entries", DataTable).add_columns("path", "kind", "size", "digest")
        super().on_mount()

    def fetch(self) -> Any:
        art = self.data.version(self.ref)
        run = art.logged_by()
        refs = [a.qualified_name + (" (deleted)" if a.deleted else "") for a in art.references()]
        return art, run, refs

    def show(self, result: Any) -> None:
        art, run, refs = result
        self.art = art
        meta = json.dumps(art.metadata, indent=None, default=str) if art.metadata else "{}"
        by = f"{run.name} ({run.job_type}, {run.status})" if run else "—"
        summary = lines(
            styled((art.qualified_name, "b"), "  ", (art.type, "dim"), f"   aliases: {', '.join(art.aliases) or '—'}"),
            f"description: {art.description or '—'}",
            f"metadata: {meta}",
            f"digest: {art.digest}",
            f"size: {human(art.size)}   files: {len(art.entries)}   created: {when(art.created_at)}",
            f"logged by: {by}",
            f"upstream: {', '.join(refs) or '—'}",
        )
        self.query_one("#summary", Static).update(summary)
        table = self.query_one("#entries", DataTable)
        table.clear()
        # A partitioned table is one row (its parts are opened together), where its first part is.
        parts: dict[str, list[int]] = {}
        for e in art.entries.values():
            name = e.extra.get("dataset") if e.kind == "table" else None
            if isinstance(name, str):
                parts.setdefault(name, []).append(e.size)
        shown: set[str] = set()
        for e in art.entries.values():
            name = e.extra.get("dataset") if e.kind == "table" else None
            if isinstance(name, str):
                if name not in shown:
                    shown.add(name)
                    sizes = parts[name]
                    label = plain(f"{name}/ ({len(sizes)} parts)")
                    table.add_row(label, "table", human(sum(sizes)), "", key=DATASET + name)
                continue
            digest = e.digest.short if e.digest else e.extra.get("uri", "")
            table.add_row(plain(e.path), e.kind, human(e.size), plain(str(digest)), key=e.path)
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if self.art is None or event.row_key.value is None:
            return
        key = event.row_key.value
        if key.startswith(DATASET):
            from .table import TableScreen

            self.app.push_screen(TableScreen(self.art, key.removeprefix(DATASET), self.crumbs))
            return
        entry = self.art.entries[key]
        if entry.kind == "table":
            from .table import TableScreen

            self.app.push_screen(TableScreen(self.art, entry.path, self.crumbs))
        else:
            from .file import FileScreen

            self.app.push_screen(FileScreen(self.art, entry.path, self.crumbs))

    def action_lineage(self) -> None:
        from .lineage import LineageScreen

        self.app.push_screen(LineageScreen(self.ref))

    def action_copy_name(self) -> None:
        self.app.copy_to_clipboard(self.ref)
        self.notify(f"copied {self.ref}", markup=False)

    def action_snippet(self) -> None:
        if self.art is not None:
            snippet = self.data.snippet(self.art)
            self.app.copy_to_clipboard(snippet)
            self.notify(snippet, title="Python (copied)", timeout=10, markup=False)
