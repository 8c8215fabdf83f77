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
        w = max(len(c.shown) + 2, len(c.type))  # room for a sort arrow
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
        Binding("left,h", "column(-1)", "Column left", show=False),
        Binding("right,l", "column(1)", "Column right", show=False),
    ]
    cursor_row: reactive[int] = reactive(0)
    cursor_col: reactive[int] = reactive(0)  # the column the table screen sorts by

    class Loaded(Message):
        """A row group arrived."""

    def __init__(
        self,
        source: TablePager,
        *,
        sort: tuple[str, bool] | None = None,
        column: int = 0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``sort`` (a column's name, descending) marks its header; ``column`` is where the
        column cursor starts."""
        super().__init__(name=name, id=id, classes=classes)
        self.source = source
        self.sort = sort
        self.widths = column_widths(source)
        self._pending: set[int] = set()
        total = sum(w + 3 for w in self.widths) + 12
        self.virtual_size = Size(total, source.num_rows + 2)
        self.set_reactive(ParquetGrid.cursor_col, min(max(0, column), max(0, len(self.widths) - 1)))

    @property
    def column(self) -> str | None:
        """The name (in the file) of the column under the column cursor."""
        return self.source.columns[self.cursor_col].name if self.source.columns else None

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
        if y in (0, 1):
            return self._header(y, scroll_x, width)
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

    def _header(self, y: int, scroll_x: int, width: int) -> Strip:
        """Names (the sorted one with its arrow), then types; the cursor's column reversed."""
        base = Style(bold=True, underline=True) if y == 0 else Style(dim=True, italic=True)
        segments = [Segment("row".rjust(10) if y == 0 else " " * 10, base)]
        for i, (c, w) in enumerate(zip(self.source.columns, self.widths, strict=True)):
            text = c.type
            if y == 0:
                arrow = "" if self.sort is None or self.sort[0] != c.name else (" ↓" if self.sort[1] else " ↑")
                text = c.shown + arrow
            style = base + Style(italic=True, color="green") if c.index else base
            if i == self.cursor_col:
                style += Style(reverse=True)
            segments += [Segment(" │ ", base), Segment(text.ljust(w)[:w], style)]
        return Strip(segments).crop(scroll_x, scroll_x + width).extend_cell_length(width)

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

    def action_column(self, delta: int) -> None:
        self.cursor_col = min(max(0, self.cursor_col + delta), max(0, len(self.widths) - 1))

    def watch_cursor_col(self, old: int, new: int) -> None:
        """Scroll sideways to keep the cursor's column in view."""
        start = 13 + sum(w + 3 for w in self.widths[:new])  # after the row numbers and a " │ "
        end = start + (self.widths[new] if self.widths else 0)
        x = self.scroll_offset.x
        if new == 0 or start < x:
            self.scroll_to(x=0 if new == 0 else start - 3, animate=False)
        elif end > x + self.size.width:
            self.scroll_to(x=end - self.size.width, animate=False)
        self.refresh()
