"""The table screen: sort by the column under the cursor, filters with conditions, and what
the header says of the rows shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from textual.widgets import Input, Static

import artifactfs as afs
import tui.pager
from tui.app import BrowserApp
from tui.screens.table import TableScreen
from tui.screens.version import VersionScreen
from tui.widgets.grid import ParquetGrid

from .pilot import push, settle, text_of


def reviews() -> pd.DataFrame:
    """12 rows: a string index, a column with nulls, text, a categorical."""
    df = pd.DataFrame(
        {
            "label": [1, 0, 1, None] * 3,
            "stars": [1.5, 3.0, 0.5, 2.0, 4.0, 1.0, 2.5, 0.0, 3.5, 1.0, 0.25, 5.0],
            "review": ["Great", "bad", "great stuff", None] * 3,
            "kind": pd.Categorical(["a", "b", "a", "c"] * 3),
        },
        index=[f"r{i:02}" for i in range(12)],
    )
    return df


def table_store(tmp_path: Path, df: pd.DataFrame) -> str:
    url = str(tmp_path / "store")
    with afs.init(project="shop", store=url) as run:
        art = afs.Artifact("reviews", type="dataset")
        art.add(afs.Table(dataframe=df), "reviews")
        run.log_artifact(art)
    return url


def shown(grid: ParquetGrid) -> list[list[Any]]:
    return [grid.source.row(i) or [] for i in range(grid.source.num_rows)]


async def open_table(app: BrowserApp, pilot: Any) -> TableScreen:
    await push(pilot, VersionScreen("shop/reviews:v0"))
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, TableScreen)
    return app.screen


async def filter_by(pilot: Any, text: str) -> None:
    await pilot.press("slash")
    prompt = pilot.app.screen.query_one("#prompt", Input)
    prompt.value = text  # typed at once: the keys are tested in test_keys_type_a_filter
    await pilot.press("enter")
    await settle(pilot)


async def test_the_index_shows_as_the_index_and_a_categorical_as_category(tmp_path: Path) -> None:
    app = BrowserApp(table_store(tmp_path, reviews()))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_table(app, pilot)
        grid = screen.query_one(ParquetGrid)
        assert [(c.shown, c.type, c.index) for c in grid.source.columns] == [
            ("index", "string", True),
            ("label", "double", False),
            ("stars", "double", False),
            ("review", "string", False),
            ("kind", "category", False),
        ]
        await settle(pilot)
        assert grid.source.row(0) == ["r00", 1.0, 1.5, "Great", "a"]
        header = grid.render_line(0).text
        assert "index" in header and "__index_level_0__" not in header
        assert "category" in grid.render_line(1).text and "dictionary" not in grid.render_line(1).text
        await filter_by(pilot, "index == r03")  # the index filters by the name it is shown by
        assert shown(screen.query_one(ParquetGrid)) == [["r03", None, 2.0, None, "c"]]


async def test_sort_by_the_column_under_the_cursor_and_the_sort_survives_a_new_filter(tmp_path: Path) -> None:
    app = BrowserApp(table_store(tmp_path, reviews()))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_table(app, pilot)
        await pilot.press("right", "right", "s")  # index → label → stars; sort ascending
        await settle(pilot)
        grid = screen.query_one(ParquetGrid)
        assert grid.column == "stars" and grid.sort == ("stars", False)
        assert [r[2] for r in shown(grid)] == sorted(reviews()["stars"])
        assert "stars ↑" in grid.render_line(0).text
        await pilot.press("s")  # the same column again: descending
        await settle(pilot)
        grid = screen.query_one(ParquetGrid)
        assert [r[2] for r in shown(grid)] == sorted(reviews()["stars"], reverse=True)
        await filter_by(pilot, "label == 1 and stars < 2")
        grid = screen.query_one(ParquetGrid)
        assert shown(grid) == [
            ["r00", 1.0, 1.5, "Great", "a"],
            ["r02", 1.0, 0.5, "great stuff", "a"],
            ["r10", 1.0, 0.25, "great stuff", "a"],
        ]
        assert grid.column == "stars"  # the column cursor stays where it was
        note = text_of(screen.query_one("#derived", Static))
        assert "filter: label == 1 and stars < 2" in note and "sorted by stars descending" in note
        assert "3 of 12 rows match" in note
        await pilot.press("left", "left", "s")  # sort by the index now; the filter stays
        await settle(pilot)
        assert [r[0] for r in shown(screen.query_one(ParquetGrid))] == ["r00", "r02", "r10"]
        await pilot.press("escape")  # Esc clears the filter first; the sort stays
        await settle(pilot)
        assert isinstance(app.screen, TableScreen)
        assert [r[0] for r in shown(screen.query_one(ParquetGrid))] == sorted(reviews().index)
        await pilot.press("x")  # x clears the sort too
        await settle(pilot)
        assert screen.query_one(ParquetGrid).sort is None
        assert not screen.query_one("#derived", Static).display


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("review ~ great", ["r00", "r02", "r04", "r06", "r08", "r10"]),  # contains, any case
        ("review !~ great", ["r01", "r05", "r09"]),  # a null neither contains nor lacks it
        ("review is null", ["r03", "r07", "r11"]),
        ("label is not null and kind == b", ["r01", "r05", "r09"]),
        ("kind = 'c' or stars >= 4", ["r03", "r04", "r07", "r11"]),
        ("not (label == 1) and stars > 2.5", ["r01", "r11"]),  # a missing label is not 1
        ('review == "great stuff"', ["r02", "r06", "r10"]),
    ],
)
async def test_filters_with_several_conditions_text_and_nulls(tmp_path: Path, text: str, index: list[str]) -> None:
    app = BrowserApp(table_store(tmp_path, reviews()))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_table(app, pilot)
        await filter_by(pilot, text)
        assert [r[0] for r in shown(screen.query_one(ParquetGrid))] == index


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("labl == 1", "no column 'labl'"),
        ("label == great", "label holds double values: 'great' is not one"),
        ("label == 1 and", "the filter ends where a column name was expected"),
        ("(label == 1", "the filter ends where a closing parenthesis was expected"),
        ("label 1", "expected an operator after 'label'"),
    ],
)
async def test_a_bad_filter_says_what_is_wrong_and_keeps_the_rows(tmp_path: Path, text: str, error: str) -> None:
    app = BrowserApp(table_store(tmp_path, reviews()))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_table(app, pilot)
        await filter_by(pilot, text)
        assert error in text_of(screen.query_one("#status", Static))
        assert screen.query_one(ParquetGrid).source.num_rows == 12


async def test_keys_type_a_filter(tmp_path: Path) -> None:
    app = BrowserApp(table_store(tmp_path, reviews()))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_table(app, pilot)
        await pilot.press("slash", *"label == 0", "enter")
        await settle(pilot)
        assert [r[0] for r in shown(screen.query_one(ParquetGrid))] == ["r01", "r05", "r09"]


async def test_a_filter_that_keeps_the_first_rows_still_counts_every_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tui.pager, "RESULT_ROWS", 100)
    n = 5000
    df = pd.DataFrame({"i": np.arange(n), "even": np.arange(n) % 2 == 0})
    app = BrowserApp(table_store(tmp_path, df))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_table(app, pilot)
        info = text_of(screen.query_one("#info", Static))
        await filter_by(pilot, "even == true")
        grid = screen.query_one(ParquetGrid)
        assert grid.source.num_rows == 100 and grid.source.row(99) == [198, True]
        note = text_of(screen.query_one("#derived", Static))
        assert "2,500 of 5,000 rows match" in note and "showing the first 100" in note
        assert "5,000 rows" in info  # the table's total stays in the title
        await pilot.press("s")  # sorted by i ascending: the top 100 of the 2,500
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        grid = screen.query_one(ParquetGrid)
        assert grid.source.row(0) == [4998, True] and grid.source.num_rows == 100
        assert "showing the top 100" in text_of(screen.query_one("#derived", Static))


def test_snapshot_of_a_sorted_filtered_table(snap_compare: Any, tmp_path: Path) -> None:
    url = table_store(tmp_path, reviews())

    async def run_before(pilot: Any) -> None:
        await open_table(pilot.app, pilot)
        await pilot.press("right", "right", "s", "s")  # stars, descending
        await settle(pilot)
        await pilot.press("slash", *"label == 1 or review is null", "enter")
        await settle(pilot)

    assert snap_compare(BrowserApp(url, label="reviews store"), run_before=run_before, terminal_size=(110, 30))
