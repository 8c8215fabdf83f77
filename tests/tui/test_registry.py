"""The registry in the browser: apart from the projects on the first screen, its collections
with where their aliases point, a collection's versions with what each links to, and from a
registry version the version it links to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

import artifactfs as afs
from tui.app import BrowserApp
from tui.data import REGISTRY, DataSource
from tui.screens.lists import CollectionScreen, ProjectsScreen, RegistryScreen
from tui.screens.version import VersionScreen
from tui.views import AliasPoint, Home

from .pilot import cells, settle, text_of
from .test_app import snapshot_store
from .test_data import not_plain
from .test_discovery import fixed_times
from .test_versions import answer


@pytest.fixture
def registry_store(pipeline_store: str) -> str:
    """The pipeline store, a second model version, and two collections: classifier links
    demo/model:v0 then v1, staging moved from its v0 to its v1, production set on its v0;
    training-data links demo/raw:v0, production on it."""
    with afs.init(project="demo", job_type="train", store=pipeline_store) as run:
        better = afs.Artifact("model", type="model")
        with better.new_file("w.bin", mode="wb") as f:
            f.write(b"better weights")
        run.log_artifact(better)
    store = afs.open_store(pipeline_store)
    store.link("demo/model:v0", "classifier", aliases=["staging"])
    store.link("demo/model:v1", "classifier", aliases=["staging"])
    store.set_alias("registry/classifier:v0", "production")
    store.link("demo/raw:v0", "training-data", aliases=["production"])
    return pipeline_store


def rows(screen: Any) -> list[list[Any]]:
    table = screen.query_one("#list", DataTable)
    return [cells(table.get_row_at(i)) for i in range(table.row_count)]


async def enter(pilot: Any, *keys: str) -> Any:
    await pilot.press(*keys, "enter")
    await settle(pilot)
    return pilot.app.screen


def test_the_data_layer_reads_the_registry_into_plain_values(registry_store: str) -> None:
    data = DataSource(registry_store)
    found: dict[str, Any] = {
        "home": data.home(),
        "projects": data.projects(),
        "collections": data.collections(),
        "links": data.versions(REGISTRY, "classifier"),
        "version": data.version("registry/classifier:staging"),
    }
    assert not_plain(found) == []
    assert found["home"] == Home(("demo",), 2) and found["projects"] == ["demo"]  # the registry is apart
    classifier, training = found["collections"]
    assert (classifier.name, classifier.type, classifier.version_count) == ("classifier", "model", 2)
    assert classifier.aliases == (
        AliasPoint("production", "v0", "demo/model:v0"),
        AliasPoint("staging", "v1", "demo/model:v1"),
    )
    assert training.aliases == (AliasPoint("production", "v0", "demo/raw:v0"),)
    assert [(v.version, v.linked_from) for v in found["links"]] == [("v0", "demo/model:v0"), ("v1", "demo/model:v1")]
    assert found["version"].linked_from == "demo/model:v1"
    assert data.version("demo/model:v1").linked_from is None
    assert data.versions("demo", "model")[0].linked_from is None


async def test_from_the_registry_row_to_a_collection_a_link_and_its_source(registry_store: str) -> None:
    app = BrowserApp(registry_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        assert rows(app.screen) == [["registry · 2 collections"], ["demo"]]  # not also a project

        screen = await enter(pilot)
        assert isinstance(screen, RegistryScreen)
        assert [r[:3] + r[4:] for r in rows(screen)] == [
            ["model", "classifier", 2, "production → v0 (demo/model:v0), staging → v1 (demo/model:v1)"],
            ["dataset", "training-data", 1, "production → v0 (demo/raw:v0)"],
        ]
        assert text_of(screen.query_one("#crumbs", Static)) == "registry"

        screen = await enter(pilot)
        assert isinstance(screen, CollectionScreen)
        assert [r[:3] for r in rows(screen)] == [  # newest first
            ["v1", "demo/model:v1", "latest, staging"],
            ["v0", "demo/model:v0", "production"],
        ]
        assert screen.crumbs == ["registry", "classifier"]

        screen = await enter(pilot)
        assert isinstance(screen, VersionScreen) and screen.ref == "registry/classifier:v1"
        summary = text_of(screen.query_one("#summary", Static))
        assert "linked from: demo/model:v1" in summary
        history = [line.split("  ")[1::2] for line in summary.split("alias history:\n", 1)[1].splitlines()]
        assert history == [["staging", "set on v0"], ["staging", "moved v0 → v1"]]
        assert screen.crumbs == ["registry", "classifier", "v1"]

        await pilot.press("o")  # the version it links to
        await settle(pilot)
        source = app.screen
        assert isinstance(source, VersionScreen) and source.ref == "demo/model:v1"
        assert "linked from" not in text_of(source.query_one("#summary", Static))
        await pilot.press("o")  # not a registry version: said, nothing opened
        await settle(pilot)
        assert app.screen is source

        await pilot.press("escape", "escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, RegistryScreen)
        screen = await enter(pilot, "down")
        assert isinstance(screen, CollectionScreen) and screen.artifact_name == "training-data"


async def test_promote_from_a_collection_and_the_registry_shows_the_move(registry_store: str) -> None:
    store = afs.open_store(registry_store)
    app = BrowserApp(registry_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        app.go(dict(app.goto_targets_cached)["registry/classifier"])  # the palette's way there
        await settle(pilot)
        assert isinstance(app.screen, CollectionScreen)
        await pilot.press("a")  # on v1, the newest
        await answer(pilot, "production")
        assert store.artifact("registry/classifier:production").version == "v1"
        assert [r[2] for r in rows(app.screen)] == ["latest, production, staging", ""]  # read again
        app.go(dict(app.goto_targets_cached)["registry"])
        await settle(pilot)
        assert isinstance(app.screen, RegistryScreen)
        assert rows(app.screen)[0][4] == "production → v1 (demo/model:v1), staging → v1 (demo/model:v1)"
        assert sorted(t for t, _ in app.goto_targets_cached if t.startswith("registry")) == [
            "registry",
            "registry/classifier",
            "registry/classifier:latest",
            "registry/training-data",
            "registry/training-data:latest",
        ]


async def test_a_store_without_a_registry_shows_no_registry_row(pipeline_store: str) -> None:
    app = BrowserApp(pipeline_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert rows(app.screen) == [["demo"]]
        assert not any(t.startswith("registry") for t, _ in app.goto_targets_cached)
        app.push_screen(RegistryScreen())  # reached anyway: says what a registry needs
        await settle(pilot)
        assert rows(app.screen) == []
        assert "the registry is empty" in text_of(app.screen.query_one("#status", Static))


@pytest.mark.parametrize(
    "steps", [pytest.param(["enter"], id="registry"), pytest.param(["enter"] * 2, id="collection")]
)
def test_snapshots(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, steps: list[str]) -> None:
    """The registry's collections, and the versions of one, from the golden store with a
    second model version and two collections."""
    url = snapshot_store(tmp_path)
    fixed_times(monkeypatch)
    with afs.init(project="golden", job_type="train", store=url) as run:
        better = afs.Artifact("model", type="model")
        with better.new_file("w.bin", mode="wb") as f:
            f.write(b"better weights")
        run.log_artifact(better)
    store = afs.open_store(url)
    store.link("golden/model:v0", "classifier", aliases=["staging"])
    store.link("golden/model:v1", "classifier", aliases=["staging"])
    store.set_alias("registry/classifier:v0", "production")
    store.link("golden/ds:v0", "training-data", aliases=["production"])

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        for key in steps:
            await pilot.press(key)
            await settle(pilot)

    app = BrowserApp(url, label="golden store")
    assert snap_compare(app, run_before=run_before, terminal_size=(130, 30))  # the aliases in full
