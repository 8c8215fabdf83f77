"""Drafting an artifact: staging local files, folders, tables and new files, as entries to be
hashed and uploaded when the draft is logged (the half of :class:`~artifactfs.artifact.Artifact`
that builds it)."""

from __future__ import annotations

import bisect
import contextlib
import heapq
import os
import shutil
import stat
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import (
    ArtifactFSError,
    EntryNotFoundError,
    InvalidInputError,
    LocalPathNotFoundError,
    SkippedPathWarning,
    local_file_error,
    warn,
)
from .hashing import BLOCK_SIZE, hash_blocks
from .incremental import Base
from .manifest import Entry, EntryKind
from .parts import Builder
from .refs import check_entry_path
from .table import PartitionedTable, Table

__all__ = ["Draft", "Folder", "Staged", "base_of", "builders", "set_base", "staged", "staged_count", "type_name"]


@dataclass(slots=True)
class Staged:
    """An entry of a draft artifact: a local file to hash and upload, or a ready entry."""

    kind: EntryKind
    local: str | None = None  # a string, not a Path: folders of many files stage quickly
    extra: dict[str, Any] = field(default_factory=dict)
    entry: Entry | None = None
    user_file: bool = False  # the user's own file (not scratch): its digest may be remembered
    build: Builder | None = None  # makes the entries at commit (partitioned tables)


@dataclass(slots=True)
class Folder:
    """The files found below a local folder by ``add_dir``: held as their paths relative to it
    (``/``-separated, sorted), each the entry ``prefix + path``, so a folder of a million files
    costs a list of strings until it is logged."""

    root: str
    prefix: str
    files: list[str]

    def __contains__(self, path: str) -> bool:
        if not path.startswith(self.prefix):
            return False
        rel = path[len(self.prefix) :]
        i = bisect.bisect_left(self.files, rel)
        return i < len(self.files) and self.files[i] == rel

    def around(self, name: str) -> list[str]:
        """Its entries that are ``name``, below it, or above it (``name`` is below a file)."""
        out = [a for a in [*_ancestors(name), name] if a in self]
        if name.startswith(self.prefix):
            under = name[len(self.prefix) :] + "/"
            i = bisect.bisect_left(self.files, under)
            if i < len(self.files) and self.files[i].startswith(under):
                out.append(self.prefix + self.files[i])
        elif self.prefix.startswith(name + "/") and self.files:
            out.append(self.prefix + self.files[0])
        return out

    def items(self) -> Iterator[tuple[str, Staged]]:
        root, prefix, sep = self.root, self.prefix, os.sep
        for rel in self.files:
            local = f"{root}{sep}{rel.replace('/', sep) if sep != '/' else rel}"
            yield prefix + rel, Staged("file", local=local, user_file=True)


