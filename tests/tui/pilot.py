"""Helpers the browser's tests share."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static


async def settle(pilot: Any) -> None:
    """Wait until every worker has finished and the screen has been redrawn."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def text_of(widget: Static) -> str:
    return str(widget.render())


def cells(row: list[Any]) -> list[Any]:
    """A table row's cells as their text (strings are shown as Text, never parsed as markup)."""
    return [c if isinstance(c, int | float) else str(c) for c in row]


async def push(pilot: Any, screen: Any) -> Any:
    """Open ``screen`` once the app has started, and wait until it has shown its data."""
    await settle(pilot)
    pilot.app.push_screen(screen)
    await settle(pilot)
    return pilot.app.screen
