"""Versions in the browser: compare any two, what used one, previews of row files, and the
actions that write, each asked first."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static

import artifactfs as afs
from tui.app import BrowserApp
from tui.screens.diff import DiffScreen
from tui.screens.file import FileScreen
from tui.screens.lists import VersionsScreen
from tui.screens.version import VersionScreen
from tui.widgets.confirm import Confirm
from tui.widgets.grid import ParquetGrid

from .pilot import push, settle, text_of


@pytest.fixture
def history(tmp_path: Path) -> str:
    """Three versions of config: meta.json changes in each, a binary file in the last."""
    url = str(tmp_path / "store")
    for i in range(3):
        with afs.init(project="p", job_type="prep", store=url) as run:
            art = afs.Artifact("config", type="config")
            with art.new_file("meta.json") as f:
                json.dump({"lr": 0.1 * (i + 1), "epochs": 10, "layers": [64, 64]}, f, indent=2)
            with art.new_file("rows.csv") as f:
                f.write("id,name,score\n" + "".join(f"{j},n{j},{j / 2}\n" for j in range(i + 2)))
            with art.new_file("events.jsonl") as f:
                f.write("".join(json.dumps({"step": j, "loss": 1 / (j + 1)}) + "\n" for j in range(5)))
            if i == 2:
                with art.new_file("w.bin", mode="wb") as f:
                    f.write(bytes(range(256)))
                with art.new_file("scores.tsv") as f:
                    f.write("id\tname\tscore\n0\tn0\t0.0\n1\tn1\t0.5\n")
            run.log_artifact(art, aliases=["best"] if i == 1 else [])
    with afs.init(project="p", job_type="train", store=url) as run:
        run.use_artifact("config:v1")
        out = afs.Artifact("model", type="model")
        with out.new_file("m.txt") as f:
            f.write("weights")
        run.log_artifact(out)
    return url


async def open_versions(app: BrowserApp, pilot: Any) -> VersionsScreen:
    await push(pilot, VersionsScreen("p", "config"))
    assert isinstance(app.screen, VersionsScreen)
    return app.screen


async def test_mark_one_version_then_another_to_compare_them_line_by_line(history: str) -> None:
    app = BrowserApp(history)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_versions(app, pilot)
        await pilot.press("G", "m")  # the oldest, v0, marked
        await settle(pilot)
        table = screen.query_one("#list", DataTable)
        assert str(table.get_row_at(2)[0]) == "● v0"
        await pilot.press("g", "m")  # v2: the two are compared, older first
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen) and (app.screen.a, app.screen.b) == ("p/config:v0", "p/config:v2")
        text = text_of(app.screen.query_one("#diff", Static))
        assert "+ w.bin" in text and "~ meta.json" in text
        assert '-  "lr": 0.1,' in text and '+  "lr": 0.30000000000000004,' in text  # the line diff
        assert "+2,n2,1.0" in text  # rows.csv gained a line
        await pilot.press("escape")
        await settle(pilot)
        assert screen.marked is None and str(table.get_row_at(2)[0]) == "v0"  # the mark is gone
        await pilot.press("down", "m", "m")  # marking the same version again unmarks it
        await settle(pilot)
        assert screen.marked is None and isinstance(app.screen, VersionsScreen)
        await pilot.press("m", "G", "d")  # d on another version compares it with the marked one
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen) and (app.screen.a, app.screen.b) == ("p/config:v0", "p/config:v1")


async def test_a_diff_says_why_it_shows_no_lines(tmp_path: Path) -> None:
    url = str(tmp_path / "store")
    for blob in (b"\x00\x01", b"\x00\x02"):
        with afs.init(project="p", store=url) as run:
            art = afs.Artifact("bin", type="data")
            with art.new_file("x.dat", mode="wb") as f:
                f.write(blob)
            run.log_artifact(art)
    app = BrowserApp(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await push(pilot, VersionsScreen("p", "bin"))
        await pilot.press("d")
        await settle(pilot)
        assert "(binary: not compared line by line)" in text_of(app.screen.query_one("#diff", Static))


async def test_the_version_screen_shows_the_runs_that_used_it(history: str) -> None:
    app = BrowserApp(history)
    async with app.run_test(size=(120, 40)) as pilot:
        await push(pilot, VersionScreen("p/config:v1"))
        summary = text_of(app.screen.query_one("#summary", Static))
        assert "used by: 1 run: " in summary and "(train, finished) → p/model:v0" in summary
        app.push_screen(VersionScreen("p/config:v2"))
        await settle(pilot)
        assert "used by: —" in text_of(app.screen.query_one("#summary", Static))


@pytest.mark.parametrize(
    ("path", "columns"),
    [
        ("rows.csv", ["id", "name", "score"]),
        ("scores.tsv", ["id", "name", "score"]),
        ("events.jsonl", ["step", "loss"]),
    ],
)
async def test_row_files_preview_as_tables(history: str, path: str, columns: list[str]) -> None:
    app = BrowserApp(history)
    async with app.run_test(size=(120, 40)) as pilot:
        await push(pilot, FileScreen("p/config:v2", path, []))
        grid = app.screen.query_one(ParquetGrid)
        assert [c.name for c in grid.source.columns] == columns
        grid.source.load(0)
        assert grid.source.row(1) == ([1, 0.5] if path == "events.jsonl" else [1, "n1", 0.5])


async def answer(pilot: Any, text: str | None, yes: bool = True) -> None:
    """Answer the question shown: ``text`` typed into its field, then Enter (or Esc)."""
    await settle(pilot)
    assert isinstance(pilot.app.screen, Confirm)
    if text is not None:
        pilot.app.screen.query_one("#confirm-value", Input).value = text
    await pilot.press("enter" if yes else "escape")
    await settle(pilot)


async def test_set_and_remove_an_alias_each_asked_first(history: str) -> None:
    store = afs.open_store(history)
    app = BrowserApp(history)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_versions(app, pilot)
        await pilot.press("a")  # on v2
        await answer(pilot, "prod", yes=False)
        assert "prod" not in store.artifact("p/config:v2").aliases  # Esc: nothing written
        await pilot.press("a")
        await answer(pilot, "prod")
        assert "prod" in store.artifact("p/config:v2").aliases
        table = app.screen.query_one("#list", DataTable)
        assert "prod" in str(table.get_row_at(0)[1])  # the list was read again
        await pilot.press("A")
        await answer(pilot, None)  # the only custom alias, filled in
        assert store.artifact("p/config:v2").aliases == ["latest"]
        await pilot.press("down", "A")  # v1's alias, best, offered; Esc keeps it
        await answer(pilot, None, yes=False)
        assert store.artifact("p/config:v1").aliases == ["best"]


async def test_download_a_version_and_a_file_into_the_folder_asked(history: str, tmp_path: Path) -> None:
    app = BrowserApp(history)
    async with app.run_test(size=(120, 40)) as pilot:
        await push(pilot, VersionScreen("p/config:v2"))
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        shown = app.screen.query_one("#confirm-value", Input).value
        assert shown == os.path.abspath(os.path.join("artifacts", "config-v2"))  # the default, not yet written
        assert not Path(shown).exists() or Path(shown).is_dir()
        await answer(pilot, str(tmp_path / "v2"))
        assert sorted(p.name for p in (tmp_path / "v2").iterdir()) == [
            "events.jsonl",
            "meta.json",
            "rows.csv",
            "scores.tsv",
            "w.bin",
        ]
        await pilot.press("enter")  # events.jsonl, the first entry: its preview
        await settle(pilot)
        assert isinstance(app.screen, FileScreen)
        await pilot.press("D")
        await answer(pilot, str(tmp_path / "one"))
        assert [p.name for p in (tmp_path / "one").iterdir()] == ["events.jsonl"]
        await pilot.press("y")
        await settle(pilot)
        assert app.clipboard == "events.jsonl"


async def test_delete_a_version_names_what_needs_it_and_asks(history: str) -> None:
    store = afs.open_store(history)
    app = BrowserApp(history)
    async with app.run_test(size=(120, 40)) as pilot:
        await push(pilot, VersionsScreen("p", "config"))
        app.push_screen(VersionScreen("p/config:v1"))
        await settle(pilot)
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        question = text_of(app.screen.query_one("#confirm-question", Static))
        assert "best will be removed" in question and "p/model:v0" in question
        await answer(pilot, None, yes=False)
        assert not store.artifact("p/config:v1").deleted
        await pilot.press("delete")
        await answer(pilot, None)
        assert isinstance(app.screen, VersionsScreen)  # the deleted version's screen closed
        versions = [str(r[0]) for r in (app.screen.query_one("#list", DataTable).get_row_at(i) for i in range(2))]
        assert versions == ["v2", "v0"]
        assert [v.version for v in store.versions("p", "config")] == ["v0", "v2"]
