"""Screen plumbing: what a screen's background loads show."""

from __future__ import annotations

from threading import Event

from tui.app import BrowserApp
from tui.screens.base import BaseScreen

from .pilot import settle


class Slow(BaseScreen[str]):
    """Its first load waits until ``release`` is set; the others return at once."""

    def __init__(self) -> None:
        super().__init__(["slow"])
        self.started, self.release = Event(), Event()
        self.loads = 0
        self.shown: list[str] = []

    def fetch(self) -> str:
        n, self.loads = self.loads, self.loads + 1
        if n == 0:
            self.started.set()
            self.release.wait(10)
        return f"load {n}"

    def show(self, result: str) -> None:
        self.shown.append(result)


async def test_a_load_overtaken_by_a_newer_one_shows_nothing(pipeline_store: str) -> None:
    """A reload (or a new search) while a slow read is under way: the older answer, arriving
    last, never replaces the newer one."""
    app = BrowserApp(pipeline_store)
    async with app.run_test() as pilot:
        await settle(pilot)
        screen = Slow()
        app.push_screen(screen)
        while not screen.started.is_set():
            await pilot.pause(0.01)
        screen.action_reload()
        await pilot.pause(0.2)
        screen.release.set()
        await settle(pilot)
        assert screen.shown == ["load 1"]
