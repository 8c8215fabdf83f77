"""Partitioned tables: one table of many Parquet parts, written and read in parallel.

A partitioned table ``events`` is stored as ordinary table entries ``events/part-00000.parquet``,
``events/part-00001.parquet``, ... whose ``extra`` names the table (``dataset``), the part's
index and its row count and per-column statistics. Every part is a content-addressed blob like
any other, so dedup, verification, gc, copies between stores and downloads need nothing new,
and a downloaded ``events/`` folder is itself a Parquet dataset any engine reads.

Writing: :meth:`PartitionedTable.from_dask` runs one task per partition on the Dask cluster in
use; each worker writes its part straight to the store and returns only the part's
description. The commit is the usual one (blobs, then one manifest, then one version record),
so a job that fails leaves no version, only unreferenced blobs for gc.

Reading: :meth:`PartitionedTable.to_dataset` is a ``pyarrow.dataset`` over the parts whose
bytes are verified as they are read, with each part's statistics attached as its partition
expression, so a filter skips the parts that cannot match without opening them. DuckDB,
Polars and pyarrow scan it with projection and predicate pushdown.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

from .errors import FormatError, InvalidInputError, JobError
from .hashing import BLOCK_SIZE, Digest, hash_file_blocks
from .manifest import Entry, stat_kind
from .table import Table, _pyarrow, write_arrow

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as pads

    from .storage import Backend
    from .store import Store

__all__ = ["PartitionedTable", "part_path"]

Builder = Callable[["Store", str], list[Entry]]
_PLAIN = (bool, int, float, str)


def part_path(name: str, index: int) -> str:
    return f"{name}/part-{index:05d}.parquet"


# ---------------------------------------------------------------------------------- writing
def _describe(md: Any, extra: dict[str, Any] | None) -> dict[str, Any]:
    """``extra`` (row counts and columns, from the footer ``md`` when not given) with per-column
    ``[min, max, null count]`` of a written part, for pruning without opening it."""
    if extra is None:
        extra = {
            "num_rows": md.num_rows,
            "num_row_groups": md.num_row_groups,
            "columns": [[f.name, str(f.type)] for f in md.schema.to_arrow_schema()],
        }
    stats: dict[str, list[Any]] = {}
    for c in range(md.num_columns):
        name = md.schema.column(c).path
        lo = hi = None
        nulls = 0
        for g in range(md.num_row_groups):
            st = md.row_group(g).column(c).statistics
            if st is None or not st.has_min_max or not st.has_null_count:
                lo = hi = None
                break
            if not isinstance(st.min, _PLAIN) or not isinstance(st.max, _PLAIN):
                lo = hi = None  # dates, decimals, bytes: not kept (msgpack-plain values only)
                break
            lo = st.min if lo is None else min(lo, st.min)
            hi = st.max if hi is None else max(hi, st.max)
            nulls += st.null_count
        if lo is not None and "." not in name:
            stats[name] = [lo, hi, nulls]
    return {**extra, "stats": stats}


def store_part(
    path: str,
    backend: Backend,
    algorithm: str,
    extra: dict[str, Any] | None = None,
    *,
    adopt: bool = False,
    metadata: Any = None,
) -> dict[str, Any]:
    """Put one written Parquet part in the store (if its blob is absent); return its description.

    ``adopt``: ``path`` is a temp file of this (local) store, moved into place, not copied.
    ``metadata``: its Parquet footer, if already read.
    """
    from . import layout

    described = _describe(metadata if metadata is not None else _pyarrow()[1].read_metadata(path), extra)
    digest, size, blocks = hash_file_blocks(path, algorithm)
    key = layout.blob(digest)
    if adopt:
        backend.adopt(path, key)
    elif backend.sizes([key]).get(key) != size:  # absent, or damaged: never re-used
        backend.put_file(path, key)
    return {
        "digest": str(digest),
        "size": size,
        "extra": {**described, "blocks": {"size": BLOCK_SIZE, "digests": blocks}},
    }


def _write_dask_partition(
    pdf: pd.DataFrame, target: tuple[str, dict[str, Any]], schema: pa.Schema, algorithm: str
) -> dict[str, Any]:
    """Run on a Dask worker: one partition to one part in the store; only its description returns."""
    from .storage import Backend

    pa_ = _pyarrow()[0]
    url, options = target
    backend = Backend.from_url(url, **options)
    arrow = pa_.Table.from_pandas(pdf, schema=schema, preserve_index=False)
    if backend.is_local:  # written inside the store, then renamed into place: no copy
        path = backend.temp_path()
        try:
            return store_part(path, backend, algorithm, write_arrow(arrow, path), adopt=True)
        finally:
            backend.discard(path)
    with tempfile.TemporaryDirectory(prefix="artifactfs-part-") as tmp:
        path = os.path.join(tmp, "part.parquet")
        return store_part(path, backend, algorithm, write_arrow(arrow, path))


def _entries(name: str, described: Iterable[dict[str, Any]]) -> list[Entry]:
    return [
        Entry(
            part_path(name, i),
            Digest.parse(d["digest"]),
            d["size"],
            "table",
            {**d["extra"], "dataset": name, "part": i},
        )
        for i, d in enumerate(described)
    ]


# ---------------------------------------------------------------------------------- reading
class _PartsHandler:
    """A read-only pyarrow filesystem over part blobs, each opened through a verifying reader."""

    def __init__(self, openers: dict[str, Callable[[], IO[bytes]]], sizes: dict[str, int]) -> None:
        self.openers, self.sizes = openers, sizes
        self.opened: list[str] = []  # for tests and curious users: which parts were read

    # pyarrow.fs.FileSystemHandler protocol (only what reading needs)
    def get_type_name(self) -> str:
        return "artifactfs"

    def normalize_path(self, path: str) -> str:
        return path

    def get_file_info(self, paths: list[str]) -> list[Any]:
        import pyarrow.fs as pafs

        return [
            pafs.FileInfo(p, pafs.FileType.File, size=self.sizes[p])
            if p in self.sizes
            else pafs.FileInfo(p, pafs.FileType.NotFound)
            for p in paths
        ]

    def get_file_info_selector(self, selector: Any) -> list[Any]:
        return self.get_file_info(sorted(self.sizes))

    def open_input_file(self, path: str) -> Any:
        import pyarrow as pa_

        if path not in self.openers:
            raise FileNotFoundError(path)
        self.opened.append(path)
        return pa_.PythonFile(self.openers[path](), mode="r")

    def open_input_stream(self, path: str) -> Any:
        return self.open_input_file(path)

    def _read_only(self, *args: Any, **kw: Any) -> Any:
        raise OSError("artifact tables are read-only")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = delete_file = _read_only
    move = copy_file = open_output_stream = open_append_stream = _read_only

    def equals(self, other: Any) -> bool:
        return other is self


def _partition_expression(schema: pa.Schema, stats: dict[str, Any]) -> Any:
    """What every row of a part satisfies, from its statistics (True when nothing is known)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    pa_ = _pyarrow()[0]
    expr = pads.scalar(True)
    for name, triple in stats.items():
        if name not in schema.names or not isinstance(triple, list) or len(triple) != 3:
            continue
        field_type = schema.field(name).type
        lo, hi, nulls = triple
        try:
            f = pads.field(name)
            cond = (f >= pa_.scalar(lo, type=field_type)) & (f <= pa_.scalar(hi, type=field_type))
        except (pa_.ArrowInvalid, pa_.ArrowTypeError, TypeError, ValueError, OverflowError):
            continue
        if pa_.types.is_floating(field_type):
            cond = cond | pc.is_nan(f)  # min/max statistics leave NaN out
        if nulls:
            cond = cond | f.is_null()
        expr = expr & cond
    return expr


