"""Finding versions in the browser: the search screen (its query line, its errors), and what
the version screen says of how a version came to be as it is now (alias moves, annotations)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static

import artifactfs as afs
from tui.app import BrowserApp
from tui.data import DataSource
from tui.format import brief
from tui.query import Query, parse_query
from tui.screens.lists import ProjectsScreen
from tui.screens.search import SearchScreen
from tui.screens.version import VersionScreen

from .pilot import cells, push, settle, text_of
from .test_app import snapshot_store
from .test_data import not_plain


@pytest.fixture
def found_store(pipeline_store: str) -> str:
    """The pipeline store, and: model:v1 (accuracy 0.95); model:v0 tagged reviewed (accuracy
    0.8, annotated); alias best moved from v0 (where the train run set it) to v1 and back."""
    with afs.init(project="demo", job_type="train", store=pipeline_store) as run:
        better = afs.Artifact("model", type="model", metadata={"eval": {"accuracy": 0.95}})
        with better.new_file("w.bin", mode="wb") as f:
            f.write(b"better weights")
        run.log_artifact(better)
    store = afs.open_store(pipeline_store)
    store.artifact("demo/model:v0").annotate(add_tags=["reviewed"], metadata={"eval": {"accuracy": 0.8}})
    store.set_alias("demo/model:v1", "best")
    store.set_alias("demo/model:v0", "best")
    return pipeline_store


async def search(pilot: Any, text: str) -> SearchScreen:
    """Type ``text`` in the search screen's query line (opening it with Ctrl+F if needed) and send it."""
    if not isinstance(pilot.app.screen, SearchScreen):
        await pilot.press("ctrl+f")
        await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SearchScreen)
    await pilot.press("slash")
    screen.query_one("#query", Input).value = ""
    await pilot.press(*text, "enter")
    await settle(pilot)
    return screen


def hits(screen: SearchScreen) -> list[str]:
    table = screen.query_one("#list", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def status(screen: SearchScreen) -> str:
    return text_of(screen.query_one("#status", Static))


def test_a_query_line_is_words_then_an_expression() -> None:
    assert parse_query("") == Query()
    assert parse_query("tag:reviewed type:model") == Query(type="model", tags=("reviewed",))
    assert parse_query("project:p metadata.eval.accuracy > 0.9 and tag:a tag:b") == Query(
        project="p", tags=("a", "b"), where="metadata.eval.accuracy > 0.9"
    )
    assert parse_query("x > 1 and tag:a and name ~ res") == Query(tags=("a",), where="x > 1 and name ~ res")
    assert parse_query("tag:a and x > 1").where == "x > 1"
    assert parse_query("description ~ 'tag:x  y' name:m") == Query(name="m", where="description ~ 'tag:x  y'")
    assert parse_query("created_at > 2024-01-01T10:00").where == "created_at > 2024-01-01T10:00"  # no word
    for bad, said in [("tag:", "needs a value"), ("name:a name:b", "given twice"), ("x > 1 or tag:a", "'or'")]:
        with pytest.raises(ValueError, match=said):
            parse_query(bad)


def test_the_data_layer_searches_into_plain_values(found_store: str) -> None:
    data = DataSource(found_store)
    found = data.search("type:model metadata.eval.accuracy > 0.5")
    assert not_plain(found) == [] and found.error == ""
    assert [h.qualified_name for h in found.hits] == ["demo/model:v1", "demo/model:v0"]  # newest first
    assert found.hits[1].tags == ("reviewed",) and found.hits[1].metadata == {"eval": {"accuracy": 0.8}}
    assert data.search("nope == 1").error.startswith("where: no column 'nope'")
    assert "given twice" in data.search("type:a type:b").error
    assert "invalid project" in data.search("project:Bad!").error
    assert brief({"eval": {"accuracy": 0.8}, "n": 3, "s": "x"}) == "eval.accuracy=0.8 n=3 s=x"
    assert brief({"k": "y" * 60}, width=10) == "k=yyyyyyy…"


async def test_search_by_metadata_and_by_tag_then_open_a_hit(found_store: str) -> None:
    app = BrowserApp(found_store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "ctrl+f")  # from the first screen, its filter line focused
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert hits(screen) == ["demo/model:v1", "demo/model:v0", "demo/raw:v0"]  # no query: the newest
        assert app.focused is screen.query_one("#query", Input)

        await search(pilot, "metadata.eval.accuracy > 0.9 and type == 'model'")
        assert hits(screen) == ["demo/model:v1"]
        table = screen.query_one("#list", DataTable)
        assert cells(table.get_row_at(0))[1:] == ["model", cells(table.get_row_at(0))[2], "", "eval.accuracy=0.95"]
        assert app.focused is table  # the query was sent: the results take the keys
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, VersionScreen) and app.screen.ref == "demo/model:v1"

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await search(pilot, "tag:reviewed")
        assert hits(screen) == ["demo/model:v0"]
        assert cells(table.get_row_at(0))[3:] == ["reviewed", "eval.accuracy=0.8"]
        await search(pilot, "type:dataset")
        assert hits(screen) == ["demo/raw:v0"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, VersionScreen) and app.screen.ref == "demo/raw:v0"

        app.go(dict(app.goto_targets_cached)["search versions"])  # the palette's way there
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen) and app.screen is not screen


