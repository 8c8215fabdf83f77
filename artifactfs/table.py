"""Tables: pandas DataFrames stored as one Parquet blob, read lazily by row group."""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import InvalidInputError

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    from .manifest import Entry
    from .partitioned import PartitionedTable
    from .store import Store

__all__ = ["ROW_GROUP_SIZE", "Table", "write_arrow"]

# Small enough that a page of a huge table costs one modest range read, large enough that
# Parquet's per-group overhead stays negligible.
ROW_GROUP_SIZE = 131_072
COMPRESSION = "zstd"

Opener = Callable[[], IO[bytes]]


# pandas and pyarrow take ~0.4 s to import; load them only when a table is used, so that
# logging files (and the CLI) start fast.
def _pandas() -> Any:
    import pandas

    return pandas


def _pyarrow() -> tuple[Any, Any]:
    import pyarrow
    import pyarrow.parquet

    return pyarrow, pyarrow.parquet


def write_arrow(table: pa.Table, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Write an Arrow table as artifactfs writes every table; return the manifest fields.

    zstd, row groups of :data:`ROW_GROUP_SIZE` rows, and the longest value of each text column
    in the footer (viewers size columns from it: min/max statistics order text, they do not
    measure it).
    """
    pa_, pq = _pyarrow()
    import pyarrow.compute as pc

    lengths = {}
    for f in table.schema:
        if pa_.types.is_string(f.type) or pa_.types.is_large_string(f.type):
            longest = pc.max(pc.utf8_length(table.column(f.name))).as_py()
            lengths[f.name] = int(longest or 0)
    meta = dict(table.schema.metadata or {})
    meta[b"artifactfs.max_lengths"] = json.dumps(lengths).encode()
    pq.write_table(
        table.replace_schema_metadata(meta),
        path,
        compression=COMPRESSION,
        row_group_size=ROW_GROUP_SIZE,
        use_dictionary=_dictionary_columns(table),
    )
    written = pq.read_metadata(path)
    return {
        "num_rows": written.num_rows,
        "num_row_groups": written.num_row_groups,
        "columns": [[f.name, str(f.type)] for f in table.schema],
    }


DICTIONARY_SAMPLE = 65_536
DICTIONARY_MAX_DISTINCT = 0.1


def _dictionary_columns(table: pa.Table) -> list[str] | bool:
    """The columns worth dictionary encoding: few distinct values in a sample of their rows.

    With row groups of :data:`ROW_GROUP_SIZE` rows, every group carries its own dictionary; for
    a column of many distinct values (ids, free text) that repeats most of the data, once per
    group. Measured on 1,000,000 rows x 10 columns: 47.0 MB with dictionaries everywhere,
    37.3 MB with dictionaries only where they pay (raw pyarrow, one row group: 37.7 MB).
    """
    pa_, _ = _pyarrow()
    import pyarrow.compute as pc

    chosen = []
    for f in table.schema:
        if pa_.types.is_nested(f.type):
            return True  # column paths of nested types: leave pyarrow's default
        if pa_.types.is_dictionary(f.type):
            chosen.append(f.name)
            continue
        if pa_.types.is_null(f.type) or isinstance(f.type, pa_.ExtensionType):
            continue  # all-null columns, pandas periods and intervals: nothing to count, pyarrow's default
        sample = table.column(f.name).slice(0, DICTIONARY_SAMPLE)
        try:
            distinct = pc.count_distinct(sample).as_py()
        except (pa_.ArrowNotImplementedError, pa_.ArrowTypeError):
            continue  # a type the kernel does not count: leave it plain
        if len(sample) and distinct <= DICTIONARY_MAX_DISTINCT * len(sample):
            chosen.append(f.name)
    return chosen


def _culprit(frame: pd.DataFrame, error: Exception) -> str:
    """Why ``frame`` cannot be converted, naming the first column that cannot be on its own."""
    pa_ = _pyarrow()[0]
    for name in frame.columns:
        try:
            pa_.Table.from_pandas(frame[[name]], preserve_index=False)
        except (pa_.ArrowException, TypeError, ValueError) as e:
            return f"column {name!r} (dtype {frame[name].dtype}) cannot be converted: {e}"
    return str(error)


class Table:
    """A tabular entry of an artifact.

    Create one from a DataFrame to add it to an artifact (``art.add(Table(dataframe=df), name)``);
    a table read back from a logged artifact (``art.get_table(name)``) reads only what is asked:
    ``num_rows`` and ``schema`` come from the Parquet footer, ``slice`` and ``iter_batches`` read
    the row groups they need, ``dataframe()`` reads everything.
    """

    def __init__(self, dataframe: pd.DataFrame | None = None, *, _opener: Opener | None = None) -> None:
        self._arrow: pa.Table | None = None
        if _opener is None:
            pa_ = _pyarrow()[0]
            if not isinstance(dataframe, _pandas().DataFrame):
                raise InvalidInputError(
                    f"Table(dataframe=...) needs a pandas DataFrame, got {type(dataframe).__name__}"
                )
            try:
                self._arrow = pa_.Table.from_pandas(dataframe)
            except (pa_.ArrowException, TypeError, ValueError) as e:
                raise InvalidInputError(f"this DataFrame cannot be stored as a table: {_culprit(dataframe, e)}") from e
        self._opener = _opener
        self._file: pq.ParquetFile | None = None
        self._handle: IO[bytes] | None = None
        # Where a logged table lives (set by the store): lets workers of a cluster reopen it.
        self._entry: Entry | None = None
        self._origin: tuple[Store, str] | None = None
        # A local file of the whole table, verified just now (set by the store): whole reads
        # then go through pyarrow's own multi-threaded reader instead of block by block.
        self._whole: Callable[[], str] | None = None

    # ------------------------------------------------------------------ writing
    def write_parquet(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Write this (draft) table as Parquet; return the manifest fields describing it."""
        if self._arrow is None:
            raise InvalidInputError("only a table made from a DataFrame can be written")
        pa_ = _pyarrow()[0]
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
        from .partitioned import PartitionedTable, dask_builder

        if not (hasattr(ddf, "to_delayed") and hasattr(ddf, "_meta_nonempty")):
            raise InvalidInputError(f"Table.from_dask takes a dask DataFrame, got {type(ddf).__name__}")
        return PartitionedTable(_build=dask_builder(ddf, index))

    @classmethod
    def from_parquet(cls, path_or_url: str | os.PathLike[str], **storage_options: Any) -> PartitionedTable:
        """A partitioned table of Parquet files already written: a folder, a glob or one file,
        local or at any fsspec URL (``storage_options`` go to its filesystem). Each file is a part;
        all must share one schema."""
        from .partitioned import PartitionedTable, parquet_builder

        return PartitionedTable(_build=parquet_builder(os.fspath(path_or_url), storage_options))

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Table:
        """A read-only table over a local Parquet file."""
        p = Path(path)
        return cls(_opener=lambda: open(p, "rb"))

    # ------------------------------------------------------------------ reading
    def _parquet(self) -> pq.ParquetFile:
        if self._file is None:
            assert self._opener is not None
            handle = self._opener()
            # Close the handle when the table is dropped, without waiting for the file object's
            # own finaliser (which would warn about an unclosed file).
            weakref.finalize(self, handle.close)
            self._handle = handle
            self._file = _pyarrow()[1].ParquetFile(handle)
        return self._file

    def close(self) -> None:
        """Release the file handle of a table read from a store (reopened on next use)."""
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
        return int(self._parquet().metadata.num_rows)

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema (column names and types)."""
        if self._arrow is not None:
            return self._arrow.schema
        return self._parquet().schema_arrow

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    @property
    def row_groups(self) -> list[tuple[int, int]]:
        """``(first row, row count)`` of each Parquet row group, from the footer alone."""
        if self._arrow is not None:
            return [(0, int(self._arrow.num_rows))]
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
        return self._parquet().read_row_group(index, columns=columns)

    def column_stats(self) -> dict[str, tuple[Any, Any]]:
        """``column -> (min, max)`` over the whole table, from the Parquet statistics.

        Columns without statistics are left out. Reads the footer only.
        """
        if self._arrow is not None:
            return {}
        md = self._parquet().metadata
        out: dict[str, tuple[Any, Any]] = {}
        for c in range(md.num_columns):
            name = md.schema.column(c).path
            lo = hi = None
            for g in range(md.num_row_groups):
                st = md.row_group(g).column(c).statistics
                if st is None or not st.has_min_max:
                    lo = hi = None
                    break
                lo = st.min if lo is None else min(lo, st.min)
                hi = st.max if hi is None else max(hi, st.max)
            if lo is not None:
                out[name] = (lo, hi)
        return out

    def max_lengths(self) -> dict[str, int]:
        """Longest value (in characters) of each text column, from the footer (if recorded)."""
        if self._arrow is not None:
            return {}
        raw = (self._parquet().schema_arrow.metadata or {}).get(b"artifactfs.max_lengths")
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return {str(k): int(v) for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else {}

    def to_arrow(self) -> pa.Table:
        """The whole table as a ``pyarrow.Table``."""
        if self._arrow is not None:
            return self._arrow
        if self._whole is not None:
            return _pyarrow()[1].read_table(self._whole())
        return self._parquet().read()

    def dataframe(self) -> pd.DataFrame:
        """The whole table as a pandas DataFrame, with the dtypes it was logged with."""
        df: pd.DataFrame = self.to_arrow().to_pandas()
        return df

    def iter_batches(self, batch_size: int = 65_536, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Record batches in order, reading one row group at a time."""
        if self._arrow is not None:
            yield from self._arrow.select(columns or self._arrow.column_names).to_batches(batch_size)
            return
        yield from self._parquet().iter_batches(batch_size=batch_size, columns=columns)

    def slice(self, offset: int, length: int, columns: list[str] | None = None) -> pa.Table:
        """Rows ``offset`` to ``offset + length`` as a ``pyarrow.Table``, reading only their row groups."""
        if offset < 0 or length < 0:
            raise InvalidInputError(f"slice offset and length must be >= 0, got {offset}, {length}")
        if self._arrow is not None:
            t = self._arrow.slice(offset, length)
            return t.select(columns) if columns else t
        pf = self._parquet()
        meta = pf.metadata
        groups, first, start = [], None, 0
        for i in range(meta.num_row_groups):
            n = meta.row_group(i).num_rows
            if start + n > offset and start < offset + length:
                groups.append(i)
                if first is None:
                    first = start
            start += n
        if not groups:
            return pf.schema_arrow.empty_table().select(columns) if columns else pf.schema_arrow.empty_table()
        t = pf.read_row_groups(groups, columns=columns)
        assert first is not None
        return t.slice(offset - first, length)

    def to_dataset(self) -> pads.Dataset:
        """A ``pyarrow.dataset.Dataset`` over this table, read (and verified) in place.

        DuckDB (``duckdb.sql("select ... from ds")``), Polars (``pl.scan_pyarrow_dataset``) and
        pyarrow scan it with projection and predicate pushdown, reading only what they need.
        """
        from .partitioned import dataset_of

        return dataset_of([(self._entry, self)])

    def to_dask(self, columns: list[str] | None = None, filter: Any = None) -> dd.DataFrame:
        """A dask DataFrame reading the table in place, one partition per part.

        ``filter`` (a ``pyarrow.dataset`` expression, e.g. ``pc.field("x") > 3``) skips the
        parts whose statistics rule it out and drops non-matching rows as parts are read.
        """
        from .partitioned import to_dask

        return to_dask(self, columns, filter)

    def _pieces(self) -> list[tuple[Entry | None, Table]]:
        return [(self._entry, self)]

    def __repr__(self) -> str:
        try:
            return f"<Table {self.num_rows} rows x {len(self.schema)} columns>"
        except Exception:
            return "<Table>"
