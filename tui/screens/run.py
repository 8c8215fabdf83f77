"""One run: job type, status, duration, config, inputs and outputs."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from ..format import lines, plain, styled, when
from .base import BaseScreen


class RunScreen(BaseScreen):
    def __init__(self, project: str, run_id: str) -> None:
        super().__init__(["projects", project, "runs", run_id])
        self.project, self.run_id = project, run_id

    def body(self) -> ComposeResult:
        yield Static(id="summary")
        yield DataTable(cursor_type="row", id="io")

    def on_mount(self) -> None:
        self.query_one("#io", DataTable).add_columns("direction", "artifact version")
        super().on_mount()

    def fetch(self) -> Any:
        return self.data.run(self.project, self.run_id)

    def show(self, run: Any) -> None:
        dur = f"{run.duration:.1f}s" if run.duration is not None else "running"
        finished = when(run.finished_at) or "—"
        rows: list[Text | str] = [
            styled((run.name, "b"), "  ", (run.id, "dim")),
            f"job type: {run.job_type or '—'}   status: {run.status}   duration: {dur}",
            f"started: {when(run.started_at)}   finished: {finished}   host: {run.host or '—'}",
            f"config: {json.dumps(run.config, default=str)}",
        ]
        if run.error:
            rows.append(styled((f"error: {run.error}", "red")))
        self.query_one("#summary", Static).update(lines(*rows))
        table = self.query_one("#io", DataTable)
        table.clear()
        for i in run.inputs:
            table.add_row("used", plain(i.qualified_name), key=f"in:{i.qualified_name}")
        for o in run.outputs:
            table.add_row("logged", plain(o.qualified_name), key=f"out:{o.qualified_name}")
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from .version import VersionScreen

        if event.row_key.value:
            self.app.push_screen(VersionScreen(event.row_key.value.split(":", 1)[1]))
