"""What the data layer hands to screens: frozen, plain values, never store objects.

:mod:`tui.data` builds these from a store; screens and widgets only read them, so nothing they
touch can do store I/O. Values are shown as they are: formatting belongs to :mod:`tui.format`
and the screens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

__all__ = [
    "AliasMove",
    "AliasPoint",
    "Annotation",
    "ArtifactItem",
    "CollectionItem",
    "Column",
    "DiffView",
    "EntryView",
    "Home",
    "LineageNode",
    "Preview",
    "RunView",
    "SearchItem",
    "SearchResults",
    "TextDiff",
    "UpstreamRef",
    "VersionItem",
    "VersionView",
]


@dataclass(frozen=True)
class Home:
    """What the first screen lists: the store's projects (not the registry's), and how many
    collections the registry holds (0: the store has no registry)."""

    projects: tuple[str, ...]
    collections: int = 0


@dataclass(frozen=True)
class ArtifactItem:
    """One artifact of a project: its type, how many versions, and the newest one."""

    project: str
    name: str
    type: str
    version_count: int
    latest_version: int
    updated_at: str


@dataclass(frozen=True)
class RunView:
    """One run: what it was, how it went, and the versions it used and logged."""

    project: str
    id: str
    name: str
    job_type: str | None
    status: str
    started_at: str
    finished_at: str | None
    duration: float | None  # seconds, None while running
    host: str | None
    error: str | None
    config: dict[str, object]
    inputs: tuple[str, ...]  # qualified names of the versions it used
    outputs: tuple[str, ...]  # and of those it logged
    summary: dict[str, object] | None = None  # run.summary: its final metrics
    steps: int = 0  # rows of run.log history


@dataclass(frozen=True)
class VersionItem:
    """One version as the versions list shows it."""

    qualified_name: str
    version: str  # "v3"
    aliases: tuple[str, ...]
    size: int
    files: int
    created_at: str
    logged_by: RunView | None
    linked_from: str | None = None  # a registry version: the version it links to


@dataclass(frozen=True)
class AliasPoint:
    """A custom alias of a registry collection: the collection's version it points at, and the
    version that one links to."""

    alias: str
    version: str  # "v3"
    source: str  # "p/model:v7"


@dataclass(frozen=True)
class CollectionItem:
    """One collection of the registry: its type, how many versions, when it last changed, and
    where each of its custom aliases points."""

    name: str
    type: str
    version_count: int
    latest_version: int
    updated_at: str
    aliases: tuple[AliasPoint, ...]


@dataclass(frozen=True)
class EntryView:
    """One path inside a version; ``dataset`` names the partitioned table it is a part of."""

    path: str
    kind: str
    size: int
    digest: str  # the short digest, or the URI of an external reference
    dataset: str | None = None


@dataclass(frozen=True)
class UpstreamRef:
    """A version another one was made from (``add_reference``)."""

    qualified_name: str
    deleted: bool


@dataclass(frozen=True)
class AliasMove:
    """An alias pointed at ``version`` (None: it was removed) from ``created_at``, moved by the
    run ``run_id`` (None: outside a run); ``previous`` is where it pointed before."""

    alias: str
    version: str | None  # "v3"
    previous: str | None
    created_at: str
    run_id: str | None


@dataclass(frozen=True)
class Annotation:
    """Who last changed what is said of a version (tags, description, metadata), and when."""

    created_at: str
    user: str | None
    run_id: str | None
    count: int  # annotations of the version so far


@dataclass(frozen=True)
class VersionView:
    """One artifact version: what it is, what it holds, where it came from."""

    project: str
    name: str
    qualified_name: str
    version: str
    type: str
    aliases: tuple[str, ...]
    description: str | None
    metadata: dict[str, object]
    digest: str
    size: int
    created_at: str
    entries: tuple[EntryView, ...]  # the first page, in path order (all of a small version)
    logged_by: RunView | None
    references: tuple[UpstreamRef, ...]
    file_count: int = -1  # every entry's, known without reading them (-1: that of ``entries``)
    used_by: tuple[RunView, ...] = ()  # the runs that used it, oldest first
    tags: tuple[str, ...] = ()
    alias_history: tuple[AliasMove, ...] = ()  # of its aliases (not latest), each oldest first
    annotated: Annotation | None = None
    linked_from: str | None = None  # a registry version: the version it links to

    @property
    def files(self) -> int:
        return self.file_count if self.file_count >= 0 else len(self.entries)


@dataclass(frozen=True)
class SearchItem:
    """A version a search found, with what the store's index says of it."""

    qualified_name: str
    type: str
    created_at: str
    description: str | None
    tags: tuple[str, ...]
    metadata: dict[str, object]


@dataclass(frozen=True)
class SearchResults:
    """What the query ``text`` found, newest first (at most ``limit``); ``error`` says why the
    store refused the query (then nothing was found)."""

    text: str
    hits: tuple[SearchItem, ...]
    limit: int
    error: str = ""


@dataclass(frozen=True)
class TextDiff:
    """The lines that changed in a text file, as a unified diff (``@@``, ``-``, ``+`` and
    context lines); ``note`` says why there are none (binary, too large)."""

    path: str
    lines: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class DiffView:
    """Entry paths added, removed and changed from ``a`` to ``b``; notes on tables; the line
    diffs of changed text files."""

    a: str
    b: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    notes: tuple[str, ...]
    texts: tuple[TextDiff, ...] = ()


@dataclass(frozen=True)
class Preview:
    """What the file viewer shows: ``kind`` is text, json, binary, image, or table (the rows
    of a CSV, TSV or JSON-lines file, in ``table``)."""

    kind: str
    path: str
    size: int
    digest: str
    text: str = ""
    lexer: str = "text"
    truncated: bool = False
    table: pa.Table | None = None


@dataclass(frozen=True)
class LineageNode:
    """A node of the lineage tree: an artifact version or a run.

    ``ref`` is the version's qualified name, or ``project/run-id``; ``manifest`` pins a
    version's content. ``missing`` marks a version this store does not hold.
    """

    kind: Literal["artifact", "run"]
    label: str
    ref: str
    deleted: bool = False
    missing: bool = False
    manifest: str = ""


@dataclass(frozen=True)
class Column:
    """A table column: its name in the file, its type as text (short: ``category``, not the
    Arrow dictionary type), and the name it is shown by (a pandas index is shown as the index,
    not as ``__index_level_0__``)."""

    name: str
    type: str
    label: str = ""
    index: bool = False

    @property
    def shown(self) -> str:
        return self.label or self.name
