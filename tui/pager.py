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
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from .views import Column


class RowFilter(Protocol):
    """A parsed filter (``tui.data.parse_filter``): which rows of a batch it keeps."""

    def mask(self, batch: pa.RecordBatch | pa.Table) -> pa.Array: ...


__all__ = ["KEEP_GROUPS", "RESULT_ROWS", "Progress", "RowFilter", "Sort", "TablePager", "columns_of", "type_text"]

KEEP_GROUPS = 6  # row groups kept in memory
RESULT_ROWS = 10_000  # rows kept by a sort or filter of a large table
SAMPLE_ROWS = 200


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
        columns, self.order = columns_of(schema)
        self.columns = tuple(columns)
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
        return [page.column(i)[offset].as_py() for i in self.order]

    def sample(self, column: str) -> list[object]:
        """The first values of ``column`` of rows in memory (none for a table read by groups)."""
        if self._arrow is None or not self.num_rows:
            return []
        return list(self._arrow.column(column).slice(0, min(SAMPLE_ROWS, self.num_rows)).to_pylist())

    # ---------------------------------------------------------------- sort and filter
    def aliases(self) -> dict[str, str]:
        """The names columns are shown by, where they differ from their names in the file."""
        return {c.label: c.name for c in self.columns if c.label and c.label != c.name}

    @property
    def filter_schema(self) -> pa.Schema:
        """The columns a filter names (with :meth:`aliases`: see ``tui.data.parse_filter``)."""
        return self._schema

    def derive(self, where: RowFilter | None, sort: Sort | None) -> Iterator[Progress]:
        """The rows ``where`` keeps, in the order of ``sort``, streamed once through the table.

        Yields a :class:`Progress` after each batch: how many rows were read and matched so
        far, and ``result`` once known: at once when :data:`RESULT_ROWS` matches are found and
        there is no sort (the count goes on), only at the end with a sort, which keeps the
        best rows while streaming, so memory stays bounded for any length.
        """
        keep = RESULT_ROWS
        if sort is not None and sort[0] not in self._schema.names:
            raise ValueError(f"no column {sort[0]!r}")
        kept: list[pa.Table] = []
        best: pa.Table | None = None
        result: TablePager | None = None
        scanned = matched = 0
        for batch in self._batches():
            part = pa.Table.from_batches([batch])
            scanned += part.num_rows
            if where is not None:
                part = part.filter(where.mask(part))
            matched += part.num_rows
            if sort is not None:
                best = _top(part if best is None else pa.concat_tables([best, part]), sort, keep)
            elif result is None and part.num_rows:
                kept.append(part.slice(0, keep - sum(t.num_rows for t in kept)))
                if sum(t.num_rows for t in kept) >= keep:
                    result = self._derived(pa.concat_tables(kept))
                    kept = []
            yield Progress(result, scanned, matched, False)
        if result is None:
            found = best if sort is not None else (pa.concat_tables(kept) if kept else None)
            result = self._derived(found if found is not None else self._schema.empty_table())
        yield Progress(result, scanned, matched, True)

    def _derived(self, arrow: pa.Table) -> TablePager:
        out = TablePager.of_arrow(arrow.cast(self._schema))
        out.columns, out.order = self.columns, self.order
        return out


Sort = tuple[str, bool]  # a column's name in the file, and whether descending
_KEY = "\x00sort key"


def _top(rows: pa.Table, sort: Sort, keep: int) -> pa.Table:
    """The first ``keep`` of ``rows`` in the order of ``sort`` (a categorical column in the
    order of its values: Arrow sorts no dictionary column)."""
    column, descending = sort
    order = "descending" if descending else "ascending"
    values = rows.column(column)
    if not pa.types.is_dictionary(values.type):
        return rows.sort_by([(column, order)]).slice(0, keep)
    keyed = rows.append_column(_KEY, pc.cast(values, values.type.value_type))
    return keyed.sort_by([(_KEY, order)]).slice(0, keep).drop_columns([_KEY])


@dataclass(frozen=True)
class Progress:
    """How far :meth:`TablePager.derive` has come."""

    result: TablePager | None  # the rows kept, once known
    scanned: int  # rows read so far
    matched: int  # of them, rows the filter kept
    done: bool


def type_text(typ: pa.DataType) -> str:
    """A column's type as people read it: a dictionary (a pandas categorical) is ``category``."""
    if pa.types.is_dictionary(typ):
        return "category"
    if pa.types.is_large_string(typ):
        return "string"
    return str(typ)


def columns_of(schema: pa.Schema) -> tuple[list[Column], list[int]]:
    """The columns as shown, a pandas index first under its own name, and where each is in the
    schema."""
    meta = schema.pandas_metadata or {}
    index_fields = [i for i in meta.get("index_columns", []) if isinstance(i, str)]
    labels = {c.get("field_name"): c.get("name") for c in meta.get("columns", []) if isinstance(c, dict)}
    order = [schema.get_field_index(n) for n in index_fields if n in schema.names]
    order += [i for i in range(len(schema)) if i not in order]
    cols = []
    for i in order:
        f = schema.field(i)
        if f.name in index_fields:
            label = labels.get(f.name)
            shown = str(label) if isinstance(label, str) and label not in schema.names else "index"
            cols.append(Column(f.name, type_text(f.type), shown, index=True))
        else:
            cols.append(Column(f.name, type_text(f.type)))
    return cols, order
