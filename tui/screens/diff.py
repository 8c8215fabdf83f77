"""Diff of two versions: entries added, removed, changed; table schema and row counts."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ..format import lines, styled
from ..views import DiffView
from .base import BaseScreen

_LINE_STYLES = {"+": "green", "-": "red", "@": "cyan"}


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
        texts = {t.path: t for t in d.texts}
        for p in d.changed:
            rows.append(styled((f"~ {p}", "yellow")))
            if p in texts:
                rows += [styled((f"    {line}", _LINE_STYLES.get(line[:1], "dim"))) for line in texts[p].lines]
                if texts[p].note:
                    rows.append(styled((f"    ({texts[p].note})", "dim italic")))
        rows += [f"    {n}" for n in d.notes]
        if not (d.added or d.removed or d.changed):
            rows.append("no differences in content")
        rows.append(f"\n{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed")
        self.query_one("#diff", Static).update(lines(*rows))
