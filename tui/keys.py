"""The browser's one key map: every key, what it does, in words, and where it works.

Screens take their bindings from here (:func:`bindings`), the help screen lists them, and the
README's table is this one, so a key means one thing everywhere and the help cannot drift
from what the keys do.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

__all__ = ["KEYS", "Key", "bindings", "for_screen", "words"]


@dataclass(frozen=True)
class Key:
    """``keys`` (Textual's names, comma-separated) run ``action``, described as ``text``, on
    the screens of ``where`` ("everywhere", "lists", or a screen's name)."""

    keys: str
    action: str
    text: str
    where: str
    short: str = ""  # its name in the footer ("" : not shown there; the help shows every key)


KEYS = (
    Key("question_mark", "help", "Show or hide this help", "everywhere", "Help"),
    Key("escape", "back", "Clear the filter, else go back", "everywhere", "Back"),
    Key("r", "reload", "Read again from the store", "everywhere", "Reload"),
    Key("j", "move(1)", "Down (also ↓)", "everywhere"),
    Key("k", "move(-1)", "Up (also ↑)", "everywhere"),
    Key("g", "edge(False)", "Top of the list", "everywhere"),
    Key("G", "edge(True)", "Bottom of the list", "everywhere"),
    Key("slash", "filter", "Filter the list", "lists", "Filter"),
    Key("u", "runs", "Runs of this project", "artifacts", "Runs"),
    Key("d", "diff", "Diff with the previous version", "versions", "Diff"),
    Key("l", "lineage", "Lineage of this version", "version", "Lineage"),
    Key("c", "copy_name", "Copy project/name:version", "version", "Copy name"),
    Key("p", "snippet", "Python snippet to use this version", "version", "Snippet"),
    Key("o", "open", "Open the node under the cursor", "lineage", "Open"),
    Key("slash", "filter", "Filter rows (column op value: label == 1)", "table", "Filter"),
    Key("s", "sort", "Sort by a column (its name; -name descending)", "table", "Sort"),
    Key("x", "clear", "Clear sort and filter", "table", "Clear"),
)

APP_KEYS = (
    ("q", "Quit"),
    ("t", "Light or dark colours"),
    ("ctrl+p", "Go to a project, artifact or version"),
    ("enter", "Open what the cursor is on"),
)

_WORDS = {
    "question_mark": "?",
    "escape": "Esc",
    "slash": "/",
    "enter": "Enter",
    "home": "Home",
    "end": "End",
    "up": "↑",
    "down": "↓",
    "ctrl+p": "Ctrl+P",
}


def words(keys: str) -> str:
    """``"question_mark"`` as ``"?"``, ``"g,home"`` as ``"g / Home"``."""
    return " / ".join(_WORDS.get(k, k) for k in keys.split(","))


def bindings(where: str) -> list[BindingType]:
    """The bindings of the keys that work on ``where``."""
    return [Binding(k.keys, k.action, k.short or k.text, show=bool(k.short)) for k in KEYS if k.where == where]


def for_screen(where: str) -> list[tuple[str, str]]:
    """(keys in words, what they do) for the help of a screen: its own keys first, then the
    list keys where it is a list, then those that work everywhere, then the app's."""
    places = [where, *(["lists"] if where in LISTS else []), "everywhere"]
    rows = [(words(k.keys), k.text) for place in places for k in KEYS if k.where == place]
    return rows + [(words(k), text) for k, text in APP_KEYS]


LISTS = ("projects", "artifacts", "versions", "runs")
