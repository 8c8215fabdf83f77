"""Diff of two versions: entries added, removed, changed; table schema and row counts."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ..format import lines, styled
from .base import BaseScreen


class DiffScreen(BaseScreen):
    def __init__(self, a: str, b: str) -> None:
        super().__init__(["diff", f"{a} → {b.rsplit(':', 1)[-1]}"])
        self.a, self.b = a, b

    def body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="diff")

    def fetch(self) -> Any:
        return self.data.diff(self.data.version(self.a), self.data.version(self.b))

    def show(self, d: Any) -> None:
        rows: list[Any] = [styled((d.a, "b"), " → ", (d.b, "b")), ""]
        rows += [styled((f"+ {p}", "green")) for p in d.added]
        rows += [styled((f"- {p}", "red")) for p in d.removed]
        rows += [styled((f"~ {p}", "yellow")) for p in d.changed]
        rows += [f"    {n}" for n in d.notes]
        if not (d.added or d.removed or d.changed):
            rows.append("no differences in content")
        rows.append(f"\n{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed")
        self.query_one("#diff", Static).update(lines(*rows))
