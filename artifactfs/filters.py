"""Row filters as people type them: ``label == 1 and stars < 2``, ``review ~ great``,
``note is null``, with ``or``, ``not`` and parentheses: the browser's table filter, and the
``where`` of :meth:`artifactfs.Store.search` (``metadata.eval.accuracy > 0.9``).

:func:`parse_filter` checks a filter against a table's schema and reads each value as its
column's type, so a typo is an error before any row is read; the :class:`Filter` it returns
turns a batch of rows into a mask. Pure pyarrow: no store, no screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["FILTER_HELP", "Filter", "parse_filter"]

FILTER_HELP = "column op value (op: == != > >= < <= ~ contains), is null, is not null; and, or, not, ( )"

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<name>`[^`]+`)
    | (?P<op>==|!=|>=|<=|!~|=|>|<|~|\(|\))
    | (?P<word>[^\s()=!<>~"'`]+)
    )""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[..., pa.Array]] = {
    "==": pc.equal,
    "!=": pc.not_equal,
    ">=": pc.greater_equal,
    "<=": pc.less_equal,
    ">": pc.greater,
    "<": pc.less,
}
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass(frozen=True)
class Filter:
    """A parsed filter: ``mask(batch)`` is True for the rows it keeps (a null is never kept)."""

    op: str  # a comparison, "~", "!~", "null", "not null", "and", "or", "not"
    column: str = ""
    value: object = None
    parts: tuple[Filter, ...] = ()

    def mask(self, batch: pa.RecordBatch | pa.Table) -> pa.Array:
        if self.op == "and":
            out = self.parts[0].mask(batch)
            for p in self.parts[1:]:
                out = pc.and_kleene(out, p.mask(batch))
            return out
        if self.op == "or":
            out = self.parts[0].mask(batch)
            for p in self.parts[1:]:
                out = pc.or_kleene(out, p.mask(batch))
            return out
        if self.op == "not":
            return pc.invert(pc.fill_null(self.parts[0].mask(batch), False))
        arr = batch.column(self.column)
        if pa.types.is_dictionary(arr.type):  # a categorical column compares by its values
            arr = pc.cast(arr, arr.type.value_type)
        if self.op == "null":
            return pc.is_null(arr)
        if self.op == "not null":
            return pc.is_valid(arr)
        if self.op in ("~", "!~"):
            text = (
                arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else pc.cast(arr, pa.string())
            )
            found = pc.match_substring(text, str(self.value), ignore_case=True)
            return found if self.op == "~" else pc.invert(found)
        return _COMPARE[self.op](arr, self.value)


def parse_filter(text: str, schema: pa.Schema, aliases: dict[str, str] | None = None) -> Filter:
    """The filter ``text`` over a table of ``schema`` (see :data:`FILTER_HELP`); ``aliases``
    maps the names a column is shown by (a pandas index) to its name in the schema.

    Raises ValueError naming the problem: an unknown column, a value that is not of the
    column's type, a missing operator or parenthesis.
    """
    tokens = _tokens(text)
    if not tokens:
        raise ValueError(f"an empty filter; write {FILTER_HELP}")
    parser = _Parser(tokens, schema, aliases or {})
    out = parser.expr()
    if parser.pos < len(tokens):
        raise ValueError(f"unexpected {tokens[parser.pos][1]!r}; write {FILTER_HELP}")
    return out


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot read the filter from {text[pos:]!r}")
        kind = m.lastgroup or "word"
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    """``expr := and ("or" and)*``, ``and := unary ("and" unary)*``,
    ``unary := "not" unary | "(" expr ")" | column op value | column "is" ["not"] "null"``."""

    def __init__(self, tokens: Sequence[tuple[str, str]], schema: pa.Schema, aliases: dict[str, str]) -> None:
        self.tokens, self.schema, self.aliases, self.pos = tokens, schema, aliases, 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _keyword(self, word: str) -> bool:
        tok = self._peek()
        if tok is not None and tok[0] == "word" and tok[1].lower() == word:
            self.pos += 1
            return True
        return False

    def _take(self, what: str) -> tuple[str, str]:
        tok = self._peek()
        if tok is None:
            raise ValueError(f"the filter ends where {what} was expected; write {FILTER_HELP}")
        self.pos += 1
        return tok

    def expr(self) -> Filter:
        parts = [self.conj()]
        while self._keyword("or"):
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else Filter("or", parts=tuple(parts))

    def conj(self) -> Filter:
        parts = [self.unary()]
        while self._keyword("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Filter("and", parts=tuple(parts))

    def unary(self) -> Filter:
        if self._keyword("not"):
            return Filter("not", parts=(self.unary(),))
        tok = self._peek()
        if tok == ("op", "("):
            self.pos += 1
            inner = self.expr()
            if self._take("a closing parenthesis") != ("op", ")"):
                raise ValueError("a parenthesis is not closed")
            return inner
        return self.condition()

    def condition(self) -> Filter:
        kind, word = self._take("a column name")
        if kind not in ("word", "name", "str"):
            raise ValueError(f"expected a column name, found {word!r}; write {FILTER_HELP}")
        column = self._column(word.strip("`\"'") if kind != "word" else word)
        if self._keyword("is"):
            negated = self._keyword("not")
            if not (self._keyword("null") or self._keyword("none")):
                raise ValueError(f"write {column} is null, or {column} is not null")
            return Filter("not null" if negated else "null", column)
        kind, op = self._take(f"an operator after {column!r}")
        if kind != "op" or op in "()":
            raise ValueError(f"expected an operator after {column!r}, found {op!r}; write {FILTER_HELP}")
        op = "==" if op == "=" else op
        kind, raw = self._take(f"a value after {column} {op}")
        if kind not in ("word", "str"):
            raise ValueError(f"expected a value after {column} {op}, found {raw!r}")
        if kind == "str":
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        if op in ("~", "!~"):
            return Filter(op, column, raw)
        return Filter(op, column, _typed(raw, self.schema.field(column).type, column, quoted=kind == "str"))

    def _column(self, word: str) -> str:
        if word in self.schema.names:
            return word
        if word in self.aliases:
            return self.aliases[word]
        folded = {n.lower(): n for n in [*self.schema.names, *self.aliases]}
        if word.lower() in folded:
            found = folded[word.lower()]
            return str(self.aliases.get(found, found))
        shown = ", ".join([*self.aliases, *(n for n in self.schema.names if n not in self.aliases.values())])
        raise ValueError(f"no column {word!r} (columns: {shown})")


def _typed(raw: str, typ: pa.DataType, column: str, *, quoted: bool) -> object:
    """``raw`` as a value of ``typ``; an error naming the column and its type if it is not one."""
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return raw
    try:
        if pa.types.is_boolean(typ):
            return _BOOLS[raw.lower()]
        if pa.types.is_integer(typ):
            number = float(raw)
            return int(number) if number.is_integer() else number
        if pa.types.is_floating(typ) or pa.types.is_decimal(typ):
            return float(raw)
        return pa.scalar(raw).cast(typ)  # dates, times, timestamps from their ISO text
    except (KeyError, ValueError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        hint = "" if quoted or " " not in raw else " (quote text with spaces)"
        raise ValueError(f"{column} holds {typ} values: {raw!r} is not one{hint}") from None
