"""Version, alias, claim and run records: small msgpack maps (no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from . import codec
from .errors import FormatError, InvalidNameError
from .hashing import Digest
from .refs import check_name

__all__ = ["AliasEvent", "ArtifactVersionId", "Lease", "RunRecord", "Tombstone", "VersionRecord"]


def _load(data: bytes, what: str) -> dict[str, Any]:
    d = codec.decode(data, what)
    codec.check_format(d, what)
    return d


def _name(d: dict[str, Any], key: str, what: str, *, optional: bool = False) -> Any:
    """A field that must be a valid name (it becomes part of store keys)."""
    v = codec.get_str(d, key, what, optional=optional)
    if v is None:
        return None
    try:
        return check_name(v, key)
    except InvalidNameError as e:
        raise FormatError(f"{what}: {e}") from None


def _digest(d: dict[str, Any], key: str, what: str) -> Digest:
    return Digest.parse(codec.get_str(d, key, what))


@dataclass(frozen=True, slots=True)
class ArtifactVersionId:
    """``project/name:vN`` plus the manifest digest that pins its content."""

    project: str
    name: str
    version: int
    manifest: Digest

    @property
    def qualified_name(self) -> str:
        return f"{self.project}/{self.name}:v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.project, "name": self.name, "version": self.version, "manifest": str(self.manifest)}

    @classmethod
    def from_dict(cls, d: object, what: str = "artifact version reference") -> ArtifactVersionId:
        if not isinstance(d, dict):
            raise FormatError(f"{what} must be a map, got {type(d).__name__}")
        return cls(
            _name(d, "project", what),
            _name(d, "name", what),
            codec.get_int(d, "version", what),
            _digest(d, "manifest", what),
        )


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """``versions/<N>``: created once with create-if-absent, never rewritten."""

    project: str
    name: str
    version: int
    type: str
    manifest: Digest
    content: Digest
    size: int
    file_count: int
    created_at: str
    run_project: str | None = None
    run_id: str | None = None
    origin: dict[str, Any] | None = None  # where a copied version came from

    def to_bytes(self) -> bytes:
        return codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "version",
                "origin": self.origin,
                "project": self.project,
                "name": self.name,
                "version": self.version,
                "type": self.type,
                "manifest": str(self.manifest),
                "content": str(self.content),
                "size": self.size,
                "file_count": self.file_count,
                "created_at": self.created_at,
                "run": {"project": self.run_project, "id": self.run_id} if self.run_id else None,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> VersionRecord:
        d = _load(data, what)
        run = codec.get_map(d, "run", what)
        return cls(
            project=_name(d, "project", what),
            name=_name(d, "name", what),
            version=codec.get_int(d, "version", what),
            type=_name(d, "type", what),
            manifest=_digest(d, "manifest", what),
            content=_digest(d, "content", what),
            size=codec.get_int(d, "size", what),
            file_count=codec.get_int(d, "file_count", what),
            created_at=codec.get_str(d, "created_at", what),
            run_project=_name(run, "project", what, optional=True),
            run_id=_name(run, "id", what, optional=True),
            origin=codec.get_map(d, "origin", what) or None,
        )


@dataclass(frozen=True, slots=True)
class AliasEvent:
    """``aliases/<alias>/<seq>``: the alias points at ``version`` (None: removed)."""

    alias: str
    version: int | None
    created_at: str
    run_id: str | None = None

    def to_bytes(self) -> bytes:
        return codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "alias",
                "alias": self.alias,
                "version": self.version,
                "created_at": self.created_at,
                "run": self.run_id,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> AliasEvent:
        d = _load(data, what)
        return cls(
            _name(d, "alias", what),
            codec.get_int(d, "version", what, optional=True),
            codec.get_str(d, "created_at", what),
            _name(d, "run", what, optional=True),
        )


@dataclass(frozen=True, slots=True)
class Tombstone:
    """``tombstones/<N>``: version N was deleted (its record stays, for lineage)."""

    version: int
    deleted_at: str
    reason: str | None = None

    def to_bytes(self) -> bytes:
        return codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "tombstone",
                "version": self.version,
                "deleted_at": self.deleted_at,
                "reason": self.reason,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> Tombstone:
        d = _load(data, what)
        return cls(
            codec.get_int(d, "version", what),
            codec.get_str(d, "deleted_at", what),
            codec.get_str(d, "reason", what, optional=True),
        )


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What a run was: its job type, config, status, and the versions it used and logged."""

    id: str
    project: str
    name: str
    job_type: str | None
    config: dict[str, Any]
    status: str  # running | finished | failed
    started_at: str
    finished_at: str | None = None
    inputs: tuple[ArtifactVersionId, ...] = ()
    outputs: tuple[ArtifactVersionId, ...] = ()
    host: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, or None while running."""
        if not self.finished_at:
            return None
        start = dt.datetime.fromisoformat(self.started_at)
        return (dt.datetime.fromisoformat(self.finished_at) - start).total_seconds()

    def with_input(self, ref: ArtifactVersionId) -> RunRecord:
        return self if ref in self.inputs else replace(self, inputs=(*self.inputs, ref))

    def with_output(self, ref: ArtifactVersionId) -> RunRecord:
        return self if ref in self.outputs else replace(self, outputs=(*self.outputs, ref))

    def to_bytes(self) -> bytes:
        return codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "run",
                "id": self.id,
                "project": self.project,
                "name": self.name,
                "job_type": self.job_type,
                "config": self.config,
                "status": self.status,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "inputs": [i.to_dict() for i in self.inputs],
                "outputs": [o.to_dict() for o in self.outputs],
                "host": self.host,
                "error": self.error,
                "extra": self.extra,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> RunRecord:
        d = _load(data, what)
        return cls(
            id=_name(d, "id", what),
            project=_name(d, "project", what),
            name=codec.get_str(d, "name", what),
            job_type=codec.get_str(d, "job_type", what, optional=True),
            config=codec.get_map(d, "config", what),
            status=codec.get_str(d, "status", what),
            started_at=codec.get_str(d, "started_at", what),
            finished_at=codec.get_str(d, "finished_at", what, optional=True),
            inputs=tuple(ArtifactVersionId.from_dict(i, what) for i in codec.get_list(d, "inputs", what)),
            outputs=tuple(ArtifactVersionId.from_dict(o, what) for o in codec.get_list(d, "outputs", what)),
            host=codec.get_str(d, "host", what, optional=True),
            error=codec.get_str(d, "error", what, optional=True),
            extra=codec.get_map(d, "extra", what),
        )


@dataclass(frozen=True, slots=True)
class Lease:
    """``locks/commits/<id>`` or ``locks/gc``: a commit or a gc at work, renewed while it runs.

    ``renewed`` is the holder's wall clock (epoch seconds) at the last renewal; a lease not
    renewed for ``ttl`` seconds, or whose process is gone from this host, is dead.
    """

    role: str  # commit | gc
    id: str
    host: str
    pid: int
    created_at: str
    renewed: float
    ttl: float

    def to_bytes(self) -> bytes:
        return codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "lease",
                "role": self.role,
                "id": self.id,
                "host": self.host,
                "pid": self.pid,
                "created_at": self.created_at,
                "renewed": self.renewed,
                "ttl": self.ttl,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> Lease:
        d = _load(data, what)
        role = codec.get_str(d, "role", what)
        if role not in ("commit", "gc"):
            raise FormatError(f"{what}: unknown lease role {role!r}")
        renewed, ttl = d.get("renewed"), d.get("ttl")
        if not isinstance(renewed, int | float) or isinstance(renewed, bool):
            raise FormatError(f"{what}: field 'renewed' must be a number")
        if not isinstance(ttl, int | float) or isinstance(ttl, bool) or not 0 < ttl < 2**31:
            raise FormatError(f"{what}: field 'ttl' must be a positive number")
        return cls(
            role,
            _name(d, "id", what),
            codec.get_str(d, "host", what),
            codec.get_int(d, "pid", what),
            codec.get_str(d, "created_at", what),
            float(renewed),
            float(ttl),
        )
