"""Digests of local files remembered by their stat, so unchanged files are not read again.

Like DVC's state database and git's index: a file whose device, inode, size and mtime are
those it had when it was hashed gets the digest it had then. Two rules keep this correct:

- The stat is taken *before* the file is read, so a change made while it is read gives it a
  later mtime than the one remembered.
- A file changed within the same timestamp tick as its hashing keeps its mtime, so a digest
  is trusted only if the file's mtime was at least :data:`RACY_SECONDS` older than the moment
  it was hashed; otherwise it is hashed again (and remembered anew, with an older mtime now).

The database is one SQLite file in the local cache folder (:class:`~artifactfs.localdb.LocalDb`),
shared by the processes of this machine: when it is off, files are hashed.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable

from .hashing import Digest
from .localdb import LocalDb

__all__ = ["RACY_SECONDS", "StatCache", "StatKey", "settled_ns", "stat_key"]

RACY_SECONDS = 2.0  # coarser than the mtime resolution of common filesystems (FAT: 2 s)

StatKey = tuple[int, int, int, int]  # device, inode, size, mtime in ns

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hashed_ns INTEGER NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (path, algorithm)
) WITHOUT ROWID
"""
_BATCH = 500  # SQLite's limit on parameters per statement is 999 on older builds


def stat_key(st: os.stat_result) -> StatKey:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class StatCache:
    """Remembered digests by absolute path and stat; see the module docstring for the rules."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.db = LocalDb(path, (_SCHEMA,))
        self.path = self.db.path

    def lookup(self, files: Iterable[tuple[str, StatKey]], algorithm: str) -> dict[str, Digest]:
        """The trusted digests of those ``(absolute path, stat key)`` pairs that have one."""
        wanted = dict(files)
        if not wanted:
            return {}

        def find(db: sqlite3.Connection) -> dict[str, Digest]:
            found: dict[str, Digest] = {}
            paths = list(wanted)
            for i in range(0, len(paths), _BATCH):
                part = paths[i : i + _BATCH]
                rows = db.execute(
                    "SELECT path, dev, ino, size, mtime_ns, hashed_ns, digest FROM files "
                    f"WHERE algorithm = ? AND path IN ({','.join('?' * len(part))})",
                    [algorithm, *part],
                ).fetchall()
                for path, dev, ino, size, mtime_ns, hashed_ns, digest in rows:
                    if (dev, ino, size, mtime_ns) == wanted[path] and _settled(mtime_ns, hashed_ns):
                        found[path] = Digest(algorithm, digest)
            return found

        return self.db.run(find, {})

    def record(self, files: Iterable[tuple[str, StatKey, Digest]], hashed_ns: int) -> None:
        """Remember digests of files stat'ed (before reading them) at ``hashed_ns``."""
        rows = [(p, d.algorithm, *k, hashed_ns, d.hex) for p, k, d in files]

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    "INSERT OR REPLACE INTO files (path, algorithm, dev, ino, size, mtime_ns, hashed_ns, digest) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )

        if rows:
            self.db.run(write, None)

    def forget(self, paths: Iterable[str]) -> None:
        """Drop what is remembered of ``paths`` (files known to have been replaced or removed)."""
        ps = list(paths)

        def drop(db: sqlite3.Connection) -> None:
            for i in range(0, len(ps), _BATCH):
                part = ps[i : i + _BATCH]
                db.execute(f"DELETE FROM files WHERE path IN ({','.join('?' * len(part))})", part)

        if ps:
            self.db.run(drop, None)

    def close(self) -> None:
        self.db.close()


def settled_ns() -> int:
    """A modification time old enough, now, for a digest taken now to be trusted later.

    Files this process writes and verifies itself (cache blobs) are dated so, which is safe:
    any later write through the file gives it the current time, which no longer matches.
    """
    return time.time_ns() - int((RACY_SECONDS + 1) * 1e9)


def _settled(mtime_ns: int, hashed_ns: int) -> bool:
    return mtime_ns < hashed_ns - int(RACY_SECONDS * 1e9)
