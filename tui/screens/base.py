"""Screen plumbing shared by every screen: breadcrumbs, background loading, errors with retry."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static, Tree
from textual.worker import get_current_worker

from ..data import DataSource
from ..format import Cell, Shown, plain, styled
from ..keys import bindings
from ..messages import OpenHelp, OpenSearch

T = TypeVar("T")
Row = tuple[str, tuple[Cell, ...]]  # a list row: its key, and its cells


class BaseScreen(Screen[None], Generic[T]):
    """Loads its data in a worker thread (so a slow bucket never freezes the UI), then shows it.

    Subclasses implement ``fetch`` (runs in a thread, may do store I/O) and ``show`` (runs on the
    UI thread with what ``fetch`` returned). Errors appear in the status line with a retry key.
    """

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("everywhere"), Binding("backspace", "back", "Back", show=False)]
    where = "everywhere"  # this screen's name in the key map (tui.keys)

    def __init__(self, crumbs: list[str]) -> None:
        super().__init__()
        self.crumbs = crumbs

    @property
    def data(self) -> DataSource:
        data = getattr(self.app, "data", None)
        if not isinstance(data, DataSource):
            raise TypeError("screens run inside BrowserApp, which holds the DataSource")
        return data

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(plain(" › ".join(self.crumbs)), id="crumbs")
        with Vertical(id="body"):
            yield from self.body()
        yield Static("loading…", id="status")
        yield Footer()

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.set_status("loading…")
        self._fetch()

    @work(thread=True, exclusive=True, group="fetch")
    def _fetch(self) -> None:
        worker = get_current_worker()  # a newer load cancels this one: then it shows nothing
        try:
            result = self.fetch()
        except Exception as e:  # shown to the user; the app keeps running
            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, e)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, result)  # type: ignore[arg-type]

    async def _show(self, result: T) -> None:
        self.set_status("")
        shown = self.show(result)
        if shown is not None:
            await shown

    def _failed(self, error: Exception) -> None:
        self.set_status(styled(("error:", "b red"), f" {type(error).__name__}: {error}  — press r to retry"))

    def fetch(self) -> T:
        """What the screen shows, read from the store (runs in a worker thread)."""
        raise NotImplementedError

    def show(self, result: T) -> Awaitable[None] | None:
        """Display ``result``; may be a coroutine function."""
        return None

    def set_status(self, text: str | Text) -> None:
        """Show ``text`` under the screen (a plain string is ours, and may hold markup)."""
        status = self.query_one("#status", Static)
        status.update(text)
        status.display = bool(text)

    def action_move(self, delta: int) -> None:
        """vim-style j/k in whichever list has the focus."""
        focused = self.focused
        if isinstance(focused, DataTable | Tree):
            (focused.action_cursor_down if delta > 0 else focused.action_cursor_up)()

    def action_edge(self, last: bool) -> None:
        """g/G: the first or last row of whichever list has the focus."""
        focused = self.focused
        if isinstance(focused, DataTable):
            (focused.action_scroll_bottom if last else focused.action_scroll_top)()
        elif isinstance(focused, Tree):
            (focused.action_scroll_end if last else focused.action_scroll_home)()

    def clear_filter(self) -> bool:
        """Clear an active filter; False if there was none (then Esc goes back)."""
        return False

    def action_back(self) -> None:
        if self.clear_filter():
            return
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def action_help(self) -> None:
        self.post_message(OpenHelp(self.where))

    def action_search(self) -> None:
        self.post_message(OpenSearch())


class ListScreen(BaseScreen[list[Row]]):
    """A screen showing one short list as a table, with ``/`` to filter it."""

    BINDINGS = bindings("lists")
    columns: tuple[str, ...] = ()

    def __init__(self, crumbs: list[str]) -> None:
        super().__init__(crumbs)
        self.rows: list[Row] = []

    def body(self) -> ComposeResult:
        table: DataTable[Shown] = DataTable(cursor_type="row", zebra_stripes=True, id="list")
        yield table
        filt = Input(placeholder="filter…", id="filter")
        filt.display = False
        yield filt

    def on_mount(self) -> None:
        table = self.query_one("#list", DataTable)
        table.add_columns(*self.columns)
        super().on_mount()

    def show(self, result: list[Row]) -> None:
        self.rows = result
        self.render_rows("")
        self.query_one("#list", DataTable).focus()

    def render_rows(self, needle: str) -> None:
        table = self.query_one("#list", DataTable)
        table.clear()
        needle = needle.lower()
        for key, cells in self.rows:
            if needle and not any(needle in str(c).lower() for c in cells):
                continue
            table.add_row(*(plain(c) for c in cells), key=key)
        if not table.row_count:
            self.set_status("nothing to show" if not needle else f"nothing matches {needle!r}")
        else:
            self.set_status("")

    def action_filter(self) -> None:
        filt = self.query_one("#filter", Input)
        filt.display = True
        filt.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.render_rows(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.query_one("#list", DataTable).focus()

    def clear_filter(self) -> bool:
        filt = self.query_one("#filter", Input)
        if not filt.display and not filt.value:
            return False
        filt.value = ""
        filt.display = False
        self.render_rows("")
        self.query_one("#list", DataTable).focus()
        return True

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open(event.row_key.value)

    def open(self, key: str) -> None:
        pass
