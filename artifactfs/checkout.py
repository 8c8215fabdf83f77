"""Part of a version downloaded, and a local folder checked against a version or made into it.

Every download and checkout is remembered in the cache folder's :class:`FolderRegistry`, so
``artifactfs status PATH`` can say later which version a folder holds and what changed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from fsspec.callbacks import Callback

from .blobs import BlobReader
from .cache import BlobCache
from .download import materialize
from .errors import EntryNotFoundError, IntegrityError, LocalFileError, MissingReferenceWarning, warn
from .folders import FolderRecord, FolderRegistry, FolderStatus, Globs, Selection, compare
from .manifest import Entry, Manifest
from .markers import PurgeRecord
from .purge_records import purged_entries, purged_warning
from .records import VersionRecord

__all__ = ["LocalSide", "checkout", "download", "folder_status", "registry", "where_from"]


def registry(cache: BlobCache) -> FolderRegistry:
    """The download folders remembered beside the blob cache ``cache``."""
    return FolderRegistry(cache.db("folders.sqlite3"))


def where_from(cache: BlobCache, root: str | os.PathLike[str]) -> FolderRecord | None:
    """The version the folder ``root`` was downloaded or checked out from, if the machine
    whose cache is ``cache`` remembers it."""
    reg = registry(cache)
    try:
        return reg.find(root)
    finally:
        reg.close()


def _selected(qualified: str, man: Manifest, selection: Selection) -> Iterator[Entry]:
    """The entries ``selection`` takes, reading only the shards under its prefix; an error
    when it takes none (a mistyped glob should not look like an empty version)."""
    source = man.under(selection.path_prefix) if selection.path_prefix else man.iter_entries()
    n = 0
    for e in selection.entries(source):
        n += 1
        yield e
    if n == 0 and not selection.everything and man.count:
        raise EntryNotFoundError(f"no entry of {qualified} is {selection.describe()}")


def _remember(blobs: BlobReader, root: Path, qualified: str, manifest: str, selection: Selection) -> None:
    reg = registry(blobs.cache)
    try:
        reg.remember(root, blobs.url, qualified, manifest, selection)
    finally:
        reg.close()


def _placed(
    blobs: BlobReader,
    qualified: str,
    algorithm: str,
    entries: Callable[[], Iterable[Entry]],
    dest: Path,
    callback: Callback | None,
    copy: bool,
    missing: list[str] | None = None,
) -> tuple[int, int]:
    """:func:`materialize` ``entries()`` (``missing``: see :func:`materialize`); if a blob was
    missing because it was purged, the other files, with a
    :class:`~artifactfs.errors.PurgedWarning` naming the purged ones.
    Purge records are read only once a blob was found missing: a healthy download pays
    nothing for them."""
    try:
        return materialize(blobs, qualified, entries(), dest, callback, copy=copy, missing=missing)
    except IntegrityError:
        gone = purged_entries(blobs.backend, entries(), algorithm)
        if not gone:
            raise
    kept = (e for e in entries() if e.path not in gone)
    done = materialize(blobs, qualified, kept, dest, callback, copy=copy, missing=missing)
    warn(purged_warning(qualified, gone))  # (once the rest is there: another failure is the error to give)
    return done


def download(
    blobs: BlobReader,
    qualified: str,
    man: Manifest,
    manifest: str,
    dest: Path,
    selection: Selection,
    callback: Callback | None = None,
    *,
    copy: bool = False,
    allow_missing_references: bool = False,
) -> None:
    """The entries of ``man`` that ``selection`` takes, under ``dest``: only their blobs are
    fetched. With ``allow_missing_references``, external references whose objects are gone
    are skipped, and a :class:`MissingReferenceWarning` names them."""
    missing: list[str] | None = [] if allow_missing_references else None

    def entries() -> Iterator[Entry]:  # (read again if a file was purged)
        return _selected(qualified, man, selection)

    files, size = _placed(blobs, qualified, man.algorithm, entries, dest, callback, copy, missing)
    _remember(blobs, dest, qualified, manifest, selection)
    blobs.cache.used_version(blobs.url, qualified, manifest, size, files)
    if missing:
        missing[:] = sorted(set(missing))  # (a download begun again after a purged file lists some twice)
        more = f" and {len(missing) - 10:,} more" if len(missing) > 10 else ""
        warn(
            MissingReferenceWarning(
                f"{qualified}: {len(missing):,} referenced object(s) no longer exist and were not downloaded: "
                f"{', '.join(missing[:10])}{more}"
            )
        )


def folder_status(blobs: BlobReader, qualified: str, man: Manifest, root: Path, selection: Selection) -> FolderStatus:
    """How the folder ``root`` differs from the entries of ``man`` that ``selection`` takes."""
    if not root.is_dir():
        raise LocalFileError(f"{root} is not a folder")
    missing, changed, extra = compare(os.fspath(root), _selected(qualified, man, selection), blobs.stat_cache)
    return FolderStatus(os.fspath(root), qualified, missing, changed, extra, selection)


def checkout(
    blobs: BlobReader,
    qualified: str,
    man: Manifest,
    manifest: str,
    root: Path,
    selection: Selection,
    callback: Callback | None = None,
    *,
    copy: bool = False,
) -> FolderStatus:
    """Make ``root`` hold exactly the selected entries: fetch what is missing or changed,
    remove extra files (and the folders they leave empty). Returns how it differed before."""
    root.mkdir(parents=True, exist_ok=True)
    status = folder_status(blobs, qualified, man, root, selection)
    fix = set(status.missing) | set(status.changed)
    if fix:
        _placed(
            blobs,
            qualified,
            man.algorithm,
            lambda: (e for e in _selected(qualified, man, selection) if e.path in fix),
            root,
            callback,
            copy,
        )
    for path in status.extra:
        target = root / path
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        except OSError as e:
            raise LocalFileError(f"cannot remove the extra file {target}: {e.strerror or e}") from e
        for parent in target.parents:
            if parent == root or root not in parent.parents:
                break
            with contextlib.suppress(OSError):  # not empty: kept
                parent.rmdir()
    _remember(blobs, root, qualified, manifest, selection)
    return status


class LocalSide:
    """What a logged version does with local folders: :meth:`download` (all of it or part),
    :meth:`get_path`, :meth:`verify` a folder against it, :meth:`checkout` a folder to it; and
    which of its files were purged (what a download leaves out).
    Mixed into :class:`~artifactfs.Artifact`, which supplies the logged state."""

    def _require_logged(self) -> tuple[BlobReader, VersionRecord, Manifest]:
        raise NotImplementedError

    def _entry(self, name: str) -> Entry:
        raise NotImplementedError

    @property
    def purged(self) -> list[str]:
        """Paths of this version whose bytes were purged from the store (``Store.purge``), in
        path order: one listing of the store's purge records, and the records it names."""
        return sorted(self.purged_files())

    def purged_files(self, entries: Iterable[Entry] | None = None) -> dict[str, PurgeRecord]:
        """The files of this version (or of ``entries`` of it) whose bytes were purged, with
        the purge record of each (when, by whom, why): path -> record."""
        blobs, _, man = self._require_logged()
        return purged_entries(blobs.backend, man.iter_entries() if entries is None else entries, man.algorithm)

    def _default_root(self, root: str | os.PathLike[str] | None) -> Path:
        rec = self._require_logged()[1]
        return Path(root) if root is not None else Path("artifacts") / f"{rec.name}-v{rec.version}"

    def download(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        copy: bool = False,
        callback: Callback | None = None,
        path_prefix: str | None = None,
        include: Globs = None,
        exclude: Globs = None,
        allow_missing_references: bool = False,
    ) -> str:
        """Materialise the version's entries under ``root`` (default ``./artifacts/<name>-v<N>``);
        return it.

        Every byte is checked against its digest. Files are read-only hard links into this
        machine's blob cache where the folder and the cache share a filesystem, so the next
        download of the same bytes writes nothing; ``copy=True`` writes private, writable
        copies instead. ``callback`` (an ``fsspec.callbacks.Callback``) sees blob downloads.

        ``path_prefix``, ``include`` and ``exclude`` (globs on the entry path; see
        :class:`~artifactfs.folders.Selection`) take part of it: only those blobs are fetched.

        An external reference whose object is gone raises
        :class:`~artifactfs.errors.MissingReferenceError`; with ``allow_missing_references=True``
        it is skipped and a :class:`~artifactfs.errors.MissingReferenceWarning` names it. One
        whose object changed raises :class:`~artifactfs.errors.IntegrityError` either way.
        Files whose bytes were purged from the store (``Store.purge``) are left out, with a
        :class:`~artifactfs.errors.PurgedWarning` naming them.
        """
        blobs, rec, man = self._require_logged()
        dest = self._default_root(root)
        selection = Selection.of(path_prefix, include, exclude)
        download(
            blobs,
            rec.qualified_name,
            man,
            str(rec.manifest),
            dest,
            selection,
            callback,
            copy=copy,
            allow_missing_references=allow_missing_references,
        )
        return os.fspath(dest)

    def get_path(self, name: str, root: str | os.PathLike[str] | None = None, *, copy: bool = False) -> str:
        """Download one entry (verified, as :meth:`download`) and return its local path; a
        :class:`~artifactfs.errors.PurgedError` if its bytes were purged from the store."""
        blobs, rec, _ = self._require_logged()
        entry = self._entry(name)
        dest = self._default_root(root)
        try:
            materialize(blobs, rec.qualified_name, [entry], dest, copy=copy)
        except IntegrityError:
            if (gone := blobs.purged(rec.qualified_name, entry)) is not None:
                raise gone from None
            raise
        return os.fspath(dest / entry.path)

    def verify(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        path_prefix: str | None = None,
        include: Globs = None,
        exclude: Globs = None,
    ) -> FolderStatus:
        """How the folder ``root`` (default: where :meth:`download` puts it) differs from this
        version: files missing, changed, and extra. True when it holds exactly the version.

        Unlike W&B's ``verify``, which raises, this returns the report; files are hashed
        unless the stat cache knows them unchanged since they were downloaded or compared.
        """
        blobs, rec, man = self._require_logged()
        return folder_status(
            blobs, rec.qualified_name, man, self._default_root(root), Selection.of(path_prefix, include, exclude)
        )

    def checkout(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        copy: bool = False,
        callback: Callback | None = None,
        path_prefix: str | None = None,
        include: Globs = None,
        exclude: Globs = None,
    ) -> FolderStatus:
        """Make the folder ``root`` hold exactly this version (or the part selected): fetch
        what is missing or changed and remove extra files. Returns how it differed before."""
        blobs, rec, man = self._require_logged()
        selection = Selection.of(path_prefix, include, exclude)
        dest = self._default_root(root)
        return checkout(blobs, rec.qualified_name, man, str(rec.manifest), dest, selection, callback, copy=copy)
