"""The catalog's version records, tombstones and alias events, and how the newest of each is
found without listing a history: a hint names a starting point, the create-once records it
names are read to check it, and a search (:func:`artifactfs.hints.find_end`) takes over when
the hint is missing or wrong (docs/format.md, *Finding the newest without listing*).

Reads never write; the writers (commit, deletion, aliases) refresh the hints, best effort.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from . import codec, layout
from .backend import Backend
from .catalog_annotations import AnnotationRecords
from .errors import ArtifactFSError, ArtifactNotFoundError
from .hints import PROBES, AliasHint, DeletedTail, VersionHint, find_end
from .records import AliasEvent, Tombstone, VersionRecord

__all__ = ["AliasState", "HeadRecords", "Newest"]

log = logging.getLogger("artifactfs")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Newest:
    """The end of an artifact's history: its highest version number (-1: none yet), its
    highest live one (None: none live) and that one's record."""

    version: int
    live: int | None
    record: VersionRecord | None


@dataclass(frozen=True, slots=True)
class AliasState:
    """An alias's newest event: its sequence number and target (None: removed)."""

    seq: int
    version: int | None


class HeadRecords(AnnotationRecords):
    """Version records, tombstones, alias events and their hints, of the store behind ``backend``.

    Version records never change once written and tombstones are never removed, so both are
    cached for the life of the catalog; what moves (the newest version, aliases) is read again
    on every question.
    """

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self._records: dict[tuple[str, str, int], VersionRecord] = {}
        self._stones: dict[tuple[str, str, int], Tombstone] = {}

    # ------------------------------------------------------------------ version records
    def version(self, project: str, name: str, number: int) -> VersionRecord:
        """The record of ``project/name:v<number>``; :class:`ArtifactNotFoundError` if absent."""
        rec = self.versions(project, name, [number]).get(number)
        if rec is None:
            raise ArtifactNotFoundError(f"{project}/{name}:v{number} not found in store {self.url}")
        return rec

    def versions(self, project: str, name: str, numbers: list[int]) -> dict[int, VersionRecord]:
        """The records of ``numbers`` that exist, those not read yet read in one batch."""
        self._read(project, name, numbers, [])
        return {n: rec for n in numbers if (rec := self._records.get((project, name, n))) is not None}

    def create_version(self, record: VersionRecord) -> bool:
        """Write a new version record if its number is free; True if this call made it."""
        key = layout.version_record(record.project, record.name, record.version)
        if not self.backend.create(key, record.to_bytes()):
            return False
        self._records[(record.project, record.name, record.version)] = record
        return True

    def _read(
        self, project: str, name: str, records: list[int], stones: list[int], extra: Sequence[str] = ()
    ) -> dict[str, bytes | None]:
        """Read version records and tombstones of ``project/name`` (and ``extra`` keys) in one
        round of concurrent requests; records and tombstones found are cached. Returns the
        ``extra`` keys' bytes (None if absent)."""
        rkeys = {layout.version_record(project, name, n): n for n in records if (project, name, n) not in self._records}
        skeys = {layout.tombstone(project, name, n): n for n in stones if (project, name, n) not in self._stones}
        got = self.backend.read_many([*rkeys, *skeys, *extra]) if rkeys or skeys or extra else {}
        for key, n in rkeys.items():
            if (data := got[key]) is not None:
                self._records[(project, name, n)] = VersionRecord.from_bytes(
                    data, f"version record {key}", at=(project, name, n)
                )
        for key, n in skeys.items():
            if (data := got[key]) is not None:
                self._stones[(project, name, n)] = Tombstone.from_bytes(data, f"tombstone {key}", version=n)
        return {k: got[k] for k in extra}

    def _present(self, project: str, name: str) -> Callable[[list[int]], set[int]]:
        def present(numbers: list[int]) -> set[int]:
            return set(self.versions(project, name, numbers))

        return present

    # ------------------------------------------------------------------ tombstones
    def tombstone(self, project: str, name: str, number: int) -> Tombstone | None:
        """The tombstone of ``project/name:v<number>``, or None if it is not deleted."""
        self._read(project, name, [], [number])
        return self._stones.get((project, name, number))

    def deleted_known(self, project: str, name: str, number: int) -> bool:
        """Whether a tombstone of ``project/name:v<number>`` was read (no request)."""
        return (project, name, number) in self._stones

    def deleted(self, project: str, name: str, numbers: list[int]) -> set[int]:
        """Which of ``numbers`` are deleted (their tombstones read in one batch)."""
        self._read(project, name, [], numbers)
        return {n for n in numbers if (project, name, n) in self._stones}

    def add_tombstone(self, project: str, name: str, stone: Tombstone) -> bool:
        """Mark ``project/name:v<stone.version>`` deleted; True if this call did. Deleting the
        newest live version also writes what readers need to find the next one in one read."""
        made = self.backend.create(layout.tombstone(project, name, stone.version), stone.to_bytes())
        newest = self.newest(project, name)
        if newest.live != newest.version and newest.version >= 0:
            tail = DeletedTail(newest.version, newest.live)
            self._hint(layout.deleted_tail(project, name, newest.version), tail.to_bytes())
        self._hint(layout.version_hint(project, name), VersionHint(newest.version, newest.live).to_bytes())
        return made

    # ------------------------------------------------------------------ the newest version
    def newest(self, project: str, name: str) -> Newest:
        """The highest version of ``project/name`` and its highest live one.

        With a hint that holds: two rounds of requests (the hint; then the record after it,
        which must be absent, and the live one's record and tombstone), however long the
        history. Otherwise a search (:func:`find_end`) and a walk down the tombstones.
        """
        hint_key = layout.version_hint(project, name)
        hint = self._decode_hint(hint_key, VersionHint.from_bytes)
        if hint is not None:
            top, live = hint.version, hint.live
            tail_key = layout.deleted_tail(project, name, top)
            extra = [tail_key] if live != top else []
            lives = [] if live is None else [live]
            found = self._read(project, name, [top + 1, *lives], lives, extra)
            tail = None
            if extra and (data := found[tail_key]) is not None:
                tail = DeletedTail.from_bytes(data, f"deleted tail {tail_key}", version=top)
            holds = (project, name, top + 1) not in self._records
            if live is None:
                holds = holds and tail is not None and tail.live is None
            else:
                holds = holds and (project, name, live) in self._records and (project, name, live) not in self._stones
                if live != top:
                    holds = holds and tail is not None and tail.live is not None and tail.live <= live
            if holds:
                return Newest(top, live, None if live is None else self._records[(project, name, live)])
        end = find_end(self._present(project, name), -1, hint.version if hint is not None else None)
        live = self._live_at_or_below(project, name, end)
        return Newest(end, live, None if live is None else self.version(project, name, live))

    def _live_at_or_below(self, project: str, name: str, top: int) -> int | None:
        """The highest live version at or below ``top``: tombstones read :data:`PROBES` at a
        time, a deleted-tail record letting the walk jump past the versions it sums up."""
        n = top
        while n >= 0:
            batch = list(range(n, max(n - PROBES, -1), -1))
            tail_key = layout.deleted_tail(project, name, n)
            found = self._read(project, name, [], batch, [tail_key])
            live = next((m for m in batch if (project, name, m) not in self._stones), None)
            if live is not None:
                return live
            data = found[tail_key]
            tail = None if data is None else DeletedTail.from_bytes(data, f"deleted tail {tail_key}", version=n)
            if tail is not None and tail.live is None:
                return None
            n = tail.live if tail is not None and tail.live is not None and tail.live < batch[-1] else batch[-1] - 1
        return None

    def next_number(self, project: str, name: str, after: int | None = None) -> tuple[int, VersionRecord | None]:
        """The number a new version of ``project/name`` should try, and the record below it.

        From the hint (checked: its record must exist) in two requests; after a conflict at
        ``after``, or without a usable hint, by search."""
        if after is None:
            hint = self._decode_hint(layout.version_hint(project, name), VersionHint.from_bytes)
            if hint is not None and (rec := self.versions(project, name, [hint.version]).get(hint.version)):
                return hint.version + 1, rec
            end = find_end(self._present(project, name))
        else:
            end = find_end(self._present(project, name), after, after + 1)
        return end + 1, (self.version(project, name, end) if end >= 0 else None)

    def committed(self, record: VersionRecord) -> None:
        """A writer made ``record``: it is the newest version (best effort, see :meth:`_hint`)."""
        key = layout.version_hint(record.project, record.name)
        self._hint(key, VersionHint(record.version, record.version).to_bytes())

    # ------------------------------------------------------------------ aliases
    def alias_state(self, project: str, name: str, alias: str) -> AliasState | None:
        """The newest event of ``alias`` (None if it never had one): two rounds with a hint that holds."""
        hint = self._decode_hint(layout.alias_hint(project, name, alias), AliasHint.from_bytes)
        return self.alias_states(project, name, {alias: hint}).get(alias)

    def alias_target(self, project: str, name: str, alias: str) -> int | None:
        """The version ``alias`` points at, if it is set on a live version. With a hint that
        holds, two rounds: the hint; then its event, the event after it (absent), and the
        target's record and tombstone, together."""
        hint = self._decode_hint(layout.alias_hint(project, name, alias), AliasHint.from_bytes)
        state = None
        if hint is not None and hint.version is not None:
            at, after = (layout.alias_event(project, name, alias, hint.seq + i) for i in (0, 1))
            got = self._read(project, name, [hint.version], [hint.version], [at, after])
            if (data := got[at]) is not None and got[after] is None:
                event = AliasEvent.from_bytes(data, f"alias event {at}", alias=alias)
                state = AliasState(hint.seq, event.version)
        if state is None:
            state = self.alias_states(project, name, {alias: hint}).get(alias)
        target = None if state is None else state.version
        if target is None:
            return None
        if hint is None or target != hint.version:  # not read with the hint's round
            self._read(project, name, [target], [target])
        if (project, name, target) not in self._records or (project, name, target) in self._stones:
            return None
        return target

    def alias_states(self, project: str, name: str, hints: dict[str, AliasHint | None]) -> dict[str, AliasState]:
        """The newest event of each alias of ``hints`` (alias -> its hint or None), the hints
        checked together in one round; the aliases with no event are left out."""
        keys = {}
        for alias, hint in hints.items():
            if hint is not None:
                at = hint.seq
                keys[alias] = (
                    layout.alias_event(project, name, alias, at),
                    layout.alias_event(project, name, alias, at + 1),
                )
        got = self.backend.read_many([k for pair in keys.values() for k in pair]) if keys else {}
        out: dict[str, AliasState] = {}
        for alias, hint in hints.items():
            if hint is not None and got[keys[alias][0]] is not None and got[keys[alias][1]] is None:
                seq, data = hint.seq, got[keys[alias][0]]
            else:
                seq = find_end(self._events_present(project, name, alias), -1, hint.seq if hint else None)
                if seq < 0:
                    continue
                data = self.backend.read(layout.alias_event(project, name, alias, seq))
            key = layout.alias_event(project, name, alias, seq)
            assert data is not None
            out[alias] = AliasState(seq, AliasEvent.from_bytes(data, f"alias event {key}", alias=alias).version)
        return out

    def _events_present(self, project: str, name: str, alias: str) -> Callable[[list[int]], set[int]]:
        def present(seqs: list[int]) -> set[int]:
            keys = {layout.alias_event(project, name, alias, s): s for s in seqs}
            return {keys[k] for k, v in self.backend.read_many(list(keys)).items() if v is not None}

        return present

    def aliases(self, project: str, name: str) -> dict[str, int]:
        """Custom alias -> version, of every alias set (one listing of the alias names, then
        each alias's hint and newest event, all aliases at once)."""
        names = self.backend.listdir(layout.aliases_dir(project, name))
        hint_keys = {a: layout.alias_hint(project, name, a) for a in names}
        raw = self.backend.read_many(list(hint_keys.values())) if names else {}
        hints = {a: self._decode(raw[k], k, AliasHint.from_bytes) for a, k in hint_keys.items()}
        return {a: s.version for a, s in self.alias_states(project, name, hints).items() if s.version is not None}

    def set_alias(self, project: str, name: str, alias: str, version: int | None, run_id: str | None) -> None:
        """Append an alias event pointing ``alias`` at ``version`` (None removes the alias);
        nothing is written when it already points there."""
        state = self.alias_state(project, name, alias)
        if state is not None and state.version == version:
            return
        seq = state.seq + 1 if state is not None else 0
        while True:
            event = AliasEvent(alias, version, codec.utcnow(), run_id)
            if self.backend.create(layout.alias_event(project, name, alias, seq), event.to_bytes()):
                break
            seq += 1
        self._hint(layout.alias_hint(project, name, alias), AliasHint(seq, version).to_bytes())

    # ------------------------------------------------------------------ hints
    def _decode_hint(self, key: str, decode: Callable[[bytes, str], T]) -> T | None:
        try:
            data = self.backend.read(key)
        except ArtifactFSError:
            return None
        return self._decode(data, key, decode)

    def _decode(self, data: bytes | None, key: str, decode: Callable[[bytes, str], T]) -> T | None:
        """A hint that does not decode is no hint: readers search instead."""
        if data is None:
            return None
        try:
            return decode(data, f"hint {key}")
        except ArtifactFSError as e:
            log.debug("ignoring the hint %s in store %s: %s", key, self.url, e)
            return None

    def _hint(self, key: str, data: bytes) -> None:
        """Overwrite a hint; a failure only costs readers a search, so it is logged, not raised."""
        try:
            self.backend.write(key, data)
        except ArtifactFSError as e:
            log.warning("could not update the hint %s in store %s (readers will search instead): %s", key, self.url, e)
