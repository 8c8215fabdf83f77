"""Writing the parts of a partitioned table: by the Dask cluster in use (each worker writes its
partitions straight to the store) or from Parquet files already written.

A builder runs when the artifact is logged; it returns the parts' entries (each part's
digest, size, row counts, statistics and block digests) and writes every part's blob first,
so the commit that follows is the usual one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from . import layout
from .backend import Backend, open_backend
from .errors import InvalidInputError, JobError
from .hashing import BLOCK_SIZE, Digest, hash_file_blocks
from .manifest import Entry
from .parquet import describe, load_pyarrow, write_arrow
from .uris import SourceFiles

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa

__all__ = ["Builder", "dask_builder", "parquet_builder", "part_path", "store_part"]

Builder = Callable[[Backend, str, str], list[Entry]]
"""Writes a table's parts to a store: ``(backend, digest algorithm, table name) -> entries``."""


def part_path(name: str, index: int) -> str:
    return f"{name}/part-{index:05d}.parquet"


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
    described = describe(metadata if metadata is not None else load_pyarrow()[1].read_metadata(path), extra)
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
    pa_ = load_pyarrow()[0]
    url, options = target
    backend = open_backend(url, **options)
    arrow = pa_.Table.from_pandas(pdf, schema=schema, preserve_index=False)
    if backend.local_files:  # written inside the store, then renamed into place: no copy
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


def dask_builder(ddf: dd.DataFrame, index: bool) -> Builder:
    """Write each partition of ``ddf`` to the store on the worker that computes it."""

    def build(backend: Backend, algorithm: str, name: str) -> list[Entry]:
        from dask.base import compute
        from dask.delayed import delayed

        pa_ = load_pyarrow()[0]
        frame = ddf.reset_index() if index else ddf
        # The non-empty stand-in frame types text columns as text, where the empty one says null.
        schema = pa_.Schema.from_pandas(frame._meta_nonempty, preserve_index=False)
        target = (backend.url, backend.storage_options)
        tasks = [
            delayed(_write_dask_partition, pure=False)(part, target, schema, algorithm) for part in frame.to_delayed()
        ]
        try:
            described = compute(*tasks)  # type: ignore[no-untyped-call]
        except Exception as e:  # a killed worker, a failing partition: nothing is visible yet
            raise JobError(f"writing the parts of table {name!r} failed: {type(e).__name__}: {e}") from e
        return _entries(name, described)

    return build


def parquet_builder(source: str, storage_options: dict[str, Any]) -> Builder:
    """Log Parquet files already written (a folder, a glob or one file, local or any fsspec URL)."""

    def build(backend: Backend, algorithm: str, name: str) -> list[Entry]:
        found = SourceFiles(source, storage_options, ".parquet")
        files = found.files
        if not files:
            raise InvalidInputError(f"no Parquet files at {source!r}")
        _, pq = load_pyarrow()
        described, first = [], None
        with tempfile.TemporaryDirectory(prefix="artifactfs-parts-") as tmp:
            for i, f in enumerate(files):
                path = found.local_copy(f, os.path.join(tmp, f"part-{i}.parquet"))
                try:
                    md = pq.read_metadata(path)
                except Exception as e:  # pyarrow raises several types for a file that is not Parquet
                    raise InvalidInputError(f"{f} is not a readable Parquet file: {e}") from e
                schema = md.schema.to_arrow_schema().remove_metadata()
                if first is None:
                    first = schema
                elif not schema.equals(first):
                    raise InvalidInputError(f"{f} has another schema than {files[0]}: {schema} vs {first}")
                described.append(store_part(path, backend, algorithm, metadata=md))
                if not found.local:
                    os.unlink(path)
        return _entries(name, described)

    return build
