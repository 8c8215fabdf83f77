"""A local folder against a version: the entries a download selects, what differs in a
folder, and where this machine's download folders came from.

Where a folder came from is remembered in a SQLite file in the local cache folder (by the
folder's path, and by its device and inode, so a moved folder is still known), never as a
file inside the folder, which ``add_dir`` would log and a comparison would call extra. It is
only a memory (:class:`~artifactfs.localdb.LocalDb`): when it is off, ``artifactfs status``
has less to say.
"""

from __future__ import annotations

import fnmatch
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import codec
from .entry import Entry
from .hashing import Digest, hash_file
from .localdb import LocalDb
from .statcache import StatCache, stat_key

__all__ = ["FolderRecord", "FolderRegistry", "FolderStatus", "Selection", "compare"]


Globs = Iterable[str] | str | None


@dataclass(frozen=True)
class Selection:
    """Which entries of a version a download takes: those under ``path_prefix`` that match an
    ``include`` glob (all, without one) and no ``exclude`` glob.

    Globs are matched against the whole entry path (``*`` also crosses ``/``, as in
    Hugging Face's ``allow_patterns``); a glob naming a folder (``data`` or ``data/``) takes
    everything under it.
    """

    path_prefix: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        path_prefix: str | None = None,
        include: Iterable[str] | str | None = None,
        exclude: Iterable[str] | str | None = None,
    ) -> Selection:
        def globs(g: Iterable[str] | str | None) -> tuple[str, ...]:
            return (g,) if isinstance(g, str) else tuple(g or ())

        return cls(path_prefix or "", globs(include), globs(exclude))

    @property
    def everything(self) -> bool:
        return not (self.path_prefix or self.include or self.exclude)

    def wants(self, path: str) -> bool:
        if not path.startswith(self.path_prefix):
            return False
        if self.include and not any(_match(path, g) for g in self.include):
            return False
        return not any(_match(path, g) for g in self.exclude)

    def entries(self, manifest_entries: Iterable[Entry]) -> Iterator[Entry]:
        return (e for e in manifest_entries if self.wants(e.path))

    def describe(self) -> str:
        """``under data/, matching *.csv, not *.tmp``; empty for everything."""
        parts = [f"under {self.path_prefix}"] if self.path_prefix else []
        parts += [f"matching {' or '.join(self.include)}"] if self.include else []
        parts += [f"not {' or '.join(self.exclude)}"] if self.exclude else []
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"path_prefix": self.path_prefix, "include": list(self.include), "exclude": list(self.exclude)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Selection:
        return cls.of(d.get("path_prefix"), d.get("include"), d.get("exclude"))


def _match(path: str, glob: str) -> bool:
    if glob.endswith("/"):
        return path.startswith(glob)
    return fnmatch.fnmatchcase(path, glob) or path.startswith(glob + "/")


@dataclass
class FolderStatus:
    """How a local folder differs from a version (its selected entries): paths missing from
    the folder, changed in it, and extra files the version does not hold."""

    root: str
    version: str
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    selection: Selection = field(default_factory=Selection)

    @property
    def ok(self) -> bool:
        """True when the folder holds exactly the version's files."""
        return not (self.missing or self.changed or self.extra)

    def __bool__(self) -> bool:
        return self.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "version": self.version,
            "ok": self.ok,
            "missing": self.missing,
            "changed": self.changed,
            "extra": self.extra,
            "selection": self.selection.to_dict(),
        }


