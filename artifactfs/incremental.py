"""Incremental versions: a draft made from a logged version (``new_draft``) keeps that
version's entries as they are, and a commit of it hashes and sends only what was added (no
I/O here beyond reading the base manifest's shards through its loader).

The new version's entries are the base's, less those removed, with added paths in place of
the base's entries at the same paths, merged in path order as the entries stream into the
new manifest: unchanged runs of entries are cut into the same shards as before (shards.py),
so those shards, and the blobs and packs the entries name, are the base's own objects.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from .errors import EntryNotFoundError, InvalidInputError
from .manifest import Entry, Manifest, path_after
from .records import ArtifactVersionId
from .shards import ShardRef

__all__ = ["Base"]


@dataclass
class Base:
    """The logged version a draft starts from, in the store ``store_id`` names (its blobs are
    there), and the paths removed from it."""

    version: ArtifactVersionId
    manifest: Manifest
    store_url: str
    store_id: str | None
    removed_files: set[str] = field(default_factory=set)
    removed_folders: list[str] = field(default_factory=list)  # sorted, each ending in "/"
    removed_count: int = 0
    _added: list[str] = field(default_factory=list)  # the paths added, sorted (prepare)

    def removed(self, path: str) -> bool:
        if path in self.removed_files:
            return True
        i = bisect.bisect_right(self.removed_folders, path)
        return i > 0 and path.startswith(self.removed_folders[i - 1])

    def holds(self, path: str) -> bool:
        """Whether the new version would have the base's entry at ``path`` (not removed)."""
        return not self.removed(path) and self.manifest.entry(path) is not None

    def remove(self, path: str) -> None:
        """Leave out the base's entry at ``path``, or every entry below the folder ``path``."""
        folder = path.rstrip("/") + "/"
        if not path.endswith("/") and not self.removed(path) and self.manifest.entry(path) is not None:
            self.removed_files.add(path)
            self.removed_count += 1
            return
        under = [e for e in self.manifest.under(folder) if not self.removed(e.path)]
        if not under:
            raise EntryNotFoundError(f"{self.version.qualified_name} has no entry {path!r} (nor a folder of that name)")
        bisect.insort(self.removed_folders, folder)
        self.removed_count += len(under)

    def prepare(self, added: list[str]) -> int:
        """Check the paths added to the draft against the base (none below one of its files,
        none a folder of it) and return how many entries the new version has."""
        qn = self.version.qualified_name
        replaced, clear = 0, set()
        for p in added:
            if self.holds(p):
                replaced += 1
                continue
            for anc in _ancestors(p):
                if anc not in clear and self.holds(anc):
                    raise InvalidInputError(f"{p!r} cannot be added below {anc!r}, a file of {qn}: remove it first")
                clear.add(anc)
            if any(not self.removed(e.path) for e in self.manifest.under(p + "/")):
                raise InvalidInputError(f"{p!r} cannot be added: it is a folder of {qn}; remove it first")
        self._added = sorted(added)
        return self.manifest.count - self.removed_count - replaced + len(added)

    def overlay(self, added: Iterator[Entry]) -> Iterator[Entry | ShardRef]:
        """The base's entries not removed, with ``added`` (in path order, the paths given to
        :meth:`prepare`) merged in, an added entry replacing the base's at its path. A shard of
        the base that nothing changes is offered whole (never read here)."""
        refs = self.manifest.shards
        if not refs:
            yield from _merge((e for e in self.manifest.iter_entries() if not self.removed(e.path)), added)
            return
        touched = self._touched(refs)
        pending = _Pending(added)
        for k, ref in enumerate(refs):
            if k not in touched:
                yield ref
                continue
            hi = None if k == len(refs) - 1 else ref.last
            kept = (e for e in self.manifest.shard_entries(ref) if not self.removed(e.path))
            yield from _merge(kept, pending.upto(hi))

    def _touched(self, refs: tuple[ShardRef, ...]) -> set[int]:
        """The shards an added or removed path falls in: an added path in the one whose range
        (after the previous shard's last path, up to its own) holds it."""
        lasts = [r.last for r in refs]
        out = {min(bisect.bisect_left(lasts, p), len(refs) - 1) for p in [*self._added, *self.removed_files]}
        for folder in self.removed_folders:
            out |= {k for k, r in enumerate(refs) if r.covers(folder, path_after(folder))}
        return out


class _Pending:
    """The added entries, taken a shard's range at a time."""

    def __init__(self, entries: Iterator[Entry]) -> None:
        self._it, self._next = entries, next(entries, None)

    def upto(self, hi: str | None) -> Iterator[Entry]:
        while self._next is not None and (hi is None or self._next.path <= hi):
            out, self._next = self._next, next(self._it, None)
            yield out


def _merge(kept: Iterator[Entry], added: Iterator[Entry]) -> Iterator[Entry]:
    """Two runs of entries in path order as one; at a path both hold, the added one."""
    mine, theirs = next(kept, None), next(added, None)
    while mine is not None or theirs is not None:
        if theirs is not None and (mine is None or theirs.path <= mine.path):
            if mine is not None and mine.path == theirs.path:
                mine = next(kept, None)
            out, theirs = theirs, next(added, None)
        else:
            assert mine is not None
            out, mine = mine, next(kept, None)
        yield out


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
