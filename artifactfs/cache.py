"""The local blob cache: content-addressed files shared by every store on this machine, kept
under a size cap by evicting the least recently used.

When each blob was last used, and its size, is kept in ``cache.sqlite3`` in the cache folder
(file access times are unreliable: ``noatime`` mounts, and reading through a hard link).
A blob that download folders still link to (``st_nlink > 1``) is *held*: removing it from
the cache would free nothing, so it is never evicted and does not count against the cap; the
cap bounds the bytes only the cache holds. A download that would take the cache over its cap
evicts first, sparing the blobs it is about to link. Eviction is one ``unlink``: a process
linking or reading the blob at that moment either has it whole or finds it gone and fetches
it again, so no file is ever left broken or half-written.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from . import layout
from .errors import FormatError, IntegrityError
from .hashing import CHUNK_SIZE, Digest, new_file_hasher
from .localdb import LocalDb
from .places import copy_verified, link
from .settings import cache_db_dir, cache_max

__all__ = ["RESUMABLE", "BlobCache", "CacheReport", "VersionUse"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, "
    "used_ns INTEGER NOT NULL, held INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS blobs_lru ON blobs (held, used_ns)",
    "CREATE TABLE IF NOT EXISTS versions (store TEXT NOT NULL, version TEXT NOT NULL, manifest TEXT NOT NULL, "
    "size INTEGER NOT NULL, files INTEGER NOT NULL, used_ns INTEGER NOT NULL, PRIMARY KEY (store, version))",
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)
_PAGE = 1000  # rows read at a time while evicting
RESUMABLE = 64 << 20  # blobs this large are fetched resumably (see BlobCache.add_resumable)
_UNSET = -1


@dataclass(frozen=True)
class VersionUse:
    """A version this machine downloaded or read: its bytes and files, and when."""

    store: str
    version: str
    size: int
    files: int
    used_at: float  # seconds since the epoch


@dataclass
class CacheReport:
    """What the cache holds, or what a prune or clear did (``dry_run``: would do)."""

    root: str
    max_bytes: int | None
    blobs: int = 0
    bytes: int = 0
    held_blobs: int = 0  # linked from download folders: removing them frees nothing
    held_bytes: int = 0
    removed_blobs: int = 0
    removed_bytes: int = 0
    dry_run: bool = False
    versions: list[VersionUse] = field(default_factory=list)
    # What else the cache folder keeps, in bytes: never evicted, not counted against the cap
    # (the databases and the spool are this machine's memory and its runs not yet synced).
    beside: dict[str, int] = field(default_factory=dict)

    @property
    def own_bytes(self) -> int:
        """The bytes only the cache holds: what the cap bounds."""
        return self.bytes - self.held_bytes


class BlobCache:
    """Blobs by digest under ``root``; written atomically so concurrent processes can share it.

    ``max_bytes`` caps the bytes only the cache holds (None: no cap); by default
    ``$ARTIFACTFS_CACHE_MAX``, else 10% of the disk, between 1 and 50 GB
    (:func:`~artifactfs.settings.cache_max`).
    """

    def __init__(self, root: str | os.PathLike[str], max_bytes: int | None = _UNSET) -> None:
        self.root = Path(root)
        self._root = os.fspath(root)
        self._folders: set[str] = set()  # folders known to exist
        self._max = max_bytes
        self._db_dir: Path | None = None
        self.index = LocalDb(self.db("cache.sqlite3"), _SCHEMA, timeout=30.0)

    def db(self, name: str) -> Path:
        """The path of one of the cache's SQLite files: in the cache folder, unless that is on
        a network filesystem (see :func:`~artifactfs.settings.cache_db_dir`)."""
        if self._db_dir is None:
            self._db_dir = cache_db_dir(self.root)
        return self._db_dir / name

    @property
    def max_bytes(self) -> int | None:
        if self._max == _UNSET:
            self._max = cache_max(self.root)
        return self._max

    def file(self, digest: Digest) -> str:
        """The cached blob's path as a string (cheaper than :meth:`path` for many blobs).

        One level of 256 folders: a second level would make a folder for nearly every blob of
        a download of thousands.
        """
        return f"{self._root}/{layout.place(layout.blob(digest), 1)}"

    def path(self, digest: Digest) -> Path:
        return Path(self.file(digest))

    def has(self, digest: Digest) -> bool:
        return os.path.isfile(self.file(digest))

    def add(self, src: IO[bytes], digest: Digest, size: int, what: str) -> Path:
        """Store the bytes of ``src`` under ``digest``, verifying them; return the cached path."""
        dest = self.path(digest)
        copy_verified(src, dest, digest, size, what)
        return dest

    def add_resumable(self, open_from: Callable[[int], IO[bytes]], digest: Digest, size: int, what: str) -> Path:
        """As :meth:`add`, for a large blob: its bytes go to ``partial/<alg>-<hex>``, kept when
        the copy is interrupted, so the next try hashes what is there and reads on from it
        (``open_from(offset)``: a ranged read) instead of starting over. One process at a
        time writes a partial file (a lock on it); another waiting finds the blob cached."""
        dest = self.path(digest)
        part = self.partial(digest)
        part.parent.mkdir(parents=True, exist_ok=True)
        with open(part, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # released when the file is closed
            if dest.is_file():
                return dest  # another process finished it while this one waited
            f.seek(0)
            h = new_file_hasher(digest.algorithm)
            have = 0
            while chunk := f.read(CHUNK_SIZE):
                if have + len(chunk) > size:  # longer than the blob: not one of its beginnings
                    f.truncate(0)
                    h, have = new_file_hasher(digest.algorithm), 0
                    break
                h.update(chunk)
                have += len(chunk)
            f.seek(have)
            with open_from(have) as src:
                while have < size and (chunk := src.read(min(CHUNK_SIZE, size - have))):
                    f.write(chunk)
                    h.update(chunk)
                    have += len(chunk)
            f.flush()
            if have < size:
                raise IntegrityError(f"{what}: expected {size} bytes, got {have} (the {have} kept resume the next try)")
            if Digest(digest.algorithm, h.hexdigest()) != digest:
                f.truncate(0)
                raise IntegrityError(f"{what}: does not match {digest}; the partial copy was dropped")
            os.fsync(f.fileno())
            os.makedirs(dest.parent, exist_ok=True)
            os.replace(part, dest)
        return dest

    def fetch(self, open_from: Callable[[int], IO[bytes]], digest: Digest, size: int, what: str) -> Path:
        """Fetch a blob into the cache from ``open_from(offset)``: resumably when large."""
        if size >= RESUMABLE:
            return self.add_resumable(open_from, digest, size, what)
        with open_from(0) as src:
            return self.add(src, digest, size, what)

    def link_in(self, verified: str, digest: Digest) -> bool:
        """Make a verified local file the cached copy of ``digest`` too (a hard link: no byte
        written); False where links are impossible (another filesystem)."""
        cached = self.file(digest)
        folder = os.path.dirname(cached)
        if folder not in self._folders:
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError:
                return False
            self._folders.add(folder)
        if link(verified, cached):
            return True
        self._folders.discard(folder)  # (removed meanwhile, or another filesystem: asked again next time)
        return False

    def partial(self, digest: Digest) -> Path:
        """Where the first bytes of a large blob whose fetch was interrupted are kept."""
        return self.root / "partial" / f"{digest.algorithm}-{digest.hex}"

    def evict(self, digest: Digest) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(digest).unlink()
        self.index.write("DELETE FROM blobs WHERE digest = ?", [(str(digest),)])

    # ------------------------------------------------------------------ use and the cap
    def used(self, blobs: Iterable[tuple[Digest, int]], *, held: bool = False) -> None:
        """Note that ``(digest, size)`` blobs were used just now (``held``: linked into a
        download folder)."""
        now = time.time_ns()
        rows = [(str(d), size, now, int(held)) for d, size in blobs]

        self.index.write(
            "INSERT INTO blobs (digest, size, used_ns, held) VALUES (?, ?, ?, ?) ON CONFLICT(digest) "
            "DO UPDATE SET used_ns = excluded.used_ns, held = MAX(held, excluded.held)",
            rows,
        )

    def used_version(self, store: str, version: str, manifest: str, size: int, files: int) -> None:
        """Note that ``version`` of ``store`` (``size`` bytes in ``files`` files) was used."""
        row = (store, version, manifest, size, files, time.time_ns())
        self.index.write("INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?, ?, ?)", [row])

    def make_room(self, incoming: int, keep: Collection[Digest] = ()) -> None:
        """Evict least recently used blobs until ``incoming`` more bytes fit under the cap,
        sparing ``keep`` (the blobs about to be used). Past what can be evicted, the bytes
        still come in: a version larger than the cap downloads, its files held by the
        download folder (or, copied, evicted again by the next download)."""
        cap = self.max_bytes
        if cap is None or not self.index.on:
            return
        if not self.index.rows("SELECT value FROM state WHERE key = 'scanned'"):
            self.scan()  # a cache filled before it was indexed: count what is there, once
        own = self._own_bytes()
        if own is None or own + incoming <= cap:
            return
        self._release_held()
        own = self._own_bytes() or 0
        if own + incoming > cap:
            self._evict(own + incoming - cap, {str(d) for d in keep}, older_than_ns=None, dry_run=False)

    def _own_bytes(self) -> int | None:
        rows = self.index.rows("SELECT COALESCE(SUM(size), 0) FROM blobs WHERE held = 0")
        return int(rows[0][0]) if rows else None

    def _release_held(self) -> None:
        """Blobs marked held whose download folders are gone count again."""
        rows = self.index.rows("SELECT digest FROM blobs WHERE held = 1")
        free = []
        for (digest,) in rows:
            try:
                if os.stat(self.file(Digest.parse(digest))).st_nlink <= 1:
                    free.append((digest,))
            except FileNotFoundError:
                free.append((digest,))
        self.index.write("UPDATE blobs SET held = 0 WHERE digest = ?", free)

    def _evict(self, need: int, keep: set[str], older_than_ns: int | None, dry_run: bool) -> tuple[int, int]:
        """Remove own blobs, least recently used first, until ``need`` bytes are gone and
        every one unused since ``older_than_ns`` is; returns (blobs, bytes) removed."""
        removed = freed = 0
        after: tuple[int, str] = (-1, "")
        while True:
            page = self.index.rows(
                "SELECT digest, size, used_ns FROM blobs WHERE held = 0 AND (used_ns, digest) > (?, ?) "
                "ORDER BY used_ns, digest LIMIT ?",
                (*after, _PAGE),
            )
            gone, held, done = [], [], not page
            for digest, size, used_ns in page:
                after = (used_ns, digest)
                if need <= 0 and (older_than_ns is None or used_ns >= older_than_ns):
                    done = True
                    break
                if digest in keep:
                    continue
                path = self.file(Digest.parse(digest))
                try:
                    if os.stat(path).st_nlink > 1:
                        held.append((digest,))
                        continue
                    if not dry_run:
                        os.unlink(path)
                except FileNotFoundError:
                    gone.append((digest,))
                    continue
                gone.append((digest,))
                removed, freed, need = removed + 1, freed + size, need - size
            if not dry_run:
                self.index.write("DELETE FROM blobs WHERE digest = ?", gone)
                self.index.write("UPDATE blobs SET held = 1 WHERE digest = ?", held)
            if done or len(page) < _PAGE:
                return removed, freed

    # ------------------------------------------------------------------ reports
    def _files(self) -> Iterator[tuple[str, os.stat_result]]:
        """Every cached blob file: its digest (``alg:hex``) and stat."""
        top = self.root / "blobs"
        with contextlib.suppress(FileNotFoundError):
            for alg in os.scandir(top):
                for sub in os.scandir(alg.path) if alg.is_dir() else ():
                    for f in os.scandir(sub.path) if sub.is_dir() else ():
                        if f.is_file(follow_symlinks=False) and _is_digest(alg.name, f.name):
                            with contextlib.suppress(FileNotFoundError):
                                yield f"{alg.name}:{f.name}", f.stat(follow_symlinks=False)

    def scan(self) -> CacheReport:
        """Read the cache folder itself: add blobs the index lacks (dated by their mtime),
        drop those gone, note which are held; returns the totals."""
        report = CacheReport(self._root, self.max_bytes)
        rows = []
        for digest, st in self._files():
            held = st.st_nlink > 1
            rows.append((digest, st.st_size, st.st_mtime_ns, int(held)))
            report.blobs += 1
            report.bytes += st.st_size
            report.held_blobs += held
            report.held_bytes += st.st_size if held else 0

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.execute("CREATE TEMP TABLE IF NOT EXISTS seen (digest TEXT PRIMARY KEY, size, used_ns, held)")
                db.execute("DELETE FROM seen")
                db.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?)", rows)
                db.execute("DELETE FROM blobs WHERE digest NOT IN (SELECT digest FROM seen)")
                db.execute(
                    "INSERT INTO blobs SELECT digest, size, used_ns, held FROM seen WHERE true ON CONFLICT(digest) "
                    "DO UPDATE SET size = excluded.size, held = excluded.held"
                )
                db.execute("INSERT OR REPLACE INTO state VALUES ('scanned', ?)", (time.time_ns(),))

        self.index.run(write, None)
        report.versions = self.versions()
        report.beside = self.beside()
        return report

    def beside(self) -> dict[str, int]:
        """Bytes the cache folder keeps besides blobs: its databases (version records and
        manifests seen, where folders came from, file digests), partial downloads, the spool."""
        db_dir = self.db("cache.sqlite3").parent
        databases = sum(_size(p) for p in db_dir.glob("*.sqlite3*"))
        return {
            "databases": databases,
            "partial downloads": _tree_size(self.root / "partial"),
            "offline spool": _tree_size(self.root / "spool"),
        }

    def versions(self) -> list[VersionUse]:
        """The versions used on this machine, most recently used first."""
        rows = self.index.rows("SELECT store, version, size, files, used_ns FROM versions ORDER BY used_ns DESC")
        return [VersionUse(s, v, size, files, used / 1e9) for s, v, size, files, used in rows]

    def prune(
        self, max_bytes: int | None = None, older_than: float | None = None, *, dry_run: bool = False
    ) -> CacheReport:
        """Evict the least recently used blobs the cache alone holds until they fit in
        ``max_bytes`` (default: the cap), and every one unused for ``older_than`` seconds."""
        before = self.scan()
        cap = max_bytes if max_bytes is not None else self.max_bytes
        need = max(0, before.own_bytes - cap) if cap is not None else 0
        older = None if older_than is None else time.time_ns() - int(older_than * 1e9)
        report = CacheReport(self._root, cap, dry_run=dry_run, versions=before.versions)
        report.removed_blobs, report.removed_bytes = self._evict(need, set(), older, dry_run)
        report.blobs = before.blobs - report.removed_blobs
        report.bytes = before.bytes - report.removed_bytes
        report.held_blobs, report.held_bytes = before.held_blobs, before.held_bytes
        return report

    def clear(self) -> CacheReport:
        """Remove every cached blob (download folders keep their files)."""
        before = self.scan()
        shutil.rmtree(self.root / "blobs", ignore_errors=True)
        shutil.rmtree(self.root / "partial", ignore_errors=True)
        self.index.write("DELETE FROM blobs")
        report = CacheReport(self._root, self.max_bytes, versions=before.versions)
        report.removed_blobs, report.removed_bytes = before.blobs, before.own_bytes
        return report


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tree_size(root: Path) -> int:
    return sum(_size(Path(folder, f)) for folder, _, files in os.walk(root) for f in files)


def _is_digest(algorithm: str, name: str) -> bool:
    """Whether a cache file's name is a blob's (not a temp file, nor anything else)."""
    try:
        Digest(algorithm, name)
    except FormatError:
        return False
    return True