def dataset_of(pieces: Sequence[tuple[Entry | None, Table]]) -> pads.Dataset:
    """A pyarrow dataset over tables read from a store (a partitioned table's parts, or one table)."""
    import pyarrow.dataset as pads
    import pyarrow.fs as pafs

    if len(pieces) == 1 and pieces[0][1]._arrow is not None:
        return pads.dataset(pieces[0][1]._arrow)  # a draft made from a DataFrame
    openers, sizes, paths, partitions = {}, {}, [], []
    schema = pieces[0][1].schema if pieces else _pyarrow()[0].schema([])
    for i, (entry, table) in enumerate(pieces):
        path = entry.path if entry is not None else f"table-{i}.parquet"
        if table._opener is None:
            raise InvalidInputError("this table has no stored bytes to scan")
        openers[path] = table._opener
        sizes[path] = entry.size if entry is not None else _size_of(table._opener)
        paths.append(path)
        partitions.append(_partition_expression(schema, (entry.extra.get("stats") or {}) if entry else {}))
    handler = _handler_class()(openers, sizes)
    dataset = pads.FileSystemDataset.from_paths(
        paths,
        schema=schema,
        format=pads.ParquetFileFormat(),
        filesystem=pafs.PyFileSystem(handler),
        partitions=partitions,
    )
    return dataset


