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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .errors import EntryNotFoundError, FormatError, InvalidInputError
from .manifest import Entry, Manifest
from .records import ArtifactVersionId
from .shards import PathOrder

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

    def count(self, added: Iterable[str]) -> int:
        """How many entries the new version has, given the paths ``added`` to the draft."""
        replaced = sum(1 for p in added if self.holds(p))
        return self.manifest.count - self.removed_count - replaced

    def overlay(self, added: Iterator[Entry]) -> Iterator[Entry]:
        """The base's entries not removed, with ``added`` (in path order) merged in: an added
        entry replaces the base's at its path. A path below another's file is refused."""
        order = PathOrder()
        kept = (e for e in self.manifest.iter_entries() if not self.removed(e.path))
        mine, theirs = next(kept, None), next(added, None)
        while mine is not None or theirs is not None:
            if theirs is not None and (mine is None or theirs.path <= mine.path):
                if mine is not None and mine.path == theirs.path:
                    mine = next(kept, None)
                out, theirs = theirs, next(added, None)
            else:
                assert mine is not None
                out, mine = mine, next(kept, None)
            try:
                order.check(out.path, f"the new version of {self.version.qualified_name}")
            except FormatError as e:
                raise InvalidInputError(f"{e}: remove one of them from the draft") from None
            yield out
