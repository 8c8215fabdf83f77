"""Partitioned tables: one table of many Parquet parts, written and read in parallel.

A partitioned table ``events`` is stored as ordinary table entries ``events/part-00000.parquet``,
``events/part-00001.parquet``, ... whose ``extra`` names the table (``dataset``), the part's
index and its row count and per-column statistics. Every part is a content-addressed blob like
any other, so dedup, verification, gc, copies between stores and downloads need nothing new,
and a downloaded ``events/`` folder is itself a Parquet dataset any engine reads.

Writing (:mod:`artifactfs.parts`): ``Table.from_dask`` runs one task per partition on the
Dask cluster in use; each worker writes its part straight to the store and returns only the
part's description. The commit is the usual one (blobs, then one manifest, then one version record),
so a job that fails leaves no version, only unreferenced blobs for gc.

Reading (:mod:`artifactfs.engines`): :meth:`PartitionedTable.to_dataset` is a
``pyarrow.dataset`` over the parts whose bytes are verified as they are read, with each
part's statistics attached as its partition expression, so a filter skips the parts that
cannot match without opening them. DuckDB, Polars and pyarrow scan it with projection and
predicate pushdown.

The class itself is :class:`artifactfs.table.PartitionedTable`; this module names the pieces.
"""

from .engines import dataset_of, opened_parts, partition_expression
from .parts import dask_builder, parquet_builder, part_path, store_part
from .table import PartitionedTable

__all__ = [
    "PartitionedTable",
    "dask_builder",
    "dataset_of",
    "opened_parts",
    "parquet_builder",
    "part_path",
    "partition_expression",
    "store_part",
]