@functools.cache
def _handler_class() -> type[_PartsHandler]:
    """:class:`_PartsHandler` as a real ``pyarrow.fs.FileSystemHandler`` (pyarrow loads on first use)."""
    import pyarrow.fs as pafs

    return type("PartsHandler", (_PartsHandler, pafs.FileSystemHandler), {})


def opened_parts(dataset: pads.Dataset) -> list[str]:
    """The parts a dataset made by :func:`dataset_of` has opened so far (for tests and the curious)."""
    handler = getattr(getattr(dataset, "filesystem", None), "handler", None)
    return list(handler.opened) if isinstance(handler, _PartsHandler) else []


def _size_of(opener: Callable[[], IO[bytes]]) -> int:
    with opener() as f:
        return f.seek(0, os.SEEK_END)


def _read_piece(spec: tuple[str, dict[str, Any], str, dict[str, Any]], columns: list[str] | None, filter: Any) -> Any:
    """Run on a Dask worker: read one stored part (verified), with projection and filter."""
    from .storage import Backend
    from .store import Store

    _, pq = _pyarrow()
    url, options, qualified, entry_dict = spec
    store = Store(Backend.from_url(url, **options))
    table = store._table(qualified, Entry.from_dict(entry_dict))
    assert table._opener is not None
    with table._opener() as handle:
        return pq.read_table(handle, columns=columns, filters=filter).to_pandas()


def to_dask(table: Table, columns: list[str] | None, filter: Any) -> dd.DataFrame:
    """A dask DataFrame over a stored table, one partition per part that may match ``filter``."""
    import dask.dataframe as dd

    pieces = table._pieces()
    entries = [e for e, _ in pieces if e is not None]
    origin = pieces[0][1]._origin if pieces else None
    if origin is None or len(entries) != len(pieces):
        raise InvalidInputError("to_dask reads tables of logged artifacts (art.get_table(name))")
    store, qualified = origin
    if filter is not None:
        keep = {f.path for f in dataset_of(pieces).get_fragments(filter=filter)}
        entries = [e for e in entries if e.path in keep] or entries[:1]  # (dask needs one partition)
    url, options = store.backend.url, store.backend.storage_options
    specs = [(url, options, qualified, e.to_dict()) for e in entries]
    meta = table.schema.empty_table()
    meta = (meta.select(columns) if columns else meta).to_pandas()
    frame: dd.DataFrame = dd.from_map(  # type: ignore[no-untyped-call]
        _read_piece, specs, columns=columns, filter=filter, meta=meta, enforce_metadata=False
    )
    return frame


