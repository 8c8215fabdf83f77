"""The SQLite files of the local cache folder: what this machine remembers (digests of local
files, download folders, when cached blobs were last used).

Each is shared by the processes of the machine and is only a memory: any error opening,
reading or writing one (a read-only or full disk, a corrupt file, a lock held too long) turns
it off for the process, and the caller does without it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["LocalDb"]

T = TypeVar("T")


class LocalDb:
    """One SQLite file; :meth:`run` calls a function with the connection, or answers
    ``default`` once the file is off."""

    def __init__(self, path: str | os.PathLike[str], schema: tuple[str, ...], *, timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._schema, self._timeout = schema, timeout
        self._db: sqlite3.Connection | None = None
        self._broken = False
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=self._timeout, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # losing the last rows to a crash costs work, not data
                for statement in self._schema:
                    db.execute(statement)
                self._db = db
            except (sqlite3.Error, OSError):
                self._broken = True
        return self._db

    def run(self, fn: Callable[[sqlite3.Connection], T], default: T) -> T:
        """``fn(connection)``, one caller at a time; ``default`` if the file is off or fails."""
        with self._lock:
            db = self._connect()
            if db is None:
                return default
            try:
                return fn(db)
            except (sqlite3.Error, ValueError):
                self._disable()
                return default

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows a query answers (none once the file is off)."""
        return self.run(lambda db: db.execute(sql, params).fetchall(), [])

    def write(self, sql: str, rows: Sequence[Sequence[object]] = ((),)) -> None:
        """``sql`` once per row, in one transaction."""

        def many(db: sqlite3.Connection) -> None:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany(sql, rows)

        if rows:
            self.run(many, None)

    @property
    def on(self) -> bool:
        return not self._broken

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _disable(self) -> None:
        self._broken = True
        if self._db is not None:
            try:
                self._db.close()
            finally:
                self._db = None