async def test_a_bad_query_or_no_hit_is_said_on_the_screen(found_store: str) -> None:
    app = BrowserApp(found_store)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await search(pilot, "metadata.eval.accuracy >")
        assert app.screen is screen and app.is_running
        assert "bad query: where: the filter ends where a value after metadata.eval.accuracy > was expected" in (
            status(screen)
        )
        assert hits(screen) == [] and app.focused is screen.query_one("#query", Input)  # to fix it
        await search(pilot, "nope == 1")
        assert "no column 'nope'" in status(screen)
        await search(pilot, "type:model or tag:reviewed")
        assert "cannot follow 'or'" in status(screen)
        await search(pilot, "tag:never-given")
        assert hits(screen) == [] and "no version matches tag:never-given" in status(screen)
        await search(pilot, "tag:reviewed")
        assert hits(screen) == ["demo/model:v0"] and status(screen) == ""

        await pilot.press("escape")  # clears the query: the newest versions again
        await settle(pilot)
        assert app.screen is screen and len(hits(screen)) == 3
        await pilot.press("escape")  # then goes back
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)


async def test_the_version_screen_shows_alias_moves_and_the_last_annotation(
    found_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = afs.open_store(found_store)
    train = next(r for r in store.runs("demo") if r.job_type == "train")
    app = BrowserApp(found_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await push(pilot, VersionScreen("demo/model:v0"))
        summary = text_of(screen.query_one("#summary", Static))
        assert "tags: reviewed" in summary and 'metadata: {"eval": {"accuracy": 0.8}}' in summary  # as annotated
        assert "annotated: once, last " in summary
        history = [line.split("  ") for line in summary.split("alias history:\n", 1)[1].splitlines()]
        assert [(h[1], h[3]) for h in history] == [
            ("best", "set on v0"),
            ("best", "moved v0 → v1"),
            ("best", "moved v1 → v0"),
        ]
        assert history[0][-1] == f"run {train.id}" and len(history[1]) == 4  # set_alias: no run

        screen = await push(pilot, VersionScreen("demo/model:v1"))  # latest only: no alias to trace
        summary = text_of(screen.query_one("#summary", Static))
        assert "alias history" not in summary and "annotated:" not in summary

    monkeypatch.setattr("tui.screens.version.HISTORY", 2)
    app = BrowserApp(found_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await push(pilot, VersionScreen("demo/model:v0"))
        history = text_of(screen.query_one("#summary", Static)).split("alias history:\n", 1)[1].splitlines()
        assert history[0].strip() == "best  1 earlier moves" and len(history) == 3


def fixed_times(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the store writes from here on is dated 2026-12-01 10:00, 10:01, ..., by alice."""
    minutes = itertools.count()
    monkeypatch.setattr(afs.codec, "utcnow", lambda: f"2026-12-01T10:{next(minutes):02d}:00.000000+00:00")
    monkeypatch.setenv("LOGNAME", "alice")


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param([["ctrl+f"], [*"project:golden metadata.rows > 1", "enter"]], id="search"),
        pytest.param([["enter"], ["enter"], ["enter"]], id="version"),
    ],
)
def test_snapshots(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, steps: list[list[str]]) -> None:
    """A search, and a version with its alias removed and set again and a tag added."""
    url = snapshot_store(tmp_path)
    fixed_times(monkeypatch)
    store = afs.open_store(url)
    store.remove_alias("golden/ds:v0", "best")
    store.set_alias("golden/ds:v0", "best")
    store.artifact("golden/ds:v0").annotate(add_tags=["reviewed"])
    store.reindex()  # the golden store was logged before the search index

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        for keys in steps:  # each step's keys at once, then what they started is waited for
            await pilot.press(*keys)
            await settle(pilot)

    app = BrowserApp(url, label="golden store")
    assert snap_compare(app, run_before=run_before, terminal_size=(110, 30))
