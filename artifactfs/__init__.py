"""artifactfs: versioned, content-addressed artifacts with lineage on any fsspec filesystem."""

from . import errors
from .artifact import Artifact
from .copy import CopyReport, copy
from .diff import VersionDiff, diff
from .fsspec_fs import ArtifactFileSystem, register
from .lineage import Edge, LineageGraph, Node
from .manifest import Entry
from .partitioned import PartitionedTable
from .purge import PurgeReport
from .records import ArtifactVersionId, RunRecord
from .refs import REGISTRY
from .reproduce import reproduce
from .retention import AliasChange, RetentionPolicy
from .run import Run, init, log_artifact, use_artifact
from .search import SearchHit
from .spool import SyncReport, sync
from .store import ArtifactSummary, Store, open_store
from .table import Table

__version__ = "0.1.0"

# afs:// URLs work once artifactfs is imported, even where the package's fsspec entry point is
# not installed (a source checkout on sys.path).
register()

__all__ = [
    "AliasChange",
    "Artifact",
    "ArtifactFileSystem",
    "ArtifactSummary",
    "ArtifactVersionId",
    "CopyReport",
    "Edge",
    "Entry",
    "LineageGraph",
    "Node",
    "PartitionedTable",
    "REGISTRY",
    "RetentionPolicy",
    "PurgeReport",
    "Run",
    "RunRecord",
    "SearchHit",
    "Store",
    "SyncReport",
    "Table",
    "VersionDiff",
    "__version__",
    "copy",
    "diff",
    "errors",
    "init",
    "log_artifact",
    "open_store",
    "reproduce",
    "sync",
    "use_artifact",
]


def __dir__() -> list[str]:
    """The public API only (the submodules stay importable, and ``errors`` is part of it)."""
    return sorted(__all__)
