"""Exceptions raised by artifactfs.

Every error the library raises on purpose derives from :class:`ArtifactFSError`::

    ArtifactFSError
    ├── InvalidInputError (ValueError)      bad input from the caller
    │   ├── InvalidNameError                 project, artifact, alias or entry name
    │   ├── InvalidReferenceError            "project/name:alias" that does not parse
    │   ├── ArtifactTypeError                type does not match the artifact's type
    │   ├── ArtifactStateError               e.g. adding files to an artifact already logged
    │   │   └── ReadOnlyError (TypeError)    changing a logged version's metadata in place
    │   └── SourceChangedError               a local file changed while it was being logged
    ├── NotFoundError (LookupError)         something named does not exist
    │   ├── ProjectNotFoundError
    │   ├── ArtifactNotFoundError            artifact name, version or alias
    │   ├── EntryNotFoundError               path inside an artifact version
    │   ├── RunNotFoundError
    │   ├── KeyNotFoundError                 a store key (internal; turned into one of the above)
    │   ├── IncompleteLineageError           an upstream version or blob of a lineage is gone
    │   ├── MissingReferenceError            an object an external reference points at is gone
    │   ├── PurgedError                      a file whose bytes were purged from the store
    │   ├── LocalPathNotFoundError (FileNotFoundError)   a local file or folder to add
    │   └── PathNotFoundError (FileNotFoundError)        an ``afs://`` path that names nothing
    ├── IntegrityError                       bytes do not match their recorded digest/size
    ├── FormatError                          a record or manifest that cannot be decoded
    │   └── MisplacedRecordError             a record whose content disagrees with its key
    ├── StoreError (OSError)                the backend failed (permissions, network, ...)
    │   ├── StoreNotFoundError               no store at that URL (only writing makes one)
    │   ├── StoreOfflineError                known offline: nothing was sent
    │   └── UnsupportedBackendError          the backend lacks a guarantee artifactfs needs
    ├── LocalFileError (OSError)            a local file or folder failed: disk full, permissions, ...
    └── JobError                             a distributed job writing an artifact failed

Warnings derive from :class:`ArtifactFSWarning` (a ``UserWarning``), so callers can filter
them as one category: :class:`SkippedPathWarning` names files ``add_dir`` left out,
:class:`OfflineWarning` an alias answered as it was last seen, the store being offline,
:class:`MissingReferenceWarning` the external references a download skipped.
:class:`PurgedWarning` files a download left out because their bytes were purged.

Errors from fsspec or the OS are translated at the storage layer and chained with ``from``,
so the original cause stays available as ``__cause__``.
"""

from __future__ import annotations

import errno
import inspect
import os
import warnings

__all__ = [
    "ArtifactFSError",
    "ArtifactNotFoundError",
    "ArtifactStateError",
    "ArtifactFSWarning",
    "ArtifactTypeError",
    "CacheWarning",
    "EntryNotFoundError",
    "FormatError",
    "IncompleteLineageError",
    "IntegrityError",
    "InvalidInputError",
    "InvalidNameError",
    "InvalidReferenceError",
    "JobError",
    "KeyNotFoundError",
    "LocalFileError",
    "LocalPathNotFoundError",
    "MisplacedRecordError",
    "MissingReferenceError",
    "MissingReferenceWarning",
    "NotFoundError",
    "OfflineWarning",
    "PathNotFoundError",
    "ProjectNotFoundError",
    "PurgedError",
    "PurgedWarning",
    "ReadOnlyError",
    "RunNotFoundError",
    "SkippedPathWarning",
    "SourceChangedError",
    "StoreError",
    "StoreNotFoundError",
    "StoreOfflineError",
    "UnsupportedBackendError",
    "local_file_error",
]


class ArtifactFSError(Exception):
    """Base class of every error artifactfs raises on purpose."""


class InvalidInputError(ArtifactFSError, ValueError):
    """The caller passed something artifactfs cannot accept."""


class InvalidNameError(InvalidInputError):
    """A project, artifact, alias or entry name is empty, too long or unsafe."""


class InvalidReferenceError(InvalidInputError):
    """An artifact reference such as ``project/name:v3`` does not parse."""


class ArtifactTypeError(InvalidInputError):
    """The artifact exists but has another type than the one asked for."""


class ArtifactStateError(InvalidInputError):
    """The operation does not fit the artifact's or run's state (logged, finished, ...)."""


class ReadOnlyError(ArtifactStateError, TypeError):
    """A value of a logged version (metadata, a table's fields, a run's config) was changed in
    place: logged versions are read-only values."""


class SourceChangedError(InvalidInputError):
    """A local file changed while it was being logged; nothing was stored under the old digest."""


class NotFoundError(ArtifactFSError, LookupError):
    """Something named by the caller does not exist in the store."""


class ProjectNotFoundError(NotFoundError):
    """The project has no artifacts and no runs."""


class ArtifactNotFoundError(NotFoundError):
    """No artifact, version or alias matches the reference."""


class EntryNotFoundError(NotFoundError):
    """The artifact version has no entry at that path."""


class RunNotFoundError(NotFoundError):
    """No run with that id exists in the project."""


