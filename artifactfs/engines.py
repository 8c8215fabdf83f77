"""Query engines over stored tables, read in place: a ``pyarrow.dataset`` and a dask DataFrame.

Every part is opened through its :class:`~artifactfs.blobs.EntrySource`, so each byte an
engine reads is verified; each part's statistics become its partition expression, so a
filter skips the parts that cannot match without opening them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

from .blobs import EntrySource
from .manifest import Entry
from .parquet import load_pyarrow

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pyarrow as pa
    import pyarrow.dataset as pads

__all__ = ["dataset_of", "opened_parts", "partition_expression", "to_dask"]

Pieces = Sequence[tuple[Entry, EntrySource]]


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


def partition_expression(schema: pa.Schema, stats: dict[str, Any]) -> Any:
    """What every row of a part satisfies, from its statistics (True when nothing is known)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    pa_ = load_pyarrow()[0]
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


def dataset_of(schema: pa.Schema, pieces: Pieces) -> pads.Dataset:
    """A pyarrow dataset over stored tables (a partitioned table's parts, or one table)."""
    import pyarrow.dataset as pads
    import pyarrow.fs as pafs

    openers: dict[str, Callable[[], IO[bytes]]] = {}
    sizes, paths, partitions = {}, [], []
    for entry, source in pieces:
        openers[entry.path] = source.open
        sizes[entry.path] = entry.size
        paths.append(entry.path)
        partitions.append(partition_expression(schema, entry.extra.get("stats") or {}))
    handler = _handler_class()(openers, sizes)
    return pads.FileSystemDataset.from_paths(
        paths,
        schema=schema,
        format=pads.ParquetFileFormat(),
        filesystem=pafs.PyFileSystem(handler),
        partitions=partitions,
    )


@functools.cache
def _handler_class() -> type[_PartsHandler]:
    """:class:`_PartsHandler` as a real ``pyarrow.fs.FileSystemHandler`` (pyarrow loads on first use)."""
    import pyarrow.fs as pafs

    return type("PartsHandler", (_PartsHandler, pafs.FileSystemHandler), {})


def opened_parts(dataset: pads.Dataset) -> list[str]:
    """The parts a dataset made by :func:`dataset_of` has opened so far (for tests and the curious)."""
    handler = getattr(getattr(dataset, "filesystem", None), "handler", None)
    return list(handler.opened) if isinstance(handler, _PartsHandler) else []


def _read_piece(origin: tuple[str, dict[str, Any], str, dict[str, Any]], columns: list[str] | None, filter: Any) -> Any:
    """Run on a Dask worker: read one stored part (verified), with projection and filter."""
    _, pq = load_pyarrow()
    with EntrySource.reopen(origin).open() as handle:
        return pq.read_table(handle, columns=columns, filters=filter).to_pandas()


def to_dask(schema: pa.Schema, pieces: Pieces, columns: list[str] | None, filter: Any) -> dd.DataFrame:
    """A dask DataFrame over stored tables, one partition per part that may match ``filter``."""
    import dask.dataframe as dd

    chosen = list(pieces)
    if filter is not None:
        keep = {f.path for f in dataset_of(schema, pieces).get_fragments(filter=filter)}
        chosen = [p for p in chosen if p[0].path in keep] or chosen[:1]  # (dask needs one partition)
    meta = schema.empty_table()
    meta = (meta.select(columns) if columns else meta).to_pandas()
    frame: dd.DataFrame = dd.from_map(  # type: ignore[no-untyped-call]
        _read_piece,
        [source.origin for _, source in chosen],
        columns=columns,
        filter=filter,
        meta=meta,
        enforce_metadata=False,
    )
    return frame