class PartitionedTable(Table):
    """A table made of Parquet parts: written by a Dask cluster, read in place by query engines.

    Draft: ``Table.from_dask(ddf)`` or ``Table.from_parquet(path)``, then ``art.add(t, name)``.
    Logged (``art.get_table(name)``): everything a :class:`Table` offers, across parts, plus
    :meth:`to_dataset` and :meth:`to_dask`.
    """

    def __init__(self, *, _build: Builder | None = None, _parts: list[tuple[Entry, Table]] | None = None) -> None:
        self._arrow = None
        self._opener = None
        self._file = None
        self._handle = None
        self._entry = None
        self._origin = None
        self._build = _build
        self._parts = _parts or []

    # --------------------------------------------------------------- drafts
    @classmethod
    def _draft(cls, build: Builder) -> PartitionedTable:
        return cls(_build=build)

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
            return _pyarrow()[0].schema([])
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
        return _pyarrow()[0].concat_tables([part.to_arrow() for _, part in self._parts])

    def iter_batches(self, batch_size: int = 65_536, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        for _, part in self._parts:
            yield from part.iter_batches(batch_size=batch_size, columns=columns)

    def slice(self, offset: int, length: int, columns: list[str] | None = None) -> pa.Table:
        if offset < 0 or length < 0:
            raise InvalidInputError(f"slice offset and length must be >= 0, got {offset}, {length}")
        pa_ = _pyarrow()[0]
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
        self._require_logged()
        return dataset_of(self._parts)

    def _pieces(self) -> list[tuple[Entry | None, Table]]:
        self._require_logged()
        return list(self._parts)

    def __repr__(self) -> str:
        if self._build is not None:
            return "<PartitionedTable (draft)>"
        return f"<PartitionedTable {self.num_rows} rows x {len(self.schema)} columns in {len(self._parts)} parts>"


# ---------------------------------------------------------------------------------- builders
def dask_builder(ddf: dd.DataFrame, index: bool) -> Builder:
    """Write each partition of ``ddf`` to the store on the worker that computes it."""

    def build(store: Store, name: str) -> list[Entry]:
        from dask.base import compute
        from dask.delayed import delayed

        pa_ = _pyarrow()[0]
        frame = ddf.reset_index() if index else ddf
        # The non-empty stand-in frame types text columns as text, where the empty one says null.
        schema = pa_.Schema.from_pandas(frame._meta_nonempty, preserve_index=False)
        target = (store.backend.url, store.backend.storage_options)
        tasks = [
            delayed(_write_dask_partition, pure=False)(part, target, schema, store.algorithm)
            for part in frame.to_delayed()
        ]
        try:
            described = compute(*tasks)  # type: ignore[no-untyped-call]
        except Exception as e:  # a killed worker, a failing partition: nothing is visible yet
            raise JobError(f"writing the parts of table {name!r} failed: {type(e).__name__}: {e}") from e
        return _entries(name, described)

    return build


def parquet_builder(source: str, storage_options: dict[str, Any]) -> Builder:
    """Log Parquet files already written (a folder, a glob or one file, local or any fsspec URL)."""

    def build(store: Store, name: str) -> list[Entry]:
        import fsspec
        from fsspec.implementations.local import LocalFileSystem

        try:
            fs, root = fsspec.core.url_to_fs(source, **storage_options)
            if fs.isdir(root):
                found = [p for p in fs.find(root) if p.endswith(".parquet")]
            else:
                found = fs.glob(root) if any(c in root for c in "*?[") else [root]
        except (OSError, ValueError) as e:
            raise InvalidInputError(f"cannot list Parquet parts at {source!r}: {e}") from e
        files = sorted(found)
        if not files:
            raise InvalidInputError(f"no Parquet files at {source!r}")
        _, pq = _pyarrow()
        local = isinstance(fs, LocalFileSystem)
        described, first = [], None
        with tempfile.TemporaryDirectory(prefix="artifactfs-parts-") as tmp:
            for i, f in enumerate(files):
                path = f if local else os.path.join(tmp, f"part-{i}.parquet")
                if not local:
                    fs.get_file(f, path)
                try:
                    md = pq.read_metadata(path)
                except Exception as e:  # pyarrow raises several types for a file that is not Parquet
                    raise InvalidInputError(f"{f} is not a readable Parquet file: {e}") from e
                schema = md.schema.to_arrow_schema().remove_metadata()
                if first is None:
                    first = schema
                elif not schema.equals(first):
                    raise InvalidInputError(f"{f} has another schema than {files[0]}: {schema} vs {first}")
                described.append(store_part(path, store.backend, store.algorithm, metadata=md))
                if not local:
                    os.unlink(path)
        return _entries(name, described)

    return build