def compare(root: str, entries: Iterable[Entry], stat_cache: StatCache) -> tuple[list[str], list[str], list[str]]:
    """(missing, changed, extra) paths of the folder ``root`` against ``entries``.

    A file of the right size is hashed unless the stat cache remembers its digest (a file
    just downloaded, or compared before, is not read again). An external reference logged
    without a checksum is compared by size only.
    """
    wanted: dict[str, Entry] = {}
    missing, changed = [], []
    to_hash: list[tuple[str, Entry, os.stat_result]] = []
    for e in entries:
        wanted[e.path] = e
        full = os.path.join(root, e.path)
        try:
            st = os.lstat(full)
        except (FileNotFoundError, NotADirectoryError):
            missing.append(e.path)
            continue
        if not os.path.isfile(full) or os.path.islink(full) or st.st_size != e.size:
            changed.append(e.path)
        elif e.digest is not None and e.extra.get("checksum") is not False:
            to_hash.append((full, e, st))
    if to_hash:
        algorithm = to_hash[0][1].digest.algorithm if to_hash[0][1].digest else "blake3"
        known = stat_cache.lookup(((full, stat_key(st)) for full, _, st in to_hash), algorithm)
        learned = []
        started = time.time_ns()
        for full, e, st in to_hash:
            digest: Digest | None = known.get(full)
            if digest is None:
                digest, _ = hash_file(full, e.digest.algorithm if e.digest else algorithm)
                learned.append((full, stat_key(st), digest))
            if digest != e.digest:
                changed.append(e.path)
        stat_cache.record(learned, started)
    extra = []
    for folder, _, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        for name in files:
            path = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
            if path not in wanted:
                extra.append(path)
    return sorted(missing), sorted(changed), sorted(extra)


@dataclass(frozen=True)
class FolderRecord:
    """What a folder was made from: the version (by name and manifest digest), the store, the
    selection, and when."""

    path: str
    store: str
    version: str
    manifest: str
    selection: Selection
    at: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS folders (
    path TEXT PRIMARY KEY,
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    store TEXT NOT NULL,
    version TEXT NOT NULL,
    manifest TEXT NOT NULL,
    selection TEXT NOT NULL,
    at TEXT NOT NULL
)
"""


class FolderRegistry:
    """Download folders of this machine, by path and by device and inode."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.db = LocalDb(path, (_SCHEMA,), timeout=10.0)

    def remember(
        self, root: str | os.PathLike[str], store: str, version: str, manifest: str, selection: Selection
    ) -> None:
        """Note that ``root`` now holds ``version`` (selected by ``selection``) of ``store``."""
        path = os.path.abspath(root)
        try:
            st = os.stat(path)
        except OSError:
            return
        row = (path, st.st_dev, st.st_ino, store, version, manifest, json.dumps(selection.to_dict()), codec.utcnow())

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.execute("BEGIN IMMEDIATE")
                moved = (st.st_dev, st.st_ino, path)
                db.execute("DELETE FROM folders WHERE dev = ? AND ino = ? AND path != ?", moved)
                db.execute("INSERT OR REPLACE INTO folders VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)

        self.db.run(write, None)

    def find(self, root: str | os.PathLike[str]) -> FolderRecord | None:
        """Where the folder ``root`` came from: by its path, else by its device and inode (a
        folder moved since); None if this machine does not know it."""
        path = os.path.abspath(root)
        try:
            st = os.stat(path)
        except OSError:
            return None
        rows: list[Any] = self.db.run(
            lambda db: db.execute(
                "SELECT path, dev, ino, store, version, manifest, selection, at FROM folders "
                "WHERE path = ? OR (dev = ? AND ino = ?) ORDER BY path = ? DESC",
                (path, st.st_dev, st.st_ino, path),
            ).fetchall(),
            [],
        )
        for was, dev, ino, store, version, manifest, selection, at in rows:
            if (dev, ino) == (st.st_dev, st.st_ino):  # a path reused by another folder is not it
                if was != path:  # moved: known by its new path from now on
                    self.db.write("UPDATE OR REPLACE folders SET path = ? WHERE path = ?", [(path, was)])
                return FolderRecord(path, store, version, manifest, Selection.from_dict(json.loads(selection)), at)
        return None

    def all(self) -> list[FolderRecord]:
        """Every folder remembered (some may have been removed since)."""
        rows: list[Any] = self.db.run(
            lambda db: db.execute("SELECT path, store, version, manifest, selection, at FROM folders").fetchall(), []
        )
        return [FolderRecord(p, s, v, m, Selection.from_dict(json.loads(sel)), at) for p, s, v, m, sel, at in rows]

    def close(self) -> None:
        self.db.close()
