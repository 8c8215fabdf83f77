"""The terminal browser, driven with Textual's Pilot against stores built here."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from textual.widgets import DataTable, Static, Tree

import artifactfs as afs
from tui.app import BrowserApp
from tui.messages import OpenVersion
from tui.screens.diff import DiffScreen
from tui.screens.file import FileScreen
from tui.screens.lineage import LineageScreen
from tui.screens.lists import ArtifactsScreen, ProjectsScreen, RunsScreen, VersionsScreen
from tui.screens.run import RunScreen
from tui.screens.table import TableScreen
from tui.screens.version import VersionScreen
from tui.widgets.grid import ParquetGrid

from .pilot import cells, settle, text_of

GOLDEN = Path(__file__).parent.parent / "golden" / "store-v1"


async def test_walk_every_screen(pipeline_store: str) -> None:
    app = BrowserApp(pipeline_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        assert cells(app.screen.query_one("#list", DataTable).get_row_at(0)) == ["demo"]

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ArtifactsScreen)
        table = app.screen.query_one("#list", DataTable)
        await pilot.press("j")
        assert table.cursor_row == 1
        await pilot.press("k")
        assert table.cursor_row == 0
        rows = [app.screen.query_one("#list", DataTable).get_row_at(i) for i in range(2)]
        assert [cells(r[:3]) for r in rows] == [["dataset", "raw", 1], ["model", "model", 1]]

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, VersionsScreen)
        assert cells(app.screen.query_one("#list", DataTable).get_row_at(0)[:2]) == ["v0", "latest"]

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, VersionScreen)
        summary = text_of(app.screen.query_one("#summary", Static))
        assert "demo/raw:v0" in summary and "raw rows" in summary and "ingest" in summary
        entries = app.screen.query_one("#entries", DataTable)
        assert [str(entries.get_row_at(i)[0]) for i in range(entries.row_count)] == ["notes.md", "rows.parquet"]

        await pilot.press("down", "enter")  # the table
        await settle(pilot)
        assert isinstance(app.screen, TableScreen)
        info = text_of(app.screen.query_one("#info", Static))
        assert "50 rows · 2 columns · 1 row group" in info  # one group: singular
        grid = app.screen.query_one(ParquetGrid)
        assert [(c.shown, c.type) for c in grid.source.columns] == [("x", "int64"), ("s", "string")]
        assert grid.widths[1] == 60  # the long value at the very end sets the width
        await settle(pilot)
        assert grid.source.row(49) == [49, "z" * 60]

        await pilot.press("escape", "up", "enter")  # the text file
        await settle(pilot)
        assert isinstance(app.screen, FileScreen)
        assert "notes.md" in text_of(app.screen.query_one("#info", Static))

        await pilot.press("escape", "l")
        await settle(pilot)
        assert isinstance(app.screen, LineageScreen)
        tree = app.screen.query_one("#lineage", Tree)
        down = tree.root.children[1]
        await settle(pilot)
        labels = [str(c.label) for c in down.children]
        assert any("run train" in lbl for lbl in labels)

        await pilot.press("escape", "escape", "escape", "u")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        runs = app.screen.query_one("#list", DataTable)
        assert runs.row_count == 2
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        assert "lr" in text_of(app.screen.query_one("#summary", Static))


async def test_filter_lists_and_errors_show_in_the_ui(pipeline_store: str) -> None:
    app = BrowserApp(pipeline_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("slash", "m", "o", "d")
        await settle(pilot)
        table = app.screen.query_one("#list", DataTable)
        assert table.row_count == 1 and str(table.get_row_at(0)[1]) == "model"
        app.push_screen(VersionScreen("demo/nope:v0"))
        await settle(pilot)
        status = text_of(app.screen.query_one("#status", Static))
        assert "ArtifactNotFoundError" in status and "retry" in status


async def test_diff_palette_and_lineage_open_their_screens(pipeline_store: str) -> None:
    """Screens ask the app to open the next one: a diff from the versions list, a palette entry
    (a new screen each time it is chosen), a run from the lineage tree."""
    with afs.init(project="demo", job_type="ingest", store=pipeline_store) as run:
        raw = afs.Artifact("raw", type="dataset")
        with raw.new_file("notes.md") as f:
            f.write("# notes\nchanged\n")
        run.log_artifact(raw)
    app = BrowserApp(pipeline_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(VersionsScreen("demo", "raw"))
        await settle(pilot)
        await pilot.press("d")  # newest first: the previous version is below
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen)
        diff = text_of(app.screen.query_one("#diff", Static))
        assert "demo/raw:v0 → demo/raw:v1" in diff and "- rows.parquet" in diff and "~ notes.md" in diff

        latest = dict(app.goto_targets_cached)["demo/raw:latest"]
        app.go(latest)
        await settle(pilot)
        first = app.screen
        assert isinstance(first, VersionScreen) and first.ref == "demo/raw:v1"
        await pilot.press("escape")
        app.go(latest)
        await settle(pilot)
        assert isinstance(app.screen, VersionScreen) and app.screen is not first

        app.go(partial(OpenVersion, "demo/raw:v0"))
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, LineageScreen)
        await pilot.press("down", "down", "o")  # root, "upstream: made from", the run that logged it
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        assert "ingest" in text_of(app.screen.query_one("#summary", Static))


async def test_sort_and_filter_table(pipeline_store: str) -> None:
    app = BrowserApp(pipeline_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(VersionScreen("demo/raw:v0"))
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("s", "s")  # by the column under the cursor (x); again: descending
        await settle(pilot)
        grid = app.screen.query_one(ParquetGrid)
        assert grid.source.num_rows == 50 and grid.source.row(0)[0] == 49
        await pilot.press("slash", *"x < 3", "enter")
        await settle(pilot)
        grid = app.screen.query_one(ParquetGrid)
        assert [grid.source.row(i)[0] for i in range(grid.source.num_rows)] == [2, 1, 0]  # the sort stays


async def test_large_table_reads_a_bounded_number_of_row_groups(tmp_path: Path) -> None:
    from artifactfs.table import ROW_GROUP_SIZE

    n = ROW_GROUP_SIZE * 20  # 2.6 million rows, 20 row groups
    url = str(tmp_path / "store")
    with afs.init(project="big", store=url) as run:
        art = afs.Artifact("t", type="dataset")
        art.add(afs.Table(dataframe=pd.DataFrame({"i": np.arange(n), "f": np.arange(n) / 3})), "big")
        run.log_artifact(art)
    app = BrowserApp(url)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(VersionScreen("big/t:v0"))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        grid = app.screen.query_one(ParquetGrid)
        assert grid.source.num_rows == n
        assert grid.source.loads <= 2  # the first group, and the next one prefetched
        await pilot.press("end")
        await settle(pilot)
        assert grid.source.row(n - 1) == [n - 1, pytest.approx((n - 1) / 3)]
        assert grid.source.loads <= 4
        assert len(grid.source.pages) <= 6  # memory stays bounded however far one scrolls


async def test_partitioned_table_pages_through_its_parts(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(3):  # three parts of 1,000 rows, written by some other engine
        pd.DataFrame({"i": np.arange(i * 1000, (i + 1) * 1000)}).to_parquet(parts / f"p{i}.parquet")
    url = str(tmp_path / "store")
    with afs.init(project="big", store=url) as run:
        art = afs.Artifact("t", type="dataset")
        art.add(afs.Table.from_parquet(parts), "events")
        run.log_artifact(art)
    app = BrowserApp(url)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(VersionScreen("big/t:v0"))
        await settle(pilot)
        rows = app.screen.query_one("#entries").get_row_at(0)
        assert str(rows[0]) == "events/ (3 parts)"
        await pilot.press("enter")
        await settle(pilot)
        grid = app.screen.query_one(ParquetGrid)
        assert grid.source.num_rows == 3000
        await pilot.press("end")
        await settle(pilot)
        assert grid.source.row(2999) == [2999]
        assert grid.source.row(1000) == [1000]  # across a part boundary


def snapshot_store(tmp_path: Path) -> str:
    """A copy of the golden store: fixed ids, digests and times, so snapshots are stable."""
    root = tmp_path / "golden"
    shutil.copytree(GOLDEN, root)
    return str(root)


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("projects", []),
        ("artifacts", ["enter"]),
        ("version", ["enter", "enter", "enter"]),
        ("table", ["enter", "enter", "enter", "down", "enter"]),
        ("lineage", ["enter", "down", "enter", "enter", "l"]),
        ("help", ["enter", "enter", "enter", "question_mark"]),
    ],
)
def test_snapshots(snap_compare: Any, tmp_path: Path, name: str, keys: list[str]) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        for k in keys:
            await pilot.press(k)
            await settle(pilot)

    app = BrowserApp(snapshot_store(tmp_path), label="golden store")
    assert snap_compare(app, run_before=run_before, terminal_size=(110, 30))


HOSTILE = "[WIP] model [/] [link=https://evil.example]click[/link] [@click=app.quit]x[/] [b"


async def test_text_from_a_store_is_shown_as_text_never_markup(tmp_path: Path) -> None:
    """Descriptions, metadata, paths, config and errors from a store are text: ``[/]`` does not
    crash a screen, ``[link=...]`` and ``[@click=...]`` are not acted on, ``[WIP]`` stays."""
    store = str(tmp_path / "store")
    with afs.init(project="p", store=store, config={"note": HOSTILE}) as run:
        art = afs.Artifact("ds", type="dataset", description=HOSTILE, metadata={"tag": HOSTILE})
        with art.new_file("[WIP] notes [/].md") as f:
            f.write(HOSTILE)
        run.log_artifact(art, aliases=["best"])
    with afs.init(project="p", store=store) as failing:
        failing.finish("failed", error=HOSTILE)
    app = BrowserApp(store)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        app.push_screen(VersionScreen("p/ds:v0"))
        await settle(pilot)
        summary = text_of(app.screen.query_one("#summary", Static))
        assert f"description: {HOSTILE}" in summary and HOSTILE in summary
        entries = app.screen.query_one("#entries", DataTable)
        assert str(entries.get_row_at(0)[0]) == "[WIP] notes [/].md"
        await pilot.press("enter")  # the file viewer, its path in the crumbs and the header
        await settle(pilot)
        assert isinstance(app.screen, FileScreen)
        assert "[WIP] notes [/].md" in text_of(app.screen.query_one("#info", Static))
        assert "[WIP] notes [/].md" in text_of(app.screen.query_one("#crumbs", Static))
        app.push_screen(RunScreen("p", failing.id))
        await settle(pilot)
        run_text = text_of(app.screen.query_one("#summary", Static))
        assert f"error: {HOSTILE}" in run_text
        app.push_screen(RunScreen("p", run.id))
        await settle(pilot)
        assert HOSTILE.replace('"', '\\"') in text_of(app.screen.query_one("#summary", Static))
        assert app.is_running  # [@click=app.quit] was never acted on


async def test_versions_list_pages_through_a_long_history(tmp_path: Path) -> None:
    from tests.history import NEWEST_DELETED, grow

    url = str(tmp_path / "store")
    grow(url, tmp_path / "cache", (130, 3, 5), tmp_path / "w.bin")
    app = BrowserApp(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(VersionsScreen("p", "ckpt"))
        await settle(pilot)
        table = app.screen.query_one("#list", DataTable)
        assert table.row_count == VersionsScreen.PAGE  # one page, newest first
        assert str(table.get_row_at(0)[0]) == f"v{130 - NEWEST_DELETED - 1}"
        await pilot.press("ctrl+end")  # onto the last row: the next page is fetched
        await settle(pilot)
        assert table.row_count == 2 * VersionsScreen.PAGE
        await pilot.press("ctrl+end")
        await settle(pilot)
        await pilot.press("ctrl+end")
        await settle(pilot)
        live = len(afs.open_store(url).versions("p", "ckpt"))
        assert table.row_count == live  # every live version, each once, and no more
        assert str(table.get_row_at(live - 1)[0]) == "v0"


async def test_a_large_version_pages_its_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui import data

    monkeypatch.setattr(data, "ENTRIES_PAGE", 40)  # pages of 40 show what pages of 1,000 would
    src = tmp_path / "src"
    for i in range(100):
        (src / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (src / f"d{i % 3}" / f"f{i:03d}.txt").write_text(str(i))
    url = str(tmp_path / "store")
    with afs.init(project="p", store=url) as run:
        art = afs.Artifact("many", type="dataset")
        art.add_dir(src)
        run.log_artifact(art)
    app = BrowserApp(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(VersionScreen("p/many:v0"))
        await settle(pilot)
        table = app.screen.query_one("#entries", DataTable)
        assert table.row_count == 40 and "files: 100" in text_of(app.screen.query_one("#summary", Static))
        for _ in range(3):
            await pilot.press("ctrl+end")  # onto the last row: the next page is fetched
            await settle(pilot)
        paths = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert paths == sorted(p.relative_to(src).as_posix() for p in src.rglob("*.txt"))  # each once, in order


async def test_a_runs_summary_sits_beside_its_lineage(tmp_path: Path) -> None:
    url = str(tmp_path / "store")
    with afs.init(project="p", job_type="train", store=url) as run:
        for step in range(4):
            run.log({"loss": 1 / (step + 1)})
        run.summary["accuracy"] = 0.93
    app = BrowserApp(url)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(RunScreen("p", run.id))
        await settle(pilot)
        shown = text_of(app.screen.query_one("#summary", Static))
        assert "accuracy: 0.93" in shown and "loss: 0.25" in shown and "4 logged steps" in shown


async def test_help_lists_this_screens_keys_first_and_closes_with_esc_or_question_mark(pipeline_store: str) -> None:
    from tui.screens.help import HelpScreen

    app = BrowserApp(pipeline_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "enter")  # an artifact's versions
        await settle(pilot)
        await pilot.press("enter")  # one version
        await settle(pilot)
        assert isinstance(app.screen, VersionScreen)
        depth = len(app.screen_stack)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = [cells(app.screen.query_one("#help-keys", DataTable).get_row_at(i)) for i in range(3)]
        assert rows == [
            ["l", "Lineage of this version"],
            ["c", "Copy project/name:version"],
            ["p", "Python snippet to use this version"],
        ]
        every = [cells(r) for r in (app.screen.query_one("#help-keys", DataTable).get_row_at(i) for i in range(12))]
        assert ["?", "Show or hide this help"] in every and ["Esc", "Clear the filter, else go back"] in every
        assert not any("ctrl+pageup" in k or "question_mark" in k for k, _ in every)  # words, not raw names
        await pilot.press("question_mark")  # ? again closes it: never a stack of them
        await settle(pilot)
        assert isinstance(app.screen, VersionScreen) and len(app.screen_stack) == depth
        await pilot.press("question_mark")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, VersionScreen) and len(app.screen_stack) == depth
        await pilot.press("p")  # the snippet: p, where s was (s sorts on the table screen)
        await settle(pilot)
        assert isinstance(app.screen, VersionScreen)


async def test_lists_go_top_and_bottom_and_esc_clears_the_filter_first(pipeline_store: str) -> None:
    app = BrowserApp(pipeline_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ArtifactsScreen)
        table = app.screen.query_one("#list", DataTable)
        assert table.row_count == 2
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("slash", "m", "o", "d")
        await settle(pilot)
        filtered = table.row_count
        assert filtered == 1  # model
        await pilot.press("enter")  # back to the list, the filter still on
        await pilot.press("escape")  # clears it ...
        await settle(pilot)
        assert isinstance(app.screen, ArtifactsScreen) and table.row_count > filtered
        await pilot.press("escape")  # ... and only then goes back
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)


def test_the_readme_lists_every_key_of_the_key_map() -> None:
    from tui.keys import APP_KEYS, KEYS, words

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for key in KEYS:
        assert f"| `{words(key.keys)}` | {key.text} | {key.where} |" in readme, key
    for k, text in APP_KEYS:
        assert f"| `{words(k)}` | {text} | everywhere |" in readme


def test_one_key_means_one_thing_on_every_screen() -> None:
    from tui.keys import KEYS, LISTS, places

    def screens(where: str) -> set[str]:
        if where == "everywhere":
            return {*LISTS, "version", "table", "lineage", "run", "file", "diff", "search"}
        return set(LISTS) if where == "lists" else {where}

    seen: dict[tuple[str, str], str] = {}
    for key in KEYS:
        for k in key.keys.split(","):
            for screen in {s for place in places(key) for s in screens(place)}:
                assert seen.setdefault((screen, k), key.action) == key.action, (screen, k)
