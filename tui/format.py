"""How the browser shows values: sizes, times, and store text kept out of Rich markup.

Everything read from a store (descriptions, metadata, paths, config, error messages) is text,
never markup: a description holding ``[/]`` would crash a screen, ``[link=...]`` or
``[@click=...]`` would be acted on, and ``"[WIP] model"`` would show as ``" model"``. Escaping
cannot be trusted to cover every tag the markup parser knows, so store text never enters a
markup string: screens build :class:`~rich.text.Text` from parts with :func:`styled` and
:func:`lines`, and hand single values to widgets through :func:`plain`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import overload

from rich.text import Text

__all__ = ["Cell", "Shown", "brief", "human", "lines", "plain", "plural", "styled", "when"]

Part = str | tuple[str, str] | Text
Cell = str | int | float  # a value in a list or a table
Shown = Text | int | float  # a cell as a widget gets it


def styled(*parts: Part) -> Text:
    """One line from parts: a string is shown as it is, ``(text, style)`` in that style, a
    Text as it was built."""
    return Text.assemble(*(p if isinstance(p, tuple | Text) else (str(p), "") for p in parts))


def lines(*rows: Text | str) -> Text:
    """Rows (Text or plain strings) one below the other."""
    return Text("\n").join(r if isinstance(r, Text) else Text(r) for r in rows)


@overload
def plain(value: str) -> Text: ...
@overload
def plain(value: int | float) -> int | float: ...
def plain(value: Cell) -> Shown:
    """A table cell or tree label shown as it is (strings become Text; numbers pass through)."""
    return Text(value) if isinstance(value, str) else value


def human(n: int) -> str:
    """A size in bytes, in binary units: ``1.5 KiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


def plural(n: int, word: str) -> str:
    """``1 row group``, ``2 row groups``, ``1,000 rows``."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def when(iso: str | None) -> str:
    """An ISO time to the second, without the ``T``; empty for None."""
    return (iso or "")[:19].replace("T", " ")


def brief(mapping: Mapping[str, object], width: int = 48) -> str:
    """Metadata on one line: ``{"eval": {"acc": 0.9}, "lr": 0.1}`` as ``eval.acc=0.9 lr=0.1``,
    cut to ``width`` characters with ``…``."""
    text = " ".join(f"{k}={v if isinstance(v, str) else json.dumps(v, default=str)}" for k, v in _leaves(mapping))
    return text if len(text) <= width else text[: width - 1] + "…"


def _leaves(mapping: Mapping[str, object], prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for k, v in mapping.items():
        if isinstance(v, Mapping) and v:
            out += _leaves(v, f"{prefix}{k}.")
        else:
            out.append((f"{prefix}{k}", v))
    return out
