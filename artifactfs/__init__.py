"""artifactfs: versioned, content-addressed artifacts with lineage on any fsspec filesystem."""

from __future__ import annotations

from . import errors
from .artifact import Artifact
from .copy import CopyReport, copy
from .diff import VersionDiff, diff
from .lineage import Edge, LineageGraph, Node
from .manifest import Entry
from .partitioned import PartitionedTable
from .records import ArtifactVersionId, RunRecord
from .reproduce import reproduce
from .run import Run, init
from .store import ArtifactSummary, Store, open_store
from .table import Table

__version__ = "0.1.0"

__all__ = [
    "Artifact",
    "ArtifactSummary",
    "ArtifactVersionId",
    "CopyReport",
    "Edge",
    "Entry",
    "LineageGraph",
    "Node",
    "PartitionedTable",
    "Run",
    "RunRecord",
    "Store",
    "Table",
    "VersionDiff",
    "__version__",
    "copy",
    "diff",
    "errors",
    "init",
    "open_store",
    "reproduce",
]
