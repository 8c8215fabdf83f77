"""The table viewer: a lazily paged grid, with sort and filter that stream the table."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widgets import Input, Static

from ..format import lines, styled
from ..keys import bindings
from ..pager import TablePager
from ..widgets.grid import ParquetGrid
from .base import BaseScreen


class TableScreen(BaseScreen[TablePager]):
    BINDINGS = bindings("table")
    where = "table"

    def __init__(self, ref: str, path: str, crumbs: list[str]) -> None:
        super().__init__([*crumbs, path])
        self.ref, self.path = ref, path
        self.table: TablePager | None = None  # the whole table; sorts and filters start from it
        self._mode = "filter"

    def body(self) -> ComposeResult:
        yield Static(id="info")
        yield Static(id="grid-holder")
        prompt = Input(id="prompt")
        prompt.display = False
        yield prompt

    def fetch(self) -> TablePager:
        return self.data.table(self.ref, self.path)  # reads the footer only

    async def show(self, table: TablePager) -> None:
        self.table = table
        await self._mount_grid(table, "")

    async def _mount_grid(self, source: TablePager, note: str) -> None:
        await self.query(ParquetGrid).remove()
        cols = ", ".join(f"{c.name}: {c.type}" for c in source.columns)
        summary = f"  {source.num_rows:,} rows · {len(source.columns)} columns · {len(source.groups)} row groups{note}"
        self.query_one("#info", Static).update(lines(styled((self.path, "b"), summary), styled((cols, "dim"))))
        grid = ParquetGrid(source, id="grid")
        await self.query_one("#body").mount(grid, after=self.query_one("#info"))
        grid.focus()

    # ---------------------------------------------------------------- sort and filter
    def action_filter(self) -> None:
        self._ask("filter", "column op value, e.g.  label == 1   or   review ~ great")

    def action_sort(self) -> None:
        self._ask("sort", "column to sort by (prefix with - for descending)")

    async def action_clear(self) -> None:
        if self.table is not None:
            await self._mount_grid(self.table, "")

    def _ask(self, mode: str, placeholder: str) -> None:
        prompt = self.query_one("#prompt", Input)
        prompt.placeholder = placeholder
        prompt.value = ""
        prompt.display = True
        prompt.focus()
        self._mode = mode

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        if self.table is None or not event.value.strip():
            return
        self.set_status(f"{self._mode}ing {self.table.num_rows:,} rows…")
        self._derive(self.table, self._mode, event.value.strip())

    @work(thread=True, exclusive=True, group="derive")
    def _derive(self, table: TablePager, mode: str, text: str) -> None:
        try:
            if mode == "filter":
                result, more = table.filtered(text)
                note = f" · filter {text}: {result.num_rows:,} rows{' (first matches)' if more else ''}"
            else:
                column, descending = text.lstrip("-").strip(), text.startswith("-")
                result, more = table.sorted(column, descending)
                order = "descending" if descending else "ascending"
                note = f" · sorted by {column} {order}{' (top rows)' if more else ''}"
        except Exception as e:
            self.app.call_from_thread(self.set_status, styled((f"{mode}:", "b red"), f" {e}"))
            return
        self.app.call_from_thread(self.set_status, "")
        self.app.call_from_thread(self._mount_grid, result, note)  # type: ignore[arg-type]