class Draft:
    """Staging of entries; :class:`~artifactfs.artifact.Artifact` is a draft until logged."""

    name: str
    _staged: dict[str, Staged]
    _folders: list[Folder]
    _tmp: Path | None
    _base: Base | None

    def _check_draft(self) -> None:
        """Refuse to change a logged version (the artifact says how)."""
        raise NotImplementedError

    def _stage(self, path: str, staged: Staged) -> None:
        self._check_draft()
        path = check_entry_path(path)
        self._check_free(path)
        self._staged[path] = staged

    def _stage_references(self, entries: list[Entry]) -> None:
        """Stage external reference entries (``add_reference`` of a URI): all of them, or,
        when one clashes with an entry already there or with another of them, none."""
        self._check_draft()
        paths = {e.path for e in entries}
        for e in entries:
            self._check_free(e.path)
            for above in _ancestors(e.path):  # an object "a" beside "a/b" in one bucket
                if above in paths or above in self._staged:
                    raise self._clash(e.path, above)
        for e in entries:
            self._staged[e.path] = Staged("reference", entry=e)

    def _check_free(self, path: str) -> None:
        if path in self._staged:
            raise InvalidInputError(f"artifact {self.name!r} already has an entry at {path!r}")
        for f in self._folders:
            if clash := f.around(path):
                raise self._clash(path, clash[0])

    def _clash(self, path: str, other: str) -> InvalidInputError:
        if path == other:
            return InvalidInputError(f"artifact {self.name!r} already has an entry at {path!r}")
        return InvalidInputError(
            f"artifact {self.name!r}: entries {other!r} and {path!r} cannot both be added (one is below the other)"
        )

    def staged_any(self) -> bool:
        """Whether anything was added to the draft."""
        return bool(self._staged) or any(f.files for f in self._folders)

    def remove(self, path: str) -> None:
        """Take ``path`` out of the draft: a file, or a folder (everything below it), added to
        it or held by the version it was made from (``new_draft``). A path it does not hold is
        an :class:`~artifactfs.errors.EntryNotFoundError`."""
        self._check_draft()
        name = check_entry_path(path.rstrip("/"))
        below = name + "/"
        found = [p for p in self._staged if p == name or p.startswith(below)]
        for p in found:
            del self._staged[p]
        folders = [f for f in self._folders if f.prefix.startswith(below)]
        for f in self._folders:
            if not f.prefix.startswith(below) and (name in f or (f.prefix and name + "/" == f.prefix)):
                raise InvalidInputError(f"{name!r} is part of a folder added whole: remove the folder, or add it again")
        self._folders = [f for f in self._folders if f not in folders]
        base = self._base
        if base is not None and (base.holds(name) or base.manifest.under(below)):
            base.remove(path)
        elif not found and not folders:
            raise EntryNotFoundError(f"artifact {self.name!r} has no entry {path!r} (nor a folder of that name)")

    def _tmpdir(self) -> Path:
        """Scratch space for tables and new files, removed when the draft is dropped."""
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="artifactfs-"))
            weakref.finalize(self, shutil.rmtree, self._tmp, ignore_errors=True)
        return self._tmp

    def add_file(self, local_path: str | os.PathLike[str], name: str | None = None) -> None:
        """Add one local file, as ``name`` (default: its file name)."""
        p = Path(local_path)
        if not p.is_file():
            if p.exists():
                raise InvalidInputError(f"cannot add {os.fspath(local_path)!r}: not a regular file")
            raise LocalPathNotFoundError(f"cannot add {os.fspath(local_path)!r}: no such file")
        self._stage(name if name is not None else p.name, Staged("file", local=os.fspath(p), user_file=True))

    def add_dir(self, local_path: str | os.PathLike[str], name: str | None = None, *, strict: bool = False) -> None:
        """Add every file below a local folder, under the prefix ``name`` (default: the root).

        Links to files are followed; links to folders are not (as ``os.walk``). What cannot be
        logged (dangling links, links to folders, FIFOs, sockets, devices) is left out with a
        :class:`~artifactfs.errors.SkippedPathWarning` naming it, or, with ``strict=True``,
        refused with :class:`~artifactfs.errors.InvalidInputError`.
        """
        root = Path(local_path)
        if not root.is_dir():
            raise LocalPathNotFoundError(f"cannot add {os.fspath(local_path)!r}: no such folder")
        prefix = check_entry_path(name.strip("/")) + "/" if name else ""
        self._check_draft()
        found: list[str] = []  # relative paths only: a million files are a list of strings
        skipped: list[tuple[str, str]] = []
        # os.scandir and plain strings: pathlib's per-file objects cost more than the walk itself
        # on folders of many small files.
        top = os.fspath(root)
        stack = [(top, "")]
        while stack:
            folder, rel = stack.pop()
            try:
                with os.scandir(folder) as it:
                    children = sorted(it, key=lambda d: d.name)
            except OSError as e:  # silently skipping a folder would log an incomplete artifact
                raise local_file_error(e, "read the folder", folder) from e
            for d in reversed(children):
                if d.is_dir(follow_symlinks=False):  # as os.walk: links to folders are not followed
                    stack.append((d.path, f"{rel}{d.name}/"))
            for d in children:
                if d.is_file():
                    found.append(rel + d.name)
                elif not d.is_dir(follow_symlinks=False):
                    skipped.append((d.path, _unloggable(d)))
        if skipped:
            shown = ", ".join(f"{p} ({why})" for p, why in skipped[:10])
            more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
            what = f"add_dir({os.fspath(local_path)!r}): {len(skipped)} path(s) cannot be logged: {shown}{more}"
            if strict:
                raise InvalidInputError(what)
            warn(SkippedPathWarning(f"{what}; they were left out"))
        found.sort()
        for rel in found:
            check_entry_path(prefix + rel)
        added = Folder(top, prefix, found)
        for path in self._staged:
            if clash := added.around(path):
                raise self._clash(path, clash[0])
        for other in self._folders:
            if not (other.prefix.startswith(added.prefix) or added.prefix.startswith(other.prefix)):
                continue  # side by side: no entry of one can be, or be above, one of the other
            small, large = (other, added) if len(other.files) < len(added.files) else (added, other)
            for rel in small.files:
                if clash := large.around(small.prefix + rel):
                    raise self._clash(small.prefix + rel, clash[0])
        self._folders.append(added)

    def _staged_count(self) -> int:
        return len(self._staged) + sum(len(f.files) for f in self._folders)

    def add(self, obj: Table, name: str) -> None:
        """Add a :class:`Table` as ``name`` (stored as Parquet; ``.parquet`` is appended if missing).

        A partitioned table (``Table.from_dask(ddf)``, ``Table.from_parquet(path)``) is stored as
        ``name/part-00000.parquet``, ...; its parts are written when the artifact is logged.
        """
        if not isinstance(obj, Table):
            raise InvalidInputError(f"Artifact.add takes a Table, got {type_name(obj)}")
        check_entry_path(name)
        self._check_draft()
        if isinstance(obj, PartitionedTable):
            if not obj.is_draft:
                raise InvalidInputError("a partitioned table read from a store cannot be added again; log its parts")
            name = name.removesuffix(".parquet")
            clash = [p for p in self._staged if p == name or p.startswith(name + "/") or name.startswith(p + "/")]
            clash += [p for f in self._folders for p in f.around(name)]
            if clash:
                raise InvalidInputError(f"artifact {self.name!r} already has an entry at {clash[0]!r}")
            assert obj.builder is not None
            self._stage(name, Staged("table", build=obj.builder))
            return
        path = name if name.endswith(".parquet") else name + ".parquet"
        self._check_free(path)
        try:
            local = self._tmpdir() / f"table-{len(self._staged)}.parquet"
            extra = obj.write_parquet(local)
            with open(local, "rb") as f:
                # Lets readers verify the row groups they fetch without reading the whole table.
                extra["blocks"] = {"size": BLOCK_SIZE, "digests": hash_blocks(f)}
        except OSError as e:
            if isinstance(e, ArtifactFSError):
                raise
            raise local_file_error(
                e, "write the table to the temporary folder", e.filename or tempfile.gettempdir()
            ) from e
        self._stage(path, Staged("table", local=os.fspath(local), extra=extra))

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
        """Open a new file to write into the artifact as ``name``; it is added when closed."""
        check_entry_path(name)
        self._check_draft()
        if mode not in ("w", "wb", "x", "xb"):
            raise InvalidInputError(f"new_file mode must be 'w' or 'wb', got {mode!r}")
        self._check_free(name)
        local = self._tmpdir() / f"new-{len(self._staged)}"
        binary = "b" in mode
        with open(local, "wb" if binary else "w", encoding=None if binary else encoding) as f:
            yield f
        self._stage(name, Staged("file", local=os.fspath(local)))


