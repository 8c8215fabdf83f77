"""Every key of the key map, pressed on every screen it names: its action exists there, runs
without an error, and writes nothing without being asked (a dialog answered with Esc)."""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

import artifactfs as afs
from tui.app import BrowserApp
from tui.keys import KEYS, LISTS, places
from tui.screens.diff import DiffScreen
from tui.screens.file import FileScreen
from tui.screens.lineage import LineageScreen
from tui.screens.lists import ArtifactsScreen, ProjectsScreen, RunsScreen, VersionsScreen
from tui.screens.run import RunScreen
from tui.screens.search import SearchScreen
from tui.screens.table import TableScreen
from tui.screens.version import VersionScreen

from .pilot import push, settle


def screens(run_id: str) -> dict[str, Callable[[], Screen[None]]]:
    return {
        "projects": ProjectsScreen,
        "artifacts": lambda: ArtifactsScreen("demo"),
        "versions": lambda: VersionsScreen("demo", "raw"),
        "runs": lambda: RunsScreen("demo"),
        "version": lambda: VersionScreen("demo/raw:v0"),
        "table": lambda: TableScreen("demo/raw:v0", "rows.parquet", []),
        "lineage": lambda: LineageScreen("demo/model:v0"),
        "run": lambda: RunScreen("demo", run_id),
        "file": lambda: FileScreen("demo/raw:v0", "notes.md", []),
        "diff": lambda: DiffScreen("demo/raw:v0", "demo/raw:v0"),
        "search": lambda: SearchScreen("type:dataset"),
    }


async def test_every_key_works_on_every_screen_it_names(pipeline_store: str) -> None:
    store = afs.open_store(pipeline_store)
    before = [(v.qualified_name, v.aliases) for a in store.artifacts("demo") for v in store.versions("demo", a.name)]
    make = screens(store.runs("demo")[0].id)
    pressed = 0
    app = BrowserApp(pipeline_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        base = len(app.screen_stack)
        for where, factory in make.items():
            screen = await push(pilot, factory())
            for key in KEYS:
                if not {where, "everywhere", *(["lists"] if where in LISTS else [])} & set(places(key)):
                    continue
                assert hasattr(screen, f"action_{key.action.split('(')[0]}"), (where, key)
                await pilot.press(key.keys.split(",")[0])
                await settle(pilot)
                assert app.return_code is None, (where, key)
                while app.screen is not screen and len(app.screen_stack) > base:  # close what it opened
                    if app.screen.is_modal:
                        await pilot.press("escape")
                    else:
                        await app.pop_screen()
                    await settle(pilot)
                if screen not in app.screen_stack:  # Esc went back from it
                    screen = await push(pilot, factory())
                pressed += 1
            while len(app.screen_stack) > base:
                app.pop_screen()
    after = [(v.qualified_name, v.aliases) for a in store.artifacts("demo") for v in store.versions("demo", a.name)]
    assert after == before  # every dialog was answered no
    assert pressed >= len(KEYS)
