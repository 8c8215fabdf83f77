"""Navigation: what a screen asks to open next.

A screen posts one of these and :class:`~tui.app.BrowserApp` pushes the screen it names, so
no screen imports another: the app is the one place that knows every screen.
"""

from __future__ import annotations

from textual.message import Message

__all__ = [
    "OpenArtifacts",
    "OpenCollection",
    "OpenDiff",
    "OpenFile",
    "OpenHelp",
    "OpenLineage",
    "OpenRegistry",
    "OpenRun",
    "OpenRuns",
    "OpenSearch",
    "OpenTable",
    "OpenVersion",
    "OpenVersions",
    "StoreChanged",
]


class OpenArtifacts(Message):
    """The artifacts of a project."""

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project


class OpenVersions(Message):
    """The versions of one artifact."""

    def __init__(self, project: str, name: str) -> None:
        super().__init__()
        self.project, self.name = project, name


class OpenRegistry(Message):
    """The registry's collections."""


class OpenCollection(Message):
    """The versions of one registry collection, with what each links to."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class OpenRuns(Message):
    """The runs of a project."""

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project


class OpenVersion(Message):
    """One version, by reference (``project/name:v3`` or ``project/name:alias``)."""

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref


class OpenRun(Message):
    """One run."""

    def __init__(self, project: str, run_id: str) -> None:
        super().__init__()
        self.project, self.run_id = project, run_id


class OpenLineage(Message):
    """The lineage tree around one version."""

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref


class OpenFile(Message):
    """The preview of a file of version ``ref``; ``crumbs`` are those of the version's screen."""

    def __init__(self, ref: str, path: str, crumbs: list[str]) -> None:
        super().__init__()
        self.ref, self.path, self.crumbs = ref, path, list(crumbs)


class OpenTable(Message):
    """A table (or partitioned table) of version ``ref``."""

    def __init__(self, ref: str, path: str, crumbs: list[str]) -> None:
        super().__init__()
        self.ref, self.path, self.crumbs = ref, path, list(crumbs)


class OpenDiff(Message):
    """What changed from version ``a`` to version ``b``."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__()
        self.a, self.b = a, b


class OpenSearch(Message):
    """The search screen, its query line holding ``text`` (see :mod:`tui.query`)."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text


class OpenHelp(Message):
    """The keys of the screen ``where`` (a name of :mod:`tui.keys`), or closing them if shown."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where


class StoreChanged(Message):
    """The browser wrote to the store: read again what is shown (after closing the screen
    that posted it, when ``leave``: it showed a version now deleted)."""

    def __init__(self, leave: bool = False) -> None:
        super().__init__()
        self.leave = leave
