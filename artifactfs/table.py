"""Tables: pandas DataFrames stored as Parquet, read lazily by row group.

:class:`Table` is one Parquet blob; :class:`PartitionedTable` is one table of many parts
(written by a Dask cluster, or from Parquet files already written). A stored table reads its
bytes through an :class:`~artifactfs.blobs.EntrySource`, so every byte is verified before
pyarrow sees it. Writing Parquet is :mod:`artifactfs.parquet`, writing parts
:mod:`artifactfs.parts`, and reading in place by engines :mod:`artifactfs.engines`.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from . import engines
from .blobs import EntrySource
from .errors import FormatError, InvalidInputError
from .manifest import Entry, stat_kind
from .parquet import (
    ROW_GROUP_SIZE,
    arrow_of,
    footer_max_lengths,
    footer_stats,
    load_pyarrow,
    read_rows,
    write_arrow,
)
from .parts import Builder, dask_builder, parquet_builder

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

__all__ = ["ROW_GROUP_SIZE", "PartitionedTable", "Table", "write_arrow"]


class Table:
    """A tabular entry of an artifact.

    Create one from a DataFrame to add it to an artifact (``art.add(Table(dataframe=df), name)``);
    a table read back from a logged artifact (``art.get_table(name)``) reads only what is asked:
    ``num_rows`` and ``schema`` come from the Parquet footer, ``slice`` and ``iter_batches`` read
    the row groups they need, ``dataframe()`` reads everything.
    """

    def __init__(
        self,
        dataframe: pd.DataFrame | None = None,
        *,
        columns: list[str] | None = None,
        data: Any = None,
        _source: EntrySource | None = None,
    ) -> None:
        # Table(columns=[...], data=[[...], ...]) as in W&B, or Table(dataframe=df).
        self._arrow: pa.Table | None = arrow_of(dataframe, columns, data) if _source is None else None
        self._source = _source
        self._file: pq.ParquetFile | None = None
        self._handle: IO[bytes] | None = None
        # pyarrow's reader and the handle under it are not safe in two threads at once.
        self._lock = threading.RLock()

    @classmethod
    def stored(cls, source: EntrySource) -> Table:
        """The table whose bytes ``source`` gives (what ``art.get_table`` returns)."""
        return cls(_source=source)

    # ------------------------------------------------------------------ writing
    def write_parquet(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Write this (draft) table as Parquet; return the manifest fields describing it."""
        if self._arrow is None:
            raise InvalidInputError("only a table made from a DataFrame can be written")
        pa_ = load_pyarrow()[0]
        try:
            return write_arrow(self._arrow, path)
        except (pa_.ArrowNotImplementedError, pa_.ArrowTypeError, pa_.ArrowInvalid) as e:
            column = next((f.name for f in self._arrow.schema if str(f.type) in str(e)), None)
            named = f"column {column!r} ({self._arrow.schema.field(column).type}): " if column else ""
            raise InvalidInputError(f"this table cannot be written as Parquet: {named}{e}") from e

    @classmethod
    def from_dask(cls, ddf: dd.DataFrame, *, index: bool = False) -> PartitionedTable:
        """A partitioned table written by the Dask cluster in use, one part per partition.

        Each worker writes its partitions straight to the store when the artifact is logged;
        none passes through this process. ``index=True`` keeps the index as columns.
        """
        if not (hasattr(ddf, "to_delayed") and hasattr(ddf, "_meta_nonempty")):
            raise InvalidInputError(f"Table.from_dask takes a dask DataFrame, got {type(ddf).__name__}")
        return PartitionedTable(_build=dask_builder(ddf, index))

    @classmethod
    def from_parquet(cls, path_or_url: str | os.PathLike[str], **storage_options: Any) -> PartitionedTable:
        """A partitioned table of Parquet files already written: a folder, a glob or one file,
        local or at any fsspec URL (``storage_options`` go to its filesystem). Each file is a part;
        all must share one schema."""
        return PartitionedTable(_build=parquet_builder(os.fspath(path_or_url), storage_options))

    # ------------------------------------------------------------------ reading
    def _parquet(self) -> pq.ParquetFile:
        """The open reader (the footer is read once); use it under ``self._lock``."""
        if self._file is None:
            assert self._source is not None
            handle = self._source.open()
            # Close the handle when the table is dropped, without waiting for the file object's
            # own finaliser (which would warn about an unclosed file).
            weakref.finalize(self, handle.close)
            self._handle = handle
            self._file = load_pyarrow()[1].ParquetFile(handle)
        return self._file

    def close(self) -> None:
        """Release the file handle of a table read from a store (reopened on next use)."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
            self._handle = self._file = None

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def num_rows(self) -> int:
        if self._arrow is not None:
            return int(self._arrow.num_rows)
        with self._lock:
            return int(self._parquet().metadata.num_rows)

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema (column names and types)."""
        if self._arrow is not None:
            return self._arrow.schema
        with self._lock:
            return self._parquet().schema_arrow

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    @property
    def row_groups(self) -> list[tuple[int, int]]:
        """``(first row, row count)`` of each Parquet row group, from the footer alone."""
        if self._arrow is not None:
            return [(0, int(self._arrow.num_rows))]
        with self._lock:
            md = self._parquet().metadata
        out, start = [], 0
        for i in range(md.num_row_groups):
            n = int(md.row_group(i).num_rows)
            out.append((start, n))
            start += n
        return out

    def read_row_group(self, index: int, columns: list[str] | None = None) -> pa.Table:
        """One row group (reads only its bytes)."""
        if self._arrow is not None:
            return self._arrow.select(columns) if columns else self._arrow
        with self._lock:
            return self._parquet().read_row_group(index, columns=columns)

    def column_stats(self) -> dict[str, tuple[Any, Any]]:
        """``column -> (min, max)`` over the whole table, from the Parquet statistics.

        Columns without statistics are left out. Reads the footer only.
        """
        if self._arrow is not None:
            return {}
        with self._lock:
            return footer_stats(self._parquet().metadata)

    def max_lengths(self) -> dict[str, int]:
        """Longest value (in characters) of each text column, from the footer (if recorded)."""
        if self._arrow is not None:
            return {}
        with self._lock:
            return footer_max_lengths(self._parquet().schema_arrow)

    def to_arrow(self) -> pa.Table:
        """The whole table as a ``pyarrow.Table``."""
        if self._arrow is not None:
            return self._arrow
        if self._source is not None:
            # A local file of the whole table, verified just now: read by pyarrow's own
            # multi-threaded reader instead of block by block.
            return load_pyarrow()[1].read_table(self._source.local_file())
        with self._lock:
            return self._parquet().read()

    def dataframe(self) -> pd.DataFrame:
        """The whole table as a pandas DataFrame, with the dtypes it was logged with."""
        df: pd.DataFrame = self.to_arrow().to_pandas()
        return df

    get_dataframe = dataframe  # W&B's name

    def iter_batches(self, batch_size: int = 65_536, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Record batches in order, reading one row group at a time."""
        if self._arrow is not None:
            yield from self._arrow.select(columns or self._arrow.column_names).to_batches(batch_size)
            return
        # Group by group under the lock: a long stream and other threads' reads take turns.
        for index in range(len(self.row_groups)):
            yield from self.read_row_group(index, columns=columns).to_batches(batch_size)

    def slice(self, offset: int, length: int, columns: list[str] | None = None) -> pa.Table:
        """Rows ``offset`` to ``offset + length`` as a ``pyarrow.Table``, reading only their row groups."""
        if offset < 0 or length < 0:
            raise InvalidInputError(f"slice offset and length must be >= 0, got {offset}, {length}")
        if self._arrow is not None:
            t = self._arrow.slice(offset, length)
            return t.select(columns) if columns else t
        with self._lock:
            return read_rows(self._parquet(), offset, length, columns)

    def to_dataset(self) -> pads.Dataset:
        """A ``pyarrow.dataset.Dataset`` over this table, read (and verified) in place.

        DuckDB (``duckdb.sql("select ... from ds")``), Polars (``pl.scan_pyarrow_dataset``) and
        pyarrow scan it with projection and predicate pushdown, reading only what they need.
        """
        if self._arrow is not None:
            import pyarrow.dataset as pads

            return pads.dataset(self._arrow)  # a draft made from a DataFrame
        return engines.dataset_of(self.schema, self._pieces())

    def to_dask(self, columns: list[str] | None = None, filter: Any = None) -> dd.DataFrame:
        """A dask DataFrame reading the table in place, one partition per part.

        ``filter`` (a ``pyarrow.dataset`` expression, e.g. ``pc.field("x") > 3``) skips the
        parts whose statistics rule it out and drops non-matching rows as parts are read.
        """
        if self._arrow is not None:
            raise InvalidInputError("to_dask reads tables of logged artifacts (art.get_table(name))")
        return engines.to_dask(self.schema, self._pieces(), columns, filter)

    def _pieces(self) -> list[tuple[Entry, EntrySource]]:
        assert self._source is not None
        return [(self._source.entry, self._source)]

    def __repr__(self) -> str:
        try:
            return f"<Table {self.num_rows} rows x {len(self.schema)} columns>"
        except Exception:
            return "<Table>"


class PartitionedTable(Table):
    """A table made of Parquet parts: written by a Dask cluster, read in place by query engines.

    Draft: ``Table.from_dask(ddf)`` or ``Table.from_parquet(path)``, then ``art.add(t, name)``.
    Logged (``art.get_table(name)``): everything a :class:`Table` offers, across parts, plus
    :meth:`to_dataset` and :meth:`to_dask`.
    """

    def __init__(self, *, _build: Builder | None = None, _parts: list[tuple[Entry, Table]] | None = None) -> None:
        self._arrow = None
        self._source = None
        self._file = None
        self._handle = None
        self._build = _build
        self._parts = _parts or []

    @classmethod
    def stored_parts(cls, parts: list[tuple[Entry, EntrySource]]) -> PartitionedTable:
        """The table whose parts' bytes ``parts`` give (what ``art.get_table`` returns)."""
        return cls(_parts=[(e, Table.stored(s)) for e, s in parts])

    @property
    def builder(self) -> Builder | None:
        """What writes a draft's parts when it is logged (None once logged)."""
        return self._build

    @property
    def is_draft(self) -> bool:
        return self._build is not None

    def _require_logged(self) -> None:
        if self._build is not None:
            raise InvalidInputError("this partitioned table is a draft: add it to an artifact and log it first")

    # --------------------------------------------------------------- reading
    @property
    def num_parts(self) -> int:
        self._require_logged()
        return len(self._parts)

    def _rows(self) -> list[int]:
        rows = []
        for entry, _ in self._parts:
            n = entry.extra.get("num_rows")
            if not isinstance(n, int) or n < 0:
                raise FormatError(f"table part {entry.path!r} has no row count")
            rows.append(n)
        return rows

    @property
    def num_rows(self) -> int:
        self._require_logged()
        return sum(self._rows())

    @property
    def schema(self) -> pa.Schema:
        self._require_logged()
        if not self._parts:
            return load_pyarrow()[0].schema([])
        return self._parts[0][1].schema

    @property
    def row_groups(self) -> list[tuple[int, int]]:
        """``(first row, row count)`` of every row group of every part, in order."""
        out: list[tuple[int, int]] = []
        start = 0
        for _, part in self._parts:
            for _, n in part.row_groups:
                out.append((start, n))
                start += n
        return out

    def _locate_group(self, index: int) -> tuple[Table, int]:
        for entry, part in self._parts:
            n = entry.extra.get("num_row_groups")
            if not isinstance(n, int):
                n = len(part.row_groups)
            if index < n:
                return part, index
            index -= n
        raise InvalidInputError(f"row group {index} is out of range")

    def read_row_group(self, index: int, columns: list[str] | None = None) -> pa.Table:
        part, local = self._locate_group(index)
        return part.read_row_group(local, columns=columns)

    def column_stats(self) -> dict[str, tuple[Any, Any]]:
        """``column -> (min, max)`` over all parts, from the manifest (no part is read)."""
        out: dict[str, tuple[Any, Any]] = {}
        missing: set[str] = set()
        for entry, _ in self._parts:
            stats = entry.extra.get("stats") or {}
            for name in self.schema.names:
                triple = stats.get(name)
                if name in missing or not isinstance(triple, list) or len(triple) != 3:
                    missing.add(name)
                    out.pop(name, None)
                    continue
                lo, hi = out.get(name, (triple[0], triple[1]))
                if stat_kind(lo) != stat_kind(triple[0]):
                    raise FormatError(f"table part {entry.path!r}: statistics of column {name!r} disagree in type")
                out[name] = (min(lo, triple[0]), max(hi, triple[1]))
        return out

    def max_lengths(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, part in self._parts:
            for k, v in part.max_lengths().items():
                out[k] = max(out.get(k, 0), v)
        return out

    def to_arrow(self) -> pa.Table:
        self._require_logged()
        if not self._parts:
            return self.schema.empty_table()
        return load_pyarrow()[0].concat_tables([part.to_arrow() for _, part in self._parts])

    def iter_batches(self, batch_size: int = 65_536, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        for _, part in self._parts:
            yield from part.iter_batches(batch_size=batch_size, columns=columns)

    def slice(self, offset: int, length: int, columns: list[str] | None = None) -> pa.Table:
        if offset < 0 or length < 0:
            raise InvalidInputError(f"slice offset and length must be >= 0, got {offset}, {length}")
        pa_ = load_pyarrow()[0]
        pieces, start = [], 0
        for (_, part), n in zip(self._parts, self._rows(), strict=True):
            lo, hi = max(offset, start), min(offset + length, start + n)
            if lo < hi:
                pieces.append(part.slice(lo - start, hi - lo, columns=columns))
            start += n
        if not pieces:
            empty = self.schema.empty_table()
            return empty.select(columns) if columns else empty
        return pa_.concat_tables(pieces)

    def close(self) -> None:
        for _, part in self._parts:
            part.close()

    def to_dataset(self) -> pads.Dataset:
        """A ``pyarrow.dataset.Dataset`` over the parts, read (and verified) in place.

        Each part carries its statistics as its partition expression, so a filter skips the
        parts that cannot match without opening them; projection reads only the columns asked.
        """
        return engines.dataset_of(self.schema, self._pieces())

    def to_dask(self, columns: list[str] | None = None, filter: Any = None) -> dd.DataFrame:
        self._require_logged()
        return engines.to_dask(self.schema, self._pieces(), columns, filter)

    def _pieces(self) -> list[tuple[Entry, EntrySource]]:
        self._require_logged()
        out = []
        for entry, part in self._parts:
            assert part._source is not None
            out.append((entry, part._source))
        return out

    def __repr__(self) -> str:
        if self._build is not None:
            return "<PartitionedTable (draft)>"
        return f"<PartitionedTable {self.num_rows} rows x {len(self.schema)} columns in {len(self._parts)} parts>"
