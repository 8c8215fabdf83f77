"""The artifactfs terminal browser."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.command import Hit, Hits, Provider

from .data import DataSource
from .screens.lists import ArtifactsScreen, ProjectsScreen, RunsScreen, VersionsScreen
from .screens.version import VersionScreen


class GotoProvider(Provider):
    """Command palette: go to a project, an artifact or ``project/name:version``."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, BrowserApp)
        matcher = self.matcher(query)
        for text, action in app.goto_targets_cached:
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), action, help="go to")
        if ":" in query and "/" in query:
            yield Hit(
                0.1, f"go to {query}", partial(app.push_screen, VersionScreen(query.strip())), help="open version"
            )


class BrowserApp(App[None]):
    """Explore projects, artifacts, versions, tables, lineage and runs of one store."""

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
        self.goto_targets_cached: list[tuple[str, Callable[[], Any]]] = []

    def on_mount(self) -> None:
        self.push_screen(ProjectsScreen())
        self._index_targets()

    def _index_targets(self) -> None:
        self.run_worker(self._collect_targets, thread=True, group="palette")

    def _collect_targets(self) -> None:
        out: list[tuple[str, Callable[[], Any]]] = []
        try:
            for p in self.data.projects():
                out.append((p, partial(self.push_screen, ArtifactsScreen(p))))
                out.append((f"{p} runs", partial(self.push_screen, RunsScreen(p))))
                for a in self.data.artifacts(p):
                    out.append((f"{p}/{a.name}", partial(self.push_screen, VersionsScreen(p, a.name))))
                    out.append(
                        (
                            f"{p}/{a.name}:latest",
                            partial(self.push_screen, VersionScreen(f"{p}/{a.name}:v{a.latest_version}")),
                        )
                    )
        except Exception:  # the palette is a convenience: screens report store errors themselves
            pass
        self.goto_targets_cached = out

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"


def main(store_url: str | None = None) -> None:
    BrowserApp(store_url).run()
