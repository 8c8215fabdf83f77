"""The table viewer: a lazily paged grid, with sort and filter that stream the table."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from ..format import lines, styled
from ..widgets.grid import ParquetGrid, RowSource
from .base import BaseScreen

RESULT_ROWS = 10_000  # rows kept by a sort or filter of a large table
_OPS = ("==", "!=", ">=", "<=", ">", "<", "~")


def parse_filter(text: str, schema: pa.Schema) -> tuple[str, str, Any]:
    """``column op value`` with op one of == != >= <= > < ~ (contains)."""
    for op in _OPS:
        if op in text:
            col, value = (p.strip() for p in text.split(op, 1))
            if col not in schema.names:
                raise ValueError(f"no column {col!r}")
            typ = schema.field(col).type
            if pa.types.is_integer(typ):
                return col, op, int(value)
            if pa.types.is_floating(typ):
                return col, op, float(value)
            if pa.types.is_boolean(typ):
                return col, op, value.lower() in ("1", "true", "yes")
            return col, op, value.strip("'\"")
    raise ValueError("write a filter as: column op value (op: == != >= <= > < ~)")


def _mask(batch: pa.RecordBatch, col: str, op: str, value: Any) -> pa.Array:
    arr = batch.column(col)
    if op == "~":
        return pc.match_substring(pc.cast(arr, pa.string()), str(value))
    fn = {
        "==": pc.equal,
        "!=": pc.not_equal,
        ">=": pc.greater_equal,
        "<=": pc.less_equal,
        ">": pc.greater,
        "<": pc.less,
    }[op]
    return fn(arr, value)


class TableScreen(BaseScreen):
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("x", "clear", "Clear sort/filter"),
    ]

    def __init__(self, art: Any, path: str, crumbs: list[str]) -> None:
        super().__init__([*crumbs, path])
        self.art, self.path = art, path
        self.table: Any = None
        self.source: RowSource | None = None

    def body(self) -> ComposeResult:
        yield Static(id="info")
        yield Static(id="grid-holder")
        prompt = Input(id="prompt")
        prompt.display = False
        yield prompt

    def fetch(self) -> Any:
        table = self.data.table(self.art, self.path)
        return table, RowSource(table)  # reads the footer only

    async def show(self, result: Any) -> None:
        self.table, self.source = result
        await self._mount_grid(self.source, "")

    async def _mount_grid(self, source: RowSource, note: str) -> None:
        await self.query(ParquetGrid).remove()
        cols = ", ".join(f"{f.name}: {f.type}" for f in source.schema)
        summary = f"  {source.num_rows:,} rows · {len(source.schema)} columns · {len(source.groups)} row groups{note}"
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
        if self.source is not None:
            await self._mount_grid(self.source, "")

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
        self._derive(self._mode, event.value.strip())

    @work(thread=True, exclusive=True, group="derive")
    def _derive(self, mode: str, text: str) -> None:
        try:
            arrow, note = self._filter(text) if mode == "filter" else self._sort(text)
        except Exception as e:
            self.app.call_from_thread(self.set_status, styled((f"{mode}:", "b red"), f" {e}"))
            return
        self.app.call_from_thread(self.set_status, "")
        self.app.call_from_thread(self._mount_grid, RowSource(arrow=arrow), note)  # type: ignore[arg-type]

    def _filter(self, text: str) -> tuple[pa.Table, str]:
        col, op, value = parse_filter(text, self.table.schema)
        kept: list[pa.RecordBatch] = []
        n = 0
        for batch in self.table.iter_batches():
            part = batch.filter(_mask(batch, col, op, value))
            if part.num_rows:
                kept.append(part)
                n += part.num_rows
            if n >= RESULT_ROWS:
                break
        arrow = pa.Table.from_batches(kept, schema=self.table.schema).slice(0, RESULT_ROWS)
        more = " (first matches)" if n >= RESULT_ROWS else ""
        return arrow, f" · filter {text}: {arrow.num_rows:,} rows{more}"

    def _sort(self, text: str) -> tuple[pa.Table, str]:
        desc = text.startswith("-")
        col = text.lstrip("-").strip()
        if col not in self.table.schema.names:
            raise ValueError(f"no column {col!r}")
        order = "descending" if desc else "ascending"
        best: pa.Table | None = None
        # Keep only the best RESULT_ROWS rows while streaming: bounded memory for any length.
        for batch in self.table.iter_batches():
            t = pa.Table.from_batches([batch])
            best = t if best is None else pa.concat_tables([best, t])
            best = best.sort_by([(col, order)]).slice(0, RESULT_ROWS)
        assert best is not None
        top = " (top rows)" if self.table.num_rows > RESULT_ROWS else ""
        return best, f" · sorted by {col} {order}{top}"
