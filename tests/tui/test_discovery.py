"""What the version screen says of how a version came to be as it is now: the moves of its
aliases, and its last annotation."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

import artifactfs as afs
from tui.app import BrowserApp
from tui.screens.version import VersionScreen

from .pilot import push, settle, text_of
from .test_app import snapshot_store


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


@pytest.mark.parametrize("steps", [pytest.param([["enter"], ["enter"], ["enter"]], id="version")])
def test_snapshots(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, steps: list[list[str]]) -> None:
    """A version with its alias removed and set again and a tag added."""
    url = snapshot_store(tmp_path)
    fixed_times(monkeypatch)
    store = afs.open_store(url)
    store.remove_alias("golden/ds:v0", "best")
    store.set_alias("golden/ds:v0", "best")
    store.artifact("golden/ds:v0").annotate(add_tags=["reviewed"])

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        for keys in steps:  # each step's keys at once, then what they started is waited for
            await pilot.press(*keys)
            await settle(pilot)

    app = BrowserApp(url, label="golden store")
    assert snap_compare(app, run_before=run_before, terminal_size=(110, 30))