class KeyNotFoundError(NotFoundError):
    """A store key does not exist (internal; callers turn it into a specific NotFoundError)."""


class IncompleteLineageError(NotFoundError):
    """Part of what a version was made from (an upstream version, or one of its blobs) is gone."""


class MissingReferenceError(NotFoundError):
    """An object an external reference (``add_reference`` of a URI) points at no longer exists."""


class PurgedError(NotFoundError):
    """The bytes of a file were purged from the store on purpose (``Store.purge``): ``path``
    is the file, ``purged_at``, ``user`` and ``reason`` come from the purge record.

    A :class:`NotFoundError`, not an :class:`IntegrityError`: nothing is damaged, the store
    holds what it should, as a deleted version is not found either."""

    def __init__(
        self,
        message: str,
        path: str | None = None,
        purged_at: str | None = None,
        user: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path, self.purged_at, self.user, self.reason = path, purged_at, user, reason


class LocalPathNotFoundError(NotFoundError, FileNotFoundError):
    """A local file or folder given to add_file/add_dir does not exist."""


class PathNotFoundError(NotFoundError, FileNotFoundError):
    """A path of the ``afs://`` filesystem names no project, artifact, version, folder or file
    (a ``FileNotFoundError``, as fsspec callers expect)."""


class IntegrityError(ArtifactFSError):
    """Bytes read back do not match the digest or size they were recorded with."""


class FormatError(ArtifactFSError):
    """A stored record or manifest cannot be decoded, or has an unknown format version."""


class MisplacedRecordError(FormatError):
    """A record says it is something other than what its key names (``a/x:v0`` filed as
    ``b/y:v0``, an alias event under another alias): refused, never believed."""


class StoreError(ArtifactFSError, OSError):
    """The storage backend failed: permissions, network, a missing bucket, ..."""


class StoreNotFoundError(StoreError):
    """No store exists at that URL or path; reading never creates one, only writing does."""


class StoreOfflineError(StoreError):
    """The store is known to be offline ($ARTIFACTFS_OFFLINE, or found unreachable earlier in
    this process): nothing was sent to it."""


class UnsupportedBackendError(StoreError):
    """The backend lacks a guarantee artifactfs relies on (such as atomic create)."""


class LocalFileError(ArtifactFSError, OSError):
    """Reading or writing a local file or folder failed: a full disk, a file too large for its
    filesystem, missing permissions, a read-only folder. The message names the path."""


_HINTS = {
    errno.ENOSPC: "the disk is full: free some space, or choose a folder on another disk",
    errno.EDQUOT: "the disk quota is used up: free some space, or choose another folder",
    errno.EFBIG: "the file is larger than this filesystem or the file size limit allows "
    "(FAT32 holds 4 GiB at most; see ulimit -f): choose a folder on another filesystem",
    errno.EACCES: "permission denied: fix the permissions, or choose another folder",
    errno.EPERM: "not permitted: fix the permissions, or choose another folder",
    errno.EROFS: "the filesystem is read-only: choose a writable folder",
    errno.ENAMETOOLONG: "a name is too long for this filesystem",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n)",
    errno.EIO: "an input/output error: the disk may be failing",
}


def local_file_error(e: OSError, action: str, path: object = None, hint: str | None = None) -> LocalFileError:
    """``e`` as a :class:`LocalFileError`: what failed (``action``), on which path (``path``,
    else the one the OS named), why, and what to do (``hint``, else one for its errno)."""
    target = path if path is not None else e.filename
    why = e.strerror or str(e)
    advice = hint or _HINTS.get(e.errno or 0)
    message = f"cannot {action}{f' {target}' if target is not None else ''}: {why}"
    return LocalFileError(f"{message} ({advice})" if advice else message)


class JobError(ArtifactFSError):
    """A distributed job (such as Dask workers writing table parts) failed; nothing was logged."""


class ArtifactFSWarning(UserWarning):
    """Base class of the warnings artifactfs issues (filter them as one category)."""


class OfflineWarning(ArtifactFSWarning):
    """An answer came from what this machine saw of a store it cannot reach now (an alias as
    it was then)."""


class CacheWarning(ArtifactFSWarning):
    """Something about the local cache folder the user should know (its databases moved off a
    network filesystem)."""


class PurgedWarning(ArtifactFSWarning):
    """A download left out files whose bytes were purged from the store (``paths``)."""

    def __init__(self, message: str, paths: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.paths = paths


class SkippedPathWarning(ArtifactFSWarning):
    """``add_dir`` left out paths it cannot log (dangling links, FIFOs, sockets, ...)."""


class MissingReferenceWarning(ArtifactFSWarning):
    """``download(allow_missing_references=True)`` skipped external references whose objects
    are gone (the message names them)."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(warning: Warning) -> None:
    """Issue ``warning`` from the caller's own code: the first frame outside artifactfs, so
    that its file and line (and the filters that match on them) are the user's."""
    level, frame = 2, inspect.currentframe()
    frame = frame.f_back if frame is not None else None  # the caller of warn
    while frame is not None and frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    del frame
    warnings.warn(warning, stacklevel=level)
