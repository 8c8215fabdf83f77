"""The artifactfs terminal browser: the app, its command palette, and which screen each
navigation message opens."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.app import App
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.message import Message

from .data import REGISTRY, DataSource
from .keys import for_screen
from .messages import (
    OpenArtifacts,
    OpenCollection,
    OpenDiff,
    OpenFile,
    OpenHelp,
    OpenLineage,
    OpenRegistry,
    OpenRun,
    OpenRuns,
    OpenSearch,
    OpenTable,
    OpenVersion,
    OpenVersions,
    StoreChanged,
)
from .screens.base import BaseScreen
from .screens.diff import DiffScreen
from .screens.file import FileScreen
from .screens.help import HelpScreen
from .screens.lineage import LineageScreen
from .screens.lists import (
    ArtifactsScreen,
    CollectionScreen,
    ProjectsScreen,
    RegistryScreen,
    RunsScreen,
    VersionsScreen,
)
from .screens.run import RunScreen
from .screens.search import SearchScreen
from .screens.table import TableScreen
from .screens.version import VersionScreen

Target = tuple[str, Callable[[], Message]]  # a palette entry: its text, and where it goes


class GotoProvider(Provider):
    """Command palette: go to a project, an artifact or ``project/name:version``, the registry
    or one of its collections, or search."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, BrowserApp)
        matcher = self.matcher(query)
        for text, message in app.goto_targets_cached:
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(app.go, message), help="go to")
        if ":" in query and "/" in query:
            yield Hit(0.1, f"go to {query}", partial(app.go, partial(OpenVersion, query.strip())), help="open version")


class BrowserApp(App[None]):
    """Explore projects, artifacts, versions, tables, lineage and runs of one store, its
    registry, and search it."""

    TITLE = "artifactfs"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {GotoProvider}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("t", "toggle_dark", "Light/dark"),
    ]

    def __init__(self, store_url: str | None = None, *, label: str | None = None) -> None:
        """``label`` is shown in the header instead of the store URL."""
        super().__init__()
        self.data = DataSource(store_url)
        self.sub_title = label or self.data.url
        self.goto_targets_cached: list[Target] = []

    def on_mount(self) -> None:
        self.push_screen(ProjectsScreen())
        self._index_targets()

    def go(self, message: Callable[[], Message]) -> None:
        """Open what a new ``message()`` names (a palette entry can be chosen more than once)."""
        self.post_message(message())

    # ---------------------------------------------------------------- navigation
    def on_open_artifacts(self, m: OpenArtifacts) -> None:
        self.push_screen(ArtifactsScreen(m.project))

    def on_open_versions(self, m: OpenVersions) -> None:
        self.push_screen(VersionsScreen(m.project, m.name))

    def on_open_registry(self, m: OpenRegistry) -> None:
        self.push_screen(RegistryScreen())

    def on_open_collection(self, m: OpenCollection) -> None:
        self.push_screen(CollectionScreen(m.name))

    def on_open_runs(self, m: OpenRuns) -> None:
        self.push_screen(RunsScreen(m.project))

    def on_open_version(self, m: OpenVersion) -> None:
        self.push_screen(VersionScreen(m.ref))

    def on_open_run(self, m: OpenRun) -> None:
        self.push_screen(RunScreen(m.project, m.run_id))

    def on_open_lineage(self, m: OpenLineage) -> None:
        self.push_screen(LineageScreen(m.ref))

    def on_open_file(self, m: OpenFile) -> None:
        self.push_screen(FileScreen(m.ref, m.path, m.crumbs))

    def on_open_table(self, m: OpenTable) -> None:
        self.push_screen(TableScreen(m.ref, m.path, m.crumbs))

    def on_open_diff(self, m: OpenDiff) -> None:
        self.push_screen(DiffScreen(m.a, m.b))

    def on_open_search(self, m: OpenSearch) -> None:
        self.push_screen(SearchScreen(m.text))

    def on_store_changed(self, m: StoreChanged) -> None:
        if m.leave and len(self.screen_stack) > 2:
            self.pop_screen()
        if isinstance(self.screen, BaseScreen):
            self.screen.action_reload()
        self._index_targets()

    def on_open_help(self, m: OpenHelp) -> None:
        if isinstance(self.screen, HelpScreen):  # ? again closes it: one help, never a stack
            self.pop_screen()
        else:
            self.push_screen(HelpScreen(m.where, for_screen(m.where)))

    # ---------------------------------------------------------------- palette
    def _index_targets(self) -> None:
        self.run_worker(self._collect_targets, thread=True, group="palette")

    def _collect_targets(self) -> None:
        out: list[Target] = [("search versions", OpenSearch)]
        try:
            home = self.data.home()
            if home.collections:
                out.append(("registry", OpenRegistry))
                for c in self.data.artifacts(REGISTRY):
                    latest = f"{REGISTRY}/{c.name}:v{c.latest_version}"
                    out.append((f"{REGISTRY}/{c.name}", partial(OpenCollection, c.name)))
                    out.append((f"{REGISTRY}/{c.name}:latest", partial(OpenVersion, latest)))
            for p in home.projects:
                out.append((p, partial(OpenArtifacts, p)))
                out.append((f"{p} runs", partial(OpenRuns, p)))
                for a in self.data.artifacts(p):
                    out.append((f"{p}/{a.name}", partial(OpenVersions, p, a.name)))
                    out.append((f"{p}/{a.name}:latest", partial(OpenVersion, f"{p}/{a.name}:v{a.latest_version}")))
        except Exception:  # the palette is a convenience: screens report store errors themselves
            pass
        self.goto_targets_cached = out

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"


def main(store_url: str | None = None) -> None:
    BrowserApp(store_url).run()
