"""What the search screen's one line of input asks for: ``tag:reviewed type:model`` words,
and the rest a ``where`` expression (``metadata.eval.accuracy > 0.9 and name ~ res``).

The words are ``project:P``, ``type:T``, ``name:N`` and ``tag:T`` (repeated: versions holding
every tag); everything else, in the order typed, is the filter language of search's ``where``.
Quoted text is never read as a word (``description ~ 'tag:x'`` stays in the expression). Pure
text: no store, no screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["QUERY_HELP", "WORDS", "Query", "parse_query"]

WORDS = ("project", "type", "name", "tag")
QUERY_HELP = (
    "project:P type:T name:N tag:T (each tag), then an expression of name, type, description, "
    "created_at, metadata.KEY: == != > >= < <= ~ (contains), is null; and, or, not, ( )"
)

# A run of text up to a space, quoted parts whole: "name == 'a b'" is three runs.
_RUN = re.compile(r"""(?:'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s'"])+""")
_WORD = re.compile(rf"({'|'.join(WORDS)}):([^\s'\"]*)")


@dataclass(frozen=True)
class Query:
    """The arguments of ``store.search`` a query line gives (None: not asked for)."""

    project: str | None = None
    type: str | None = None
    name: str | None = None
    tags: tuple[str, ...] = ()
    where: str | None = None


def parse_query(text: str) -> Query:
    """``text`` as search arguments. Words hold for every hit, so an ``and`` beside one is
    dropped (``metadata.x > 1 and tag:a``); ValueError names a word given twice, one without
    a value, or one after ``or``/``not``."""
    runs = [m.group() for m in _RUN.finditer(text)]
    fields: dict[str, str] = {}
    tags: list[str] = []
    kept: list[str] = []
    drop_and = False  # whether an ``and`` here would join a word to what follows
    for run in runs:
        word = _WORD.fullmatch(run)
        if word is None:
            if not (drop_and and run.lower() == "and"):
                kept.append(run)
            drop_and = False
            continue
        key, value = word.groups()
        if not value:
            raise ValueError(f"{key}: needs a value, as in {key}:{'reviewed' if key == 'tag' else 'x'}")
        if kept and kept[-1].lower() in ("or", "not"):
            raise ValueError(f"{run} holds for every version found: it cannot follow {kept[-1]!r}")
        if key == "tag":
            tags.append(value)
        elif fields.setdefault(key, value) != value:
            raise ValueError(f"{key}: given twice ({fields[key]}, {value}); a version has one {key}")
        joined = bool(kept) and kept[-1].lower() == "and"
        if joined:
            kept.pop()  # x > 1 and tag:a
        drop_and = not joined  # tag:a and x > 1
    where = " ".join(kept) or None
    return Query(fields.get("project"), fields.get("type"), fields.get("name"), tuple(dict.fromkeys(tags)), where)
