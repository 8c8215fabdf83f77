"""The records of versions, aliases, deletions, runs and the store itself, each with a typed
decoder (no I/O); the claims, markers and leases are :mod:`artifactfs.markers`.

Decoders take untrusted bytes: each refuses input larger than its kind's bound
(:data:`MAX_BYTES`) before decoding it, and anything malformed with :class:`FormatError`.
A record that names its own identity (project, artifact, version, alias, run id, manifest)
is read with the identity its key gives, and must agree with it: a version record filed at
``a/x:v0`` that says it is ``b/y:v0`` is a :class:`MisplacedRecordError`, never believed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from . import codec
from .errors import FormatError, InvalidInputError
from .fields import MAX_BYTES, agree, check_size, digest_field, load, name_field, time_field
from .frozen import freeze
from .hashing import ALGORITHMS, Digest

__all__ = [
    "MAX_BYTES",
    "AliasEvent",
    "ArtifactVersionId",
    "PartRecord",
    "RunRecord",
    "StoreDescriptor",
    "Tombstone",
    "VersionRecord",
    "check_size",
]


@dataclass(frozen=True, slots=True)
class StoreDescriptor:
    """``artifactfs.msgpack``: the store's format, digest algorithm and blob layout.

    Any value this release does not know is refused, as a newer format is: guessing a
    layout could make gc collect live blobs.
    """

    format: int
    algorithm: str
    blob_levels: int  # 1: blobs/<alg>/<ab>/<hex> (format 2); 2: blobs/<alg>/<ab>/<cd>/<hex> (format 1)
    created_at: str | None = None
    # A random id given when the store is made: what process-wide caches are keyed by, as a
    # store deleted and made again at the same URL is another store. None in older stores.
    id: str | None = None

    def to_bytes(self) -> bytes:
        d: dict[str, object] = {
            "format": self.format,
            "kind": "store",
            "algorithm": self.algorithm,
            "blob_levels": self.blob_levels,
            "created_at": self.created_at,
        }
        if self.id is not None:
            d["id"] = self.id
        return codec.encode(d)

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> StoreDescriptor:
        d = load(data, what, "store")
        fmt = d["format"]
        algorithm = codec.get_str(d, "algorithm", what)
        if algorithm not in ALGORITHMS:
            raise FormatError(f"{what} uses the digest algorithm {algorithm!r}, unknown to this artifactfs")
        levels = d.get("blob_levels", 2 if fmt == 1 else None)
        if fmt == 1 and levels != 2:
            raise FormatError(f"{what}: a format 1 store keeps blobs in 2 levels of folders, not {levels!r}")
        if levels not in (1, 2) or isinstance(levels, bool):
            raise FormatError(
                f"{what} keeps its blobs in {levels!r} levels of folders, a layout this artifactfs does not "
                "know: upgrade artifactfs before reading or collecting this store"
            )
        store_id = codec.get_str(d, "id", what, optional=True)
        return cls(fmt, algorithm, levels, codec.get_str(d, "created_at", what, optional=True), store_id)


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
            name_field(d, "project", what),
            name_field(d, "name", what),
            codec.get_int(d, "version", what),
            digest_field(d, "manifest", what),
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
    linked: ArtifactVersionId | None = None  # a registry version: the version it links to
    drafted_from: ArtifactVersionId | None = None  # new_draft: the version it was made from

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin", freeze(self.origin))

    @property
    def qualified_name(self) -> str:
        return f"{self.project}/{self.name}:v{self.version}"

    @property
    def version_id(self) -> ArtifactVersionId:
        """What lineage edges naming this version hold."""
        return ArtifactVersionId(self.project, self.name, self.version, self.manifest)

    def to_bytes(self) -> bytes:
        linked = {"linked": self.linked.to_dict()} if self.linked is not None else {}
        if self.drafted_from is not None:
            linked["drafted_from"] = self.drafted_from.to_dict()
        data = codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "version",
                **linked,
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
        return check_size("version", data, f"version record of {self.qualified_name}")

    @classmethod
    def from_bytes(cls, data: bytes, what: str, *, at: tuple[str, str, int]) -> VersionRecord:
        """Decode the record read from the key of ``at`` = (project, name, number)."""
        d = load(data, what, "version")
        run = codec.get_map(d, "run", what)
        rec = cls(
            project=name_field(d, "project", what),
            name=name_field(d, "name", what),
            version=codec.get_int(d, "version", what),
            type=name_field(d, "type", what),
            manifest=digest_field(d, "manifest", what),
            content=digest_field(d, "content", what),
            size=codec.get_int(d, "size", what),
            file_count=codec.get_int(d, "file_count", what),
            created_at=time_field(d, "created_at", what),
            run_project=name_field(run, "project", what, optional=True),
            run_id=name_field(run, "id", what, optional=True),
            origin=codec.get_map(d, "origin", what) or None,
            linked=ArtifactVersionId.from_dict(d["linked"], what) if d.get("linked") is not None else None,
            drafted_from=(
                ArtifactVersionId.from_dict(d["drafted_from"], what) if d.get("drafted_from") is not None else None
            ),
        )
        if rec.linked is not None and rec.linked.manifest != rec.manifest:
            raise FormatError(f"{what}: a registry version must hold the manifest of the version it links to")
        if (rec.run_project is None) != (rec.run_id is None):
            raise FormatError(f"{what}: field 'run' must name both a project and an id, or be null")
        agree(what, (rec.project, rec.name, rec.version), at, "project, name and version")
        return rec


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
    def from_bytes(cls, data: bytes, what: str, *, alias: str) -> AliasEvent:
        """Decode an event read from the folder of ``alias``."""
        d = load(data, what, "alias")
        ev = cls(
            name_field(d, "alias", what),
            codec.get_int(d, "version", what, optional=True),
            time_field(d, "created_at", what),
            name_field(d, "run", what, optional=True),
        )
        agree(what, ev.alias, alias, "alias")
        return ev


MAX_REASON = 4000  # characters of a deletion reason


@dataclass(frozen=True, slots=True)
class Tombstone:
    """``tombstones/<N>``: version N was deleted (its record stays, for lineage)."""

    version: int
    deleted_at: str
    reason: str | None = None

    def to_bytes(self) -> bytes:
        if self.reason is not None and len(self.reason) > MAX_REASON:
            raise InvalidInputError(f"a deletion reason may hold {MAX_REASON} characters, got {len(self.reason)}")
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
    def from_bytes(cls, data: bytes, what: str, *, version: int) -> Tombstone:
        """Decode the tombstone read from the key of ``version``."""
        d = load(data, what, "tombstone")
        stone = cls(
            codec.get_int(d, "version", what),
            time_field(d, "deleted_at", what),
            codec.get_str(d, "reason", what, optional=True),
        )
        agree(what, stone.version, version, "version")
        return stone


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
    summary: dict[str, Any] = field(default_factory=dict)  # run.summary: final metrics
    history: tuple[dict[str, Any], ...] = ()  # run.log(...) rows, each with its "_step"

    def __post_init__(self) -> None:
        # Read-only: finished runs are cached and shared by every reader in the process.
        object.__setattr__(self, "config", freeze(self.config))
        object.__setattr__(self, "extra", freeze(self.extra))
        object.__setattr__(self, "summary", freeze(self.summary))
        object.__setattr__(self, "history", tuple(freeze(h) for h in self.history))

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, or None while running (or if the times do not parse)."""
        if not self.finished_at:
            return None
        try:
            start = dt.datetime.fromisoformat(self.started_at)
            return (dt.datetime.fromisoformat(self.finished_at) - start).total_seconds()
        except (TypeError, ValueError):
            return None

    def with_input(self, ref: ArtifactVersionId) -> RunRecord:
        return self if ref in self.inputs else replace(self, inputs=(*self.inputs, ref))

    def with_output(self, ref: ArtifactVersionId) -> RunRecord:
        return self if ref in self.outputs else replace(self, outputs=(*self.outputs, ref))

    def to_bytes(self) -> bytes:
        data = codec.encode(
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
                "summary": self.summary,
                "history": list(self.history),
            }
        )
        return check_size("run", data, f"the record of run {self.id} (its config and the versions it used and logged)")

    @classmethod
    def from_bytes(cls, data: bytes, what: str, *, at: tuple[str, str]) -> RunRecord:
        """Decode the record read from the key of ``at`` = (project, run id)."""
        d = load(data, what, "run")
        run = cls(
            id=name_field(d, "id", what),
            project=name_field(d, "project", what),
            name=codec.get_str(d, "name", what),
            job_type=codec.get_str(d, "job_type", what, optional=True),
            config=codec.get_map(d, "config", what),
            status=codec.get_str(d, "status", what),
            started_at=time_field(d, "started_at", what),
            finished_at=time_field(d, "finished_at", what, optional=True),
            inputs=tuple(ArtifactVersionId.from_dict(i, what) for i in codec.get_list(d, "inputs", what)),
            outputs=tuple(ArtifactVersionId.from_dict(o, what) for o in codec.get_list(d, "outputs", what)),
            host=codec.get_str(d, "host", what, optional=True),
            error=codec.get_str(d, "error", what, optional=True),
            extra=codec.get_map(d, "extra", what),
            summary=codec.get_map(d, "summary", what),
            history=tuple(_history_row(h, what) for h in codec.get_list(d, "history", what)),
        )
        agree(what, (run.project, run.id), at, "project and run id")
        return run


def _history_row(row: Any, what: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise FormatError(f"{what}: a history row must be a map, got {type(row).__name__}")
    return row


@dataclass(frozen=True)
class PartRecord:
    """One writer's part: the manifest of what it added (named by its content digest)."""

    distributed_id: str
    manifest: Digest
    content: Digest
    count: int
    created_at: str
    run_id: str | None = None
    host: str | None = None

    def to_bytes(self) -> bytes:
        return codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "part",
                "distributed_id": self.distributed_id,
                "manifest": str(self.manifest),
                "content": str(self.content),
                "count": self.count,
                "created_at": self.created_at,
                "run": self.run_id,
                "host": self.host,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> PartRecord:
        d = load(data, what, "part")
        return cls(
            name_field(d, "distributed_id", what),
            Digest.parse(codec.get_str(d, "manifest", what)),
            Digest.parse(codec.get_str(d, "content", what)),
            codec.get_int(d, "count", what),
            time_field(d, "created_at", what),
            codec.get_str(d, "run", what, optional=True),
            codec.get_str(d, "host", what, optional=True),
        )