def _unloggable(d: os.DirEntry[str]) -> str:
    """Why a folder entry that is neither a file nor a folder cannot be logged."""
    if d.is_symlink():
        return "a link to a folder, not followed" if os.path.isdir(d.path) else "a dangling link"
    try:
        mode = d.stat(follow_symlinks=False).st_mode
    except OSError:
        return "gone, or cannot be read"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def staged(draft: Draft) -> Iterator[tuple[str, Staged]]:
    """The files and tables of a draft in path order, to commit (a folder's files are made as
    they come; partitioned tables are :func:`builders`)."""
    singles = sorted((p, s) for p, s in draft._staged.items() if s.build is None)
    return heapq.merge(iter(singles), *(f.items() for f in draft._folders), key=_first)


def staged_count(draft: Draft) -> int:
    """How many items :func:`staged` gives."""
    return draft._staged_count() - len(builders(draft))


def base_of(draft: Draft) -> Base | None:
    """The logged version a draft was made from (``new_draft``), if any."""
    return draft._base


def set_base(draft: Draft, base: Base) -> Base:
    """Make ``draft`` a draft of ``base`` (an ``incremental`` artifact, when it is logged)."""
    draft._base = base
    return base


def builders(draft: Draft) -> list[tuple[str, Staged]]:
    """The partitioned tables of a draft, whose entries are made when it is committed."""
    return sorted((p, s) for p, s in draft._staged.items() if s.build is not None)


def _first(item: tuple[str, Staged]) -> str:
    return item[0]


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def type_name(obj: object) -> str:
    return type(obj).__name__


# ---------------------------------------------------------------------- logged versions
