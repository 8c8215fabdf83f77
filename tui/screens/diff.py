"""Diff of two versions: entries added, removed, changed; table schema and row counts."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ..format import lines, styled
from ..views import DiffView
from .base import BaseScreen


class DiffScreen(BaseScreen[DiffView]):
    where = "diff"

    def __init__(self, a: str, b: str) -> None:
        super().__init__(["diff", f"{a} → {b.rsplit(':', 1)[-1]}"])
        self.a, self.b = a, b

    def body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="diff")

    def fetch(self) -> DiffView:
        return self.data.diff(self.a, self.b)

    def show(self, d: DiffView) -> None:
        rows: list[Text | str] = [styled((d.a, "b"), " → ", (d.b, "b")), ""]
        rows += [styled((f"+ {p}", "green")) for p in d.added]
        rows += [styled((f"- {p}", "red")) for p in d.removed]
        rows += [styled((f"~ {p}", "yellow")) for p in d.changed]
        rows += [f"    {n}" for n in d.notes]
        if not (d.added or d.removed or d.changed):
            rows.append("no differences in content")
        rows.append(f"\n{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed")
        self.query_one("#diff", Static).update(lines(*rows))
