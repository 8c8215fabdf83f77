"""The table viewer: a lazily paged grid; sort by the column under the cursor and filter with
conditions, both streamed through the table once, in a worker."""

from __future__ import annotations

import time

from textual import work
from textual.app import ComposeResult
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from ..data import FILTER_HELP, Filter, parse_filter
from ..format import plural, styled
from ..keys import bindings
from ..pager import Progress, Sort, TablePager
from ..widgets.grid import ParquetGrid
from .base import BaseScreen

PROGRESS_EVERY = 0.2  # seconds between updates of the count while a filter streams


class TableScreen(BaseScreen[TablePager]):
    BINDINGS = bindings("table")
    where = "table"

    def __init__(self, ref: str, path: str, crumbs: list[str]) -> None:
        super().__init__([*crumbs, path])
        self.ref, self.path = ref, path
        self.table: TablePager | None = None  # the whole table; sorts and filters start from it
        self.filter_text = ""
        self.sort: Sort | None = None

    def body(self) -> ComposeResult:
        yield Static(id="info")
        yield Static(id="derived")
        yield Static(id="grid-holder")
        prompt = Input(id="prompt", placeholder=FILTER_HELP)
        prompt.display = False
        yield prompt

    def fetch(self) -> TablePager:
        return self.data.table(self.ref, self.path)  # reads the footer only

    async def show(self, table: TablePager) -> None:
        self.table = table
        groups = len(table.groups)
        summary = (
            f"  {plural(table.num_rows, 'row')} · {plural(len(table.columns), 'column')} · "
            f"{plural(groups, 'row group')}"
        )
        self.query_one("#info", Static).update(styled((self.path, "b"), summary))
        self._note(None)
        await self._mount_grid(table)

    async def _mount_grid(self, source: TablePager) -> None:
        old = self.query(ParquetGrid)
        column = old.first().cursor_col if old else 0
        await old.remove()
        grid = ParquetGrid(source, sort=self.sort, column=column, id="grid")
        await self.query_one("#body").mount(grid, after=self.query_one("#derived"))
        grid.focus()

    def _note(self, p: Progress | None) -> None:
        """The line under the title: what the rows shown are, and how many match so far."""
        note = self.query_one("#derived", Static)
        if self.table is None or not (self.filter_text or self.sort):
            note.display = False
            return
        parts = []
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        if self.sort:
            parts.append(f"sorted by {self._shown(self.sort[0])} {'descending' if self.sort[1] else 'ascending'}")
        total = self.table.num_rows
        if p is not None:
            counted = f"{p.matched:,} of {total:,} rows match" if self.filter_text else f"{total:,} rows"
            if not p.done:
                counted += f" so far ({p.scanned / max(total, 1):.0%} read)"
            parts.append(counted)
            if p.result is not None and p.matched > p.result.num_rows:
                parts.append(f"showing the {'top' if self.sort else 'first'} {p.result.num_rows:,}")
        note.update(styled((" · ".join(parts), "yellow")))
        note.display = True

    def _shown(self, name: str) -> str:
        return next((c.shown for c in self.table.columns if c.name == name), name) if self.table else name

    # ---------------------------------------------------------------- sort and filter
    def action_filter(self) -> None:
        prompt = self.query_one("#prompt", Input)
        prompt.value = self.filter_text
        prompt.display = True
        prompt.focus()

    def action_sort(self) -> None:
        """Sort by the column under the cursor; again on the same column, the other way."""
        grid = self.query(ParquetGrid)
        column = grid.first().column if grid else None
        if column is None or self.table is None:
            return
        self.sort = (column, not self.sort[1]) if self.sort and self.sort[0] == column else (column, False)
        self._apply()

    def action_column(self, delta: int) -> None:
        grid = self.query(ParquetGrid)
        if grid:
            grid.first().action_column(delta)

    def action_clear(self) -> None:
        self.filter_text, self.sort = "", None
        self._apply()

    def clear_filter(self) -> bool:
        prompt = self.query_one("#prompt", Input)
        if prompt.display:
            prompt.display = False
            self._focus_grid()
            return True
        if not self.filter_text:
            return False
        self.filter_text = ""
        self._apply()  # the sort stays
        return True

    def _focus_grid(self) -> None:
        grid = self.query(ParquetGrid)
        if grid:
            grid.first().focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        self._focus_grid()
        if self.table is None:
            return
        self.filter_text = event.value.strip()
        self._apply()

    def _apply(self) -> None:
        """Show the table with the current filter and sort (the whole table when neither)."""
        if self.table is None:
            return
        where: Filter | None = None
        if self.filter_text:
            try:
                where = parse_filter(self.filter_text, self.table.filter_schema, self.table.aliases())
            except ValueError as e:
                self.set_status(styled(("filter:", "b red"), f" {e}"))
                return
        self.set_status("")
        self._note(None)
        if where is None and self.sort is None:
            self.workers.cancel_group(self, "derive")
            self.run_worker(self._mount_grid(self.table), group="mount")
            return
        self.set_status(f"reading {self.table.num_rows:,} rows…")
        self._derive(self.table, where, self.sort)

    @work(thread=True, exclusive=True, group="derive")
    def _derive(self, table: TablePager, where: Filter | None, sort: Sort | None) -> None:
        worker = get_current_worker()
        shown: TablePager | None = None
        last = 0.0
        try:
            for p in table.derive(where, sort):
                if worker.is_cancelled:
                    return
                if p.result is not None and p.result is not shown:
                    shown = p.result
                    self.app.call_from_thread(self._mount_grid, p.result)  # type: ignore[arg-type]
                    self.app.call_from_thread(self.set_status, "")
                if p.done or time.monotonic() - last > PROGRESS_EVERY:
                    last = time.monotonic()
                    self.app.call_from_thread(self._note, p)
        except Exception as e:  # shown to the user; the rows shown stay
            self.app.call_from_thread(self.set_status, styled(("error:", "b red"), f" {e}"))
