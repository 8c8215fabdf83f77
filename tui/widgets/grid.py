"""A read-only grid over a table's rows, loading its row groups on demand.

Only the rows on screen are rendered (Textual's line API), and only the row groups that hold
them are asked of the :class:`~tui.pager.TablePager`, in a worker thread, with the neighbours
prefetched; the pager keeps a few, so a table of any length opens at once and scrolls in
bounded memory.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..pager import TablePager

MAX_WIDTH = 80


def _fmt(value: object) -> str:
    if value is None:
        return "∅"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace("\n", "⏎")


def column_widths(source: TablePager) -> list[int]:
    """Column widths from names, types, the recorded longest text values and the Parquet
    min/max statistics: never from the first rows of a stored table, so a long value at the
    end is not cut (rows in memory, from a sort or filter, are measured)."""
    out = []
    for c in source.columns:
        w = max(len(c.name), len(c.type))
        if c.name in source.lengths:
            w = max(w, source.lengths[c.name])
        elif c.name in source.stats:
            lo, hi = source.stats[c.name]
            w = max(w, len(_fmt(lo)), len(_fmt(hi)))
        elif sample := source.sample(c.name):
            w = max(w, *(len(_fmt(v)) for v in sample))
        else:
            w = max(w, 12)
        out.append(min(MAX_WIDTH, w))
    return out


class ParquetGrid(ScrollView, can_focus=True):
    """Rows of a :class:`~tui.pager.TablePager`; the first line is a fixed header of names and
    types."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "Top", show=False),
        Binding("end,G", "jump(-1)", "Bottom", show=False),
        Binding("left,h", "scroll_left", "Left", show=False),
        Binding("right,l", "scroll_right", "Right", show=False),
    ]
    cursor_row: reactive[int] = reactive(0)

    class Loaded(Message):
        """A row group arrived."""

    def __init__(
        self, source: TablePager, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.source = source
        self.widths = column_widths(source)
        self._pending: set[int] = set()
        total = sum(w + 3 for w in self.widths) + 12
        self.virtual_size = Size(total, source.num_rows + 2)

    # -------------------------------------------------------------- loading
    def _request(self, group: int) -> None:
        if group in self._pending or not 0 <= group < len(self.source.groups):
            return
        self._pending.add(group)
        self._load(group)

    @work(thread=True, group="row-groups")
    def _load(self, group: int) -> None:
        try:
            self.source.load(group)
        finally:
            self._pending.discard(group)
        self.app.call_from_thread(self.refresh)

    # -------------------------------------------------------------- drawing
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            cells = ["row".rjust(10)] + [
                c.name.ljust(w)[:w] for c, w in zip(self.source.columns, self.widths, strict=True)
            ]
            return self._strip(" │ ".join(cells), scroll_x, width, Style(bold=True, underline=True))
        if y == 1:
            cells = [" " * 10] + [c.type.ljust(w)[:w] for c, w in zip(self.source.columns, self.widths, strict=True)]
            return self._strip(" │ ".join(cells), scroll_x, width, Style(dim=True, italic=True))
        index = scroll_y + y - 2
        if index >= self.source.num_rows:
            return Strip.blank(width)
        row = self.source.row(index)
        if row is None:
            g = self.source.group_of(index)
            self._request(g)
            self._request(g + 1)  # prefetch the next group while this one loads
            text = f"{index:>10} │ loading row group {g + 1}/{len(self.source.groups)}…"
            return self._strip(text, scroll_x, width, Style(dim=True))
        cells = [f"{index:>10}"]
        for value, w in zip(row, self.widths, strict=True):
            s = _fmt(value)
            s = s if len(s) <= w else s[: w - 1] + "…"
            cells.append(s.rjust(w) if isinstance(value, int | float) else s.ljust(w))
        style = Style(reverse=True) if index == self.cursor_row else Style()
        return self._strip(" │ ".join(cells), scroll_x, width, style)

    def _strip(self, text: str, scroll_x: int, width: int, style: Style) -> Strip:
        return Strip([Segment(text, style)]).crop(scroll_x, scroll_x + width).extend_cell_length(width)

    # -------------------------------------------------------------- keys
    def _page_rows(self) -> int:
        return max(1, self.size.height - 2)

    def watch_cursor_row(self, old: int, new: int) -> None:
        top = self.scroll_offset.y
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + self._page_rows():
            self.scroll_to(y=new - self._page_rows() + 1, animate=False)
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        self.cursor_row = min(max(0, self.cursor_row + delta), max(0, self.source.num_rows - 1))

    def action_page(self, delta: int) -> None:
        self.action_cursor(delta * self._page_rows())

    def action_jump(self, where: int) -> None:
        self.cursor_row = 0 if where == 0 else max(0, self.source.num_rows - 1)
