"""What changed between two versions: entries added, removed, changed, and table changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .artifact import Artifact
from .manifest import Entry, Manifest

__all__ = ["VersionDiff", "diff"]


@dataclass
class VersionDiff:
    """Entry paths added, removed and changed from ``a`` to ``b``; ``notes`` describe table
    schema and row-count changes."""

    a: str
    b: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "notes": self.notes,
        }


def diff(a: Artifact, b: Artifact) -> VersionDiff:
    """Compare two logged versions by their manifests (no blob is read).

    Shards two sharded versions share (equal content digests) are skipped unread: only the
    shards that differ are read and compared entry by entry.
    """
    ea, eb = _differing(a.manifest, b.manifest)
    out = VersionDiff(a.qualified_name, b.qualified_name)
    out.added = sorted(set(eb) - set(ea))
    out.removed = sorted(set(ea) - set(eb))
    for path in sorted(set(ea) & set(eb)):
        x, y = ea[path], eb[path]
        if (x.digest, x.size, x.extra.get("uri")) == (y.digest, y.size, y.extra.get("uri")):
            continue
        out.changed.append(path)
        if x.kind == y.kind == "table":
            out.notes.extend(_table_notes(path, x, y))
    return out


def _differing(a: Manifest, b: Manifest) -> tuple[dict[str, Entry], dict[str, Entry]]:
    """The entries of ``a`` and ``b`` outside the shards both have (equal content digests mean
    equal entries, and a path is in one shard only, so no other entry can match them)."""
    common = {r.content for r in a.shards} & {r.content for r in b.shards}

    def rest(m: Manifest) -> dict[str, Entry]:
        if not m.sharded:
            return {e.path: e for e in m.entries}
        return {e.path: e for r in m.shards if r.content not in common for e in m.shard_entries(r)}

    return rest(a), rest(b)


def _table_notes(path: str, x: Entry, y: Entry) -> list[str]:
    notes = []
    before = {c[0]: c[1] for c in x.extra.get("columns") or []}
    after = {c[0]: c[1] for c in y.extra.get("columns") or []}
    notes += [f"{path}: column {c} added ({after[c]})" for c in sorted(set(after) - set(before))]
    notes += [f"{path}: column {c} removed" for c in sorted(set(before) - set(after))]
    notes += [
        f"{path}: column {c} {before[c]} -> {after[c]}"
        for c in sorted(set(before) & set(after))
        if before[c] != after[c]
    ]
    ra, rb = x.extra.get("num_rows"), y.extra.get("num_rows")
    if ra != rb:
        notes.append(f"{path}: rows {_count(ra)} -> {_count(rb)}")
    return notes


def _count(n: object) -> str:
    return f"{n:,}" if isinstance(n, int) else "unknown"
