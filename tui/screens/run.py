"""One run: job type, status, duration, config, inputs and outputs."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from ..format import lines, plain, styled, when
from ..messages import OpenVersion
from ..views import RunView
from .base import BaseScreen


class RunScreen(BaseScreen[RunView]):
    where = "run"

    def __init__(self, project: str, run_id: str) -> None:
        super().__init__(["projects", project, "runs", run_id])
        self.project, self.run_id = project, run_id

    def body(self) -> ComposeResult:
        yield Static(id="summary")
        yield DataTable(cursor_type="row", id="io")

    def on_mount(self) -> None:
        self.query_one("#io", DataTable).add_columns("direction", "artifact version")
        super().on_mount()

    def fetch(self) -> RunView:
        return self.data.run(self.project, self.run_id)

    def show(self, run: RunView) -> None:
        dur = f"{run.duration:.1f}s" if run.duration is not None else "running"
        finished = when(run.finished_at) or "—"
        rows: list[Text | str] = [
            styled((run.name, "b"), "  ", (run.id, "dim")),
            f"job type: {run.job_type or '—'}   status: {run.status}   duration: {dur}",
            f"started: {when(run.started_at)}   finished: {finished}   host: {run.host or '—'}",
            f"config: {json.dumps(run.config, default=str)}",
        ]
        if run.summary:
            metrics = "   ".join(f"{k}: {v}" for k, v in run.summary.items())
            rows.append(
                styled(("summary: ", "b"), metrics, (f"   ({run.steps} logged steps)" if run.steps else "", "dim"))
            )
        if run.error:
            rows.append(styled((f"error: {run.error}", "red")))
        self.query_one("#summary", Static).update(lines(*rows))
        table = self.query_one("#io", DataTable)
        table.clear()
        for name in run.inputs:
            table.add_row("used", plain(name), key=f"in:{name}")
        for name in run.outputs:
            table.add_row("logged", plain(name), key=f"out:{name}")
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.post_message(OpenVersion(event.row_key.value.split(":", 1)[1]))
