"""Tables as pages of plain rows: row groups read on demand, sort and filter streamed.

A :class:`TablePager` hands out rows as Python values. It reads nothing by itself: it is built
(by :mod:`tui.data`) with the functions that read one row group and stream the table's
batches, so the grid and the table screen never hold a store object. Only the row groups that
hold the rows asked for are read, and a few are kept, so memory stays bounded for any length.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from .views import Column

__all__ = ["KEEP_GROUPS", "RESULT_ROWS", "TablePager", "parse_filter"]

KEEP_GROUPS = 6  # row groups kept in memory
RESULT_ROWS = 10_000  # rows kept by a sort or filter of a large table
SAMPLE_ROWS = 200
_OPS = ("==", "!=", ">=", "<=", ">", "<", "~")
Value = bool | int | float | str


class TablePager:
    """Rows by index; ``row`` answers at once (None until its row group is loaded), ``load``
    reads a row group (call it from a worker thread)."""

    def __init__(
        self,
        schema: pa.Schema,
        num_rows: int,
        groups: Sequence[tuple[int, int]],
        read_group: Callable[[int], pa.Table],
        batches: Callable[[], Iterator[pa.RecordBatch]],
        *,
        stats: dict[str, tuple[object, object]] | None = None,
        lengths: dict[str, int] | None = None,
        arrow: pa.Table | None = None,
    ) -> None:
        self._schema = schema
        self._read_group, self._batches, self._arrow = read_group, batches, arrow
        self.columns = tuple(Column(f.name, str(f.type)) for f in schema)
        self.groups = list(groups)
        self.num_rows = num_rows
        self.stats = stats or {}  # column -> (min, max), from the Parquet footer
        self.lengths = lengths or {}  # column -> longest text value, when recorded
        self.starts = [s for s, _ in self.groups]
        self.pages: OrderedDict[int, pa.Table] = OrderedDict()
        self.loads = 0  # row groups read so far (tests assert on it)
        self.lock = threading.Lock()

    @classmethod
    def of_arrow(cls, arrow: pa.Table) -> TablePager:
        """A pager over rows already in memory (the result of a sort or a filter)."""
        return cls(
            arrow.schema,
            arrow.num_rows,
            [(0, arrow.num_rows)],
            lambda _: arrow,
            lambda: iter(arrow.to_batches()),
            arrow=arrow,
        )

    # ---------------------------------------------------------------- paging
    def group_of(self, row: int) -> int:
        return max(0, bisect.bisect_right(self.starts, row) - 1)

    def _cached(self, group: int) -> pa.Table | None:
        with self.lock:
            page = self.pages.get(group)
            if page is not None:
                self.pages.move_to_end(group)
            return page

    def load(self, group: int) -> None:
        """Read row group ``group`` unless it is kept (may do store I/O)."""
        if self._cached(group) is not None:
            return
        page = self._read_group(group)
        with self.lock:
            self.loads += 1
            self.pages[group] = page
            while len(self.pages) > KEEP_GROUPS:
                self.pages.popitem(last=False)

    def row(self, index: int) -> list[object] | None:
        """The row's values, or None while its row group is not loaded."""
        g = self.group_of(index)
        page = self._cached(g)
        if page is None:
            return None
        offset = index - self.starts[g]
        return [page.column(i)[offset].as_py() for i in range(page.num_columns)]

    def sample(self, column: str) -> list[object]:
        """The first values of ``column`` of rows in memory (none for a table read by groups)."""
        if self._arrow is None or not self.num_rows:
            return []
        return list(self._arrow.column(column).slice(0, min(SAMPLE_ROWS, self.num_rows)).to_pylist())

    # ---------------------------------------------------------------- sort and filter
    def filtered(self, text: str) -> tuple[TablePager, bool]:
        """The rows matching ``column op value`` (see :func:`parse_filter`), streamed; the
        first :data:`RESULT_ROWS` of them, and whether there were more."""
        col, op, value = parse_filter(text, self._schema)
        kept: list[pa.RecordBatch] = []
        n = 0
        for batch in self._batches():
            part = batch.filter(_mask(batch, col, op, value))
            if part.num_rows:
                kept.append(part)
                n += part.num_rows
            if n >= RESULT_ROWS:
                break
        arrow = pa.Table.from_batches(kept, schema=self._schema).slice(0, RESULT_ROWS)
        return TablePager.of_arrow(arrow), n >= RESULT_ROWS

    def sorted(self, column: str, descending: bool) -> tuple[TablePager, bool]:
        """The first :data:`RESULT_ROWS` rows in the order of ``column``, and whether the table
        had more. Only the best rows are kept while streaming: bounded memory for any length."""
        if column not in self._schema.names:
            raise ValueError(f"no column {column!r}")
        order = "descending" if descending else "ascending"
        best: pa.Table | None = None
        for batch in self._batches():
            t = pa.Table.from_batches([batch])
            best = t if best is None else pa.concat_tables([best, t])
            best = best.sort_by([(column, order)]).slice(0, RESULT_ROWS)
        assert best is not None
        return TablePager.of_arrow(best), self.num_rows > RESULT_ROWS


def parse_filter(text: str, schema: pa.Schema) -> tuple[str, str, Value]:
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


def _mask(batch: pa.RecordBatch, col: str, op: str, value: Value) -> pa.Array:
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
