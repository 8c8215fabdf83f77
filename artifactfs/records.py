"""Version, alias, claim and run records: small msgpack maps (no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from . import codec
from .errors import FormatError
from .hashing import Digest

__all__ = ["AliasEvent", "ArtifactVersionId", "RunRecord", "VersionRecord"]


def _load(data: bytes, what: str) -> dict[str, Any]:
    d = codec.decode(data, what)
    codec.check_format(d, what)
    return d


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
    def from_dict(cls, d: dict[str, Any]) -> ArtifactVersionId:
        try:
            return cls(str(d["project"]), str(d["name"]), int(d["version"]), Digest.parse(d["manifest"]))
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(f"malformed artifact version reference {d!r:.80}: {e}") from e


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

    def to_bytes(self) -> bytes:
        return codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "version",
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
        try:
            run = d.get("run") or {}
            return cls(
                project=str(d["project"]),
                name=str(d["name"]),
                version=int(d["version"]),
                type=str(d["type"]),
                manifest=Digest.parse(d["manifest"]),
                content=Digest.parse(d["content"]),
                size=int(d["size"]),
                file_count=int(d["file_count"]),
                created_at=str(d["created_at"]),
                run_project=run.get("project"),
                run_id=run.get("id"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise FormatError(f"malformed {what}: {e}") from e


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
        try:
            v = d["version"]
            return cls(str(d["alias"]), None if v is None else int(v), str(d["created_at"]), d.get("run"))
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(f"malformed {what}: {e}") from e


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
        try:
            return cls(
                id=str(d["id"]),
                project=str(d["project"]),
                name=str(d["name"]),
                job_type=d.get("job_type"),
                config=dict(d.get("config") or {}),
                status=str(d["status"]),
                started_at=str(d["started_at"]),
                finished_at=d.get("finished_at"),
                inputs=tuple(ArtifactVersionId.from_dict(i) for i in d.get("inputs") or ()),
                outputs=tuple(ArtifactVersionId.from_dict(o) for o in d.get("outputs") or ()),
                host=d.get("host"),
                error=d.get("error"),
                extra=dict(d.get("extra") or {}),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(f"malformed {what}: {e}") from e
