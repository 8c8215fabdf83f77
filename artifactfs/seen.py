"""What this machine has read from stores, kept to answer when a store cannot be reached.

Everything but aliases is immutable: a version record never changes, and a manifest or shard
is named by its digest. So ``name:vN`` resolves offline exactly as it did online, from
``records.sqlite3`` in the cache folder; ``latest`` and custom aliases resolve to where they
pointed when last seen. Records are kept by the store's id (from its descriptor), with the
URL it was last seen at: a store made again at the same URL is another store.
"""

from __future__ import annotations

import os
import time

from .hashing import Digest, hash_bytes
from .localdb import LocalDb
from .records import VersionRecord

__all__ = ["SeenRecords"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS stores (url TEXT PRIMARY KEY, id TEXT NOT NULL, seen_ns INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS versions (store TEXT NOT NULL, project TEXT NOT NULL, name TEXT NOT NULL, "
    "version INTEGER NOT NULL, record BLOB NOT NULL, PRIMARY KEY (store, project, name, version))",
    "CREATE TABLE IF NOT EXISTS tags (store TEXT NOT NULL, project TEXT NOT NULL, name TEXT NOT NULL, "
    "tag TEXT NOT NULL, version INTEGER NOT NULL, seen_ns INTEGER NOT NULL, PRIMARY KEY (store, project, name, tag))",
    "CREATE TABLE IF NOT EXISTS objects (digest TEXT PRIMARY KEY, data BLOB NOT NULL)",
)


class SeenRecords:
    """Version records, aliases and manifests this machine has read, by store id."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.db = LocalDb(path, _SCHEMA, timeout=10.0)

    # ------------------------------------------------------------------ stores
    def store_seen(self, url: str, store_id: str) -> None:
        self.db.write("INSERT OR REPLACE INTO stores VALUES (?, ?, ?)", [(url, store_id, time.time_ns())])

    def store_id(self, url: str) -> tuple[str, float] | None:
        """The id of the store last seen at ``url``, and when (seconds since the epoch)."""
        rows = self.db.rows("SELECT id, seen_ns FROM stores WHERE url = ?", (url,))
        return (rows[0][0], rows[0][1] / 1e9) if rows else None

    # ------------------------------------------------------------------ versions and aliases
    def version_seen(self, store_id: str, rec: VersionRecord, tag: str | None = None) -> None:
        """Keep ``rec``; ``tag`` (``latest`` or an alias) pointed at it just now."""
        self.db.write(
            "INSERT OR IGNORE INTO versions VALUES (?, ?, ?, ?, ?)",
            [(store_id, rec.project, rec.name, rec.version, rec.to_bytes())],
        )
        if tag is not None:
            row = (store_id, rec.project, rec.name, tag, rec.version, time.time_ns())
            self.db.write("INSERT OR REPLACE INTO tags VALUES (?, ?, ?, ?, ?, ?)", [row])

    def version(self, store_id: str, project: str, name: str, number: int) -> VersionRecord | None:
        rows = self.db.rows(
            "SELECT record FROM versions WHERE store = ? AND project = ? AND name = ? AND version = ?",
            (store_id, project, name, number),
        )
        if not rows:
            return None
        return VersionRecord.from_bytes(rows[0][0], f"{project}/{name}:v{number} as seen", at=(project, name, number))

    def tag(self, store_id: str, project: str, name: str, tag: str) -> tuple[int, float] | None:
        """The version ``tag`` pointed at when last seen, and when."""
        rows = self.db.rows(
            "SELECT version, seen_ns FROM tags WHERE store = ? AND project = ? AND name = ? AND tag = ?",
            (store_id, project, name, tag),
        )
        return (rows[0][0], rows[0][1] / 1e9) if rows else None

    def numbers(self, store_id: str, project: str, name: str) -> list[int]:
        """The version numbers of ``project/name`` this machine has seen."""
        rows = self.db.rows(
            "SELECT version FROM versions WHERE store = ? AND project = ? AND name = ? ORDER BY version",
            (store_id, project, name),
        )
        return [r[0] for r in rows]

    # ------------------------------------------------------------------ manifests and shards
    def object_seen(self, digest: Digest, data: bytes) -> None:
        self.db.write("INSERT OR IGNORE INTO objects VALUES (?, ?)", [(str(digest), data)])

    def object(self, digest: Digest) -> bytes | None:
        """The bytes of the manifest or shard ``digest``, if seen (checked against it)."""
        rows = self.db.rows("SELECT data FROM objects WHERE digest = ?", (str(digest),))
        if not rows or hash_bytes(rows[0][0], digest.algorithm) != digest:
            return None
        return bytes(rows[0][0])

    def close(self) -> None:
        self.db.close()
