"""Hints: small overwritten records that let readers find the newest version, and an alias's
newest event, without listing a history (see docs/format.md, *Finding the newest without
listing*), and the search a reader falls back to when a hint is missing or stale.

A hint is never trusted: what it says is checked against the create-once records it names, and
a hint that fails a check costs a few more reads, never a wrong answer. No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import codec
from .errors import FormatError
from .fields import agree, load

__all__ = ["AliasHint", "DeletedTail", "VersionHint", "find_end"]

PROBES = 8  # keys asked for at once in each round of a search


@dataclass(frozen=True, slots=True)
class VersionHint:
    """``<artifact>/hints/latest.msgpack``: the highest version number its writer saw, and the
    highest of those not deleted (None if every one was)."""

    version: int
    live: int | None

    def to_bytes(self) -> bytes:
        return codec.encode(
            {"format": codec.FORMAT_VERSION, "kind": "hint", "version": self.version, "live": self.live}
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> VersionHint:
        d = load(data, what, "hint")
        hint = cls(codec.get_int(d, "version", what), codec.get_int(d, "live", what, optional=True))
        if hint.live is not None and hint.live > hint.version:
            raise FormatError(f"{what}: its live version v{hint.live} is above its newest v{hint.version}")
        return hint


@dataclass(frozen=True, slots=True)
class AliasHint:
    """``<artifact>/hints/alias-<alias>.msgpack``: the alias's newest event its writer saw (its sequence
    number and target), so reading an alias that moved a thousand times reads no history."""

    seq: int
    version: int | None

    def to_bytes(self) -> bytes:
        return codec.encode({"format": codec.FORMAT_VERSION, "kind": "hint", "seq": self.seq, "version": self.version})

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> AliasHint:
        d = load(data, what, "hint")
        return cls(codec.get_int(d, "seq", what), codec.get_int(d, "version", what, optional=True))


@dataclass(frozen=True, slots=True)
class DeletedTail:
    """``<artifact>/hints/tail-<N>.msgpack``: every version above ``live`` up to N is deleted (``live`` None:
    every version up to N). Written by deletions of the newest versions; tombstones are never
    removed, so what it says stays true, and one read stands for the tombstones it sums up."""

    version: int
    live: int | None

    def to_bytes(self) -> bytes:
        return codec.encode(
            {"format": codec.FORMAT_VERSION, "kind": "tail", "version": self.version, "live": self.live}
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str, *, version: int) -> DeletedTail:
        d = load(data, what, "tail")
        tail = cls(codec.get_int(d, "version", what), codec.get_int(d, "live", what, optional=True))
        agree(what, tail.version, version, "version")
        if tail.live is not None and tail.live >= tail.version:
            raise FormatError(f"{what}: its live version v{tail.live} is not below v{tail.version}")
        return tail


def find_end(present: Callable[[list[int]], set[int]], below: int = -1, start: int | None = None) -> int:
    """The highest number of a dense run ``0..end`` (-1 if even 0 is absent).

    ``present(numbers)`` answers, in one round of concurrent requests, which of ``numbers``
    exist; ``below`` is a number known to exist (or -1), ``start`` a guess of the end. Rounds
    of :data:`PROBES` keys search upward exponentially from the highest number known to exist,
    then narrow the gap ``PROBES + 1`` ways per round: a stale guess costs one or two rounds,
    none at all a few more (a history of a million versions: five or six).
    """
    lo, hi = below, None  # lo exists (or -1); hi, once known, is absent
    first = sorted({n for n in (start, None if start is None else start + 1) if n is not None and n > lo})
    exponent = 0
    while hi is None or hi - lo > 1:
        if first:
            asked, first = first, []
        elif hi is None:
            asked = [lo + (1 << e) for e in range(exponent, exponent + PROBES)]
            exponent += PROBES
        else:
            step = max(1, (hi - lo) // (PROBES + 1))
            asked = sorted({n for n in range(lo + step, hi, step)})[:PROBES]
        found = present(asked)
        for n in asked:
            if n in found:
                lo = max(lo, n)
        above = [n for n in asked if n not in found and n > lo]
        if above:
            hi = min(above) if hi is None else min(hi, *above)
            exponent = 0
        elif hi is not None and hi <= lo:  # an inconsistent answer (a gap below a record): look above
            hi = None
    return lo
