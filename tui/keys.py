"""The browser's one key map: every key, what it does, in words, and where it works.

Screens take their bindings from here (:func:`bindings`), the help screen lists them, and the
README's table is this one, so a key means one thing everywhere and the help cannot drift
from what the keys do.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

__all__ = ["KEYS", "Key", "bindings", "for_screen", "places", "words"]


@dataclass(frozen=True)
class Key:
    """``keys`` (Textual's names, comma-separated) run ``action``, described as ``text``, on
    the screens of ``where`` ("everywhere", "lists", or screens' names, comma-separated)."""

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
    Key("ctrl+f", "search", "Search versions by tag, type, name, metadata", "everywhere", "Search"),
    Key("slash", "filter", "Filter the list", "lists", "Filter"),
    Key("u", "runs", "Runs of this project", "artifacts", "Runs"),
    Key("m", "mark", "Mark a version; on another, compare the two", "versions", "Mark"),
    Key("d", "diff", "Diff with the marked version, else the previous one", "versions", "Diff"),
    Key("l", "lineage", "Lineage of this version", "version", "Lineage"),
    Key("c", "copy_name", "Copy project/name:version", "version", "Copy name"),
    Key("p", "snippet", "Python snippet to use this version", "version", "Snippet"),
    Key("a", "alias", "Set an alias on this version (asks first)", "versions, version", "Alias"),
    Key("A", "unalias", "Remove an alias of this version (asks first)", "versions, version"),
    Key("D", "download", "Download this version into a folder (asks first)", "versions, version", "Download"),
    Key("delete", "delete", "Delete this version (asks first)", "versions, version"),
    Key("o", "open_linked", "Open the version this registry version links to", "version"),
    Key("y", "copy_path", "Copy the file's path in the version", "version, file"),
    Key("D", "download", "Download this file into a folder (asks first)", "file", "Download"),
    Key("o", "open", "Open the node under the cursor", "lineage", "Open"),
    Key("left,h", "column(-1)", "Column cursor left", "table"),
    Key("right,l", "column(1)", "Column cursor right", "table"),
    Key("s", "sort", "Sort by the cursor's column (again: the other way)", "table", "Sort"),
    Key(
        "slash",
        "filter",
        "Filter rows: label == 1 and stars < 2, review ~ great, note is null",
        "table",
        "Filter",
    ),
    Key("x", "clear", "Clear sort and filter", "table", "Clear"),
    Key("slash", "edit_query", "Edit the query (tag:reviewed type:model metadata.acc > 0.9)", "search", "Query"),
)

APP_KEYS = (
    ("q", "Quit"),
    ("t", "Light or dark colours"),
    ("ctrl+p", "Go to a project, artifact, version or the registry"),
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
    "left": "←",
    "right": "→",
    "ctrl+p": "Ctrl+P",
    "ctrl+f": "Ctrl+F",
    "delete": "Del",
}


def words(keys: str) -> str:
    """``"question_mark"`` as ``"?"``, ``"g,home"`` as ``"g / Home"``."""
    return " / ".join(_WORDS.get(k, k) for k in keys.split(","))


def bindings(where: str) -> list[BindingType]:
    """The bindings of the keys that work on ``where``."""
    return [Binding(k.keys, k.action, k.short or k.text, show=bool(k.short)) for k in KEYS if where in places(k)]


def places(key: Key) -> list[str]:
    """The screens (or "everywhere", "lists") where ``key`` works."""
    return [p.strip() for p in key.where.split(",")]


def for_screen(where: str) -> list[tuple[str, str]]:
    """(keys in words, what they do) for the help of a screen: its own keys first, then the
    list keys where it is a list, then those that work everywhere, then the app's."""
    where_all = [where, *(["lists"] if where in LISTS else []), "everywhere"]
    rows = [(words(k.keys), k.text) for place in where_all for k in KEYS if place in places(k)]
    return rows + [(words(k), text) for k, text in APP_KEYS]


LISTS = ("projects", "registry", "artifacts", "versions", "runs")
