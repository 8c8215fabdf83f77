"""A question asked before anything is written: Enter (or y) says yes, Esc (or n) says no.

With ``value``, the dialog also asks for a line of text (an alias, a folder), shown filled
in; the answer is that text, or None when the user says no.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..format import styled


class Confirm(ModalScreen[str | None]):
    """Answers the text typed (``""`` without a field) on yes, None on no."""

    BINDINGS = [
        Binding("escape", "answer(False)", "Cancel"),
        Binding("n", "answer(False)", "No", show=False),
        Binding("y,enter", "answer(True)", "Yes", show=False),
    ]

    def __init__(self, question: Text | str, *, value: str | None = None, yes: str = "yes") -> None:
        super().__init__()
        self.question, self.value, self.yes = question, value, yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question, id="confirm-question")
            if self.value is not None:
                yield Input(self.value, id="confirm-value")
            keys = "Enter" if self.value is not None else "Enter or y"
            yield Static(styled((f"{keys}: {self.yes}   Esc: cancel", "dim")), id="confirm-keys")

    def on_mount(self) -> None:
        if self.value is not None:
            self.query_one("#confirm-value", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_answer(True)

    def action_answer(self, yes: bool) -> None:
        if not yes:
            self.dismiss(None)
        elif self.value is None:
            self.dismiss("")
        else:
            text = self.query_one("#confirm-value", Input).value.strip()
            if text:
                self.dismiss(text)
