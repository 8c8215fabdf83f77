"""Every key of the key map, pressed on every screen it names: its action exists there, runs
without an error, and writes nothing without being asked (a dialog answered with Esc). The
store has a registry, so the first screen shows it and its screens are pressed too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import artifactfs as afs
from tui.app import BrowserApp
from tui.keys import KEYS, LISTS, places
from tui.screens.base import BaseScreen
from tui.screens.diff import DiffScreen
from tui.screens.file import FileScreen
from tui.screens.lineage import LineageScreen
from tui.screens.lists import (
    ArtifactsScreen,
    CollectionScreen,
    ProjectsScreen,
    RegistryScreen,
    RunsScreen,
    VersionsScreen,
)
from tui.screens.run import RunScreen
from tui.screens.search import SearchScreen
from tui.screens.table import TableScreen
from tui.screens.version import VersionScreen

from .pilot import push, settle


def screens(run_id: str) -> list[Callable[[], BaseScreen[Any]]]:
    return [
        ProjectsScreen,
        RegistryScreen,
        lambda: CollectionScreen("classifier"),
        lambda: ArtifactsScreen("demo"),
        lambda: VersionsScreen("demo", "raw"),
        lambda: RunsScreen("demo"),
        lambda: VersionScreen("demo/raw:v0"),
        lambda: VersionScreen("registry/classifier:v0"),
        lambda: TableScreen("demo/raw:v0", "rows.parquet", []),
        lambda: LineageScreen("demo/model:v0"),
        lambda: RunScreen("demo", run_id),
        lambda: FileScreen("demo/raw:v0", "notes.md", []),
        lambda: DiffScreen("demo/raw:v0", "demo/raw:v0"),
        lambda: SearchScreen("type:dataset"),
    ]


def everything(store: afs.Store) -> list[tuple[str, list[str]]]:
    """Every live version of the store, with its aliases."""
    return [
        (v.qualified_name, v.aliases)
        for project in ("demo", afs.REGISTRY)
        for a in store.artifacts(project)
        for v in store.versions(project, a.name)
    ]


async def test_every_key_works_on_every_screen_it_names(pipeline_store: str) -> None:
    store = afs.open_store(pipeline_store)
    store.link("demo/model:v0", "classifier", aliases=["production"])
    before = everything(store)
    make = screens(store.runs("demo")[0].id)
    pressed, seen = 0, set[str]()
    app = BrowserApp(pipeline_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        base = len(app.screen_stack)
        for factory in make:
            screen = await push(pilot, factory())
            where = screen.where
            seen.add(where)
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
    assert everything(store) == before  # every dialog was answered no
    assert {p for k in KEYS for p in places(k)} - {"everywhere", "lists"} <= seen  # every screen named
    assert pressed >= len(KEYS)
