"""Exceptions raised by artifactfs.

Every error the library raises on purpose derives from :class:`ArtifactFSError`::

    ArtifactFSError
    ├── InvalidInputError (ValueError)      bad input from the caller
    │   ├── InvalidNameError                 project, artifact, alias or entry name
    │   ├── InvalidReferenceError            "project/name:alias" that does not parse
    │   ├── ArtifactTypeError                type does not match the artifact's type
    │   └── ArtifactStateError               e.g. adding files to an artifact already logged
    ├── NotFoundError (LookupError)         something named does not exist
    │   ├── ProjectNotFoundError
    │   ├── ArtifactNotFoundError            artifact name, version or alias
    │   ├── EntryNotFoundError               path inside an artifact version
    │   ├── RunNotFoundError
    │   └── LocalPathNotFoundError (FileNotFoundError)   a local file or folder to add
    ├── IntegrityError                       bytes do not match their recorded digest/size
    ├── FormatError                          a record or manifest that cannot be decoded
    ├── StoreError (OSError)                the backend failed (permissions, network, ...)
    │   └── UnsupportedBackendError          the backend lacks a guarantee artifactfs needs
    └── JobError                             a distributed job writing an artifact failed

Errors from fsspec or the OS are translated at the storage layer and chained with ``from``,
so the original cause stays available as ``__cause__``.
"""

from __future__ import annotations

__all__ = [
    "ArtifactFSError",
    "ArtifactNotFoundError",
    "ArtifactStateError",
    "ArtifactTypeError",
    "EntryNotFoundError",
    "FormatError",
    "IntegrityError",
    "InvalidInputError",
    "InvalidNameError",
    "InvalidReferenceError",
    "JobError",
    "LocalPathNotFoundError",
    "NotFoundError",
    "ProjectNotFoundError",
    "RunNotFoundError",
    "StoreError",
    "UnsupportedBackendError",
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


class LocalPathNotFoundError(NotFoundError, FileNotFoundError):
    """A local file or folder given to add_file/add_dir does not exist."""


class IntegrityError(ArtifactFSError):
    """Bytes read back do not match the digest or size they were recorded with."""


class FormatError(ArtifactFSError):
    """A stored record or manifest cannot be decoded, or has an unknown format version."""


class StoreError(ArtifactFSError, OSError):
    """The storage backend failed: permissions, network, a missing bucket, ..."""


class UnsupportedBackendError(StoreError):
    """The backend lacks a guarantee artifactfs relies on (such as atomic create)."""


class JobError(ArtifactFSError):
    """A distributed job (such as Dask workers writing table parts) failed; nothing was logged."""
