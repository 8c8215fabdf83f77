"""The help screen: the keys of the screen it was opened from, then those that work
everywhere, in words. Esc or ``?`` closes it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ..format import plain


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark", "close", "Close help")]

    def __init__(self, where: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.where, self.keys = where, keys

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(plain(f"Keys on the {self.where} screen  (Esc or ? to close)"), id="help-title")
            table: DataTable[str] = DataTable(cursor_type="none", show_cursor=False, id="help-keys")
            yield table

    def on_mount(self) -> None:
        table = self.query_one("#help-keys", DataTable)
        table.add_columns("key", "what it does")
        for keys, text in self.keys:
            table.add_row(keys, text)
        table.focus()

    def action_close(self) -> None:
        self.dismiss()
