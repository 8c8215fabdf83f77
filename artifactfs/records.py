"""Every small record of a store, each with a typed decoder (no I/O).

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
from .errors import FormatError, InvalidInputError, InvalidNameError, MisplacedRecordError
from .frozen import freeze
from .hashing import ALGORITHMS, Digest
from .refs import check_name

__all__ = [
    "MAX_BYTES",
    "AliasEvent",
    "ArtifactVersionId",
    "ClaimResolution",
    "ContentClaim",
    "Lease",
    "ReferencedByMarker",
    "RunRecord",
    "StoreDescriptor",
    "Tombstone",
    "UsedByMarker",
    "VersionRecord",
    "check_size",
]

# The largest record of each kind a reader accepts (and a writer writes). Runs hold the user's
# config and every version a run used or logged; the rest are a few hundred bytes.
MAX_BYTES = {
    "store": 64 << 10,
    "version": 64 << 10,
    "alias": 4 << 10,
    "tombstone": 16 << 10,
    "claim": 4 << 10,
    "resolution": 4 << 10,
    "used-by": 4 << 10,
    "referenced-by": 4 << 10,
    "lease": 4 << 10,
    "run": 16 << 20,
    "manifest": 1 << 30,  # until manifests are sharded; see docs/format.md
}
MAX_ITEMS = 1_000_000  # values in all the lists and maps of one run record (see codec.decode)


def check_size(kind: str, data: bytes, what: str) -> bytes:
    """Refuse to write a record that readers would refuse: :class:`InvalidInputError`."""
    if len(data) > MAX_BYTES[kind]:
        raise InvalidInputError(
            f"{what} would take {len(data):,} bytes, more than the {MAX_BYTES[kind]:,} a {kind} record may hold"
        )
    return data


def _load(data: bytes, what: str, kind: str) -> dict[str, Any]:
    d = codec.decode(data, what, max_bytes=MAX_BYTES[kind], max_items=MAX_ITEMS if kind == "run" else None)
    codec.check_format(d, what)
    found = d.get("kind")
    if found is not None and found != kind:
        raise FormatError(f"{what}: is a {found!r} record, not a {kind!r} record")
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


def _time(d: dict[str, Any], key: str, what: str, *, optional: bool = False) -> Any:
    """A field that must be an ISO 8601 time (kept as the string it is)."""
    v = codec.get_str(d, key, what, optional=optional)
    if v is not None:
        codec.parse_time(v, f"{what}: field {key!r}")
    return v


def _digest(d: dict[str, Any], key: str, what: str) -> Digest:
    return Digest.parse(codec.get_str(d, key, what))


def _number(d: dict[str, Any], key: str, what: str, *, positive: bool = False) -> float:
    v = d.get(key)
    if not isinstance(v, int | float) or isinstance(v, bool) or v != v or abs(v) == float("inf"):
        raise FormatError(f"{what}: field {key!r} must be a finite number, got {v!r:.40}")
    if positive and not 0 < v < 2**31:
        raise FormatError(f"{what}: field {key!r} must be a positive number of seconds, got {v!r:.40}")
    return float(v)


def _agree(what: str, found: object, expected: object, field_name: str) -> None:
    if found != expected:
        raise MisplacedRecordError(f"{what}: says its {field_name} is {found!r}, but its key says {expected!r}")


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

    def to_bytes(self) -> bytes:
        return codec.encode(
            {
                "format": self.format,
                "kind": "store",
                "algorithm": self.algorithm,
                "blob_levels": self.blob_levels,
                "created_at": self.created_at,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> StoreDescriptor:
        d = _load(data, what, "store")
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
        return cls(fmt, algorithm, levels, codec.get_str(d, "created_at", what, optional=True))


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
        data = codec.encode(
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
        return check_size("version", data, f"version record of {self.qualified_name}")

    @classmethod
    def from_bytes(cls, data: bytes, what: str, *, at: tuple[str, str, int]) -> VersionRecord:
        """Decode the record read from the key of ``at`` = (project, name, number)."""
        d = _load(data, what, "version")
        run = codec.get_map(d, "run", what)
        rec = cls(
            project=_name(d, "project", what),
            name=_name(d, "name", what),
            version=codec.get_int(d, "version", what),
            type=_name(d, "type", what),
            manifest=_digest(d, "manifest", what),
            content=_digest(d, "content", what),
            size=codec.get_int(d, "size", what),
            file_count=codec.get_int(d, "file_count", what),
            created_at=_time(d, "created_at", what),
            run_project=_name(run, "project", what, optional=True),
            run_id=_name(run, "id", what, optional=True),
            origin=codec.get_map(d, "origin", what) or None,
        )
        if (rec.run_project is None) != (rec.run_id is None):
            raise FormatError(f"{what}: field 'run' must name both a project and an id, or be null")
        _agree(what, (rec.project, rec.name, rec.version), at, "project, name and version")
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
        d = _load(data, what, "alias")
        ev = cls(
            _name(d, "alias", what),
            codec.get_int(d, "version", what, optional=True),
            _time(d, "created_at", what),
            _name(d, "run", what, optional=True),
        )
        _agree(what, ev.alias, alias, "alias")
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
        d = _load(data, what, "tombstone")
        stone = cls(
            codec.get_int(d, "version", what),
            _time(d, "deleted_at", what),
            codec.get_str(d, "reason", what, optional=True),
        )
        _agree(what, stone.version, version, "version")
        return stone


@dataclass(frozen=True, slots=True)
class ContentClaim:
    """``digests/<content>/<seq>.claim``: a writer is making a version with this content."""

    token: str
    time: float
    host: str | None = None
    pid: int | None = None

    def to_bytes(self) -> bytes:
        return codec.encode(
            {"format": codec.FORMAT_VERSION, "token": self.token, "time": self.time, "host": self.host, "pid": self.pid}
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> ContentClaim:
        d = _load(data, what, "claim")
        return cls(
            codec.get_str(d, "token", what),
            _number(d, "time", what),
            codec.get_str(d, "host", what, optional=True),
            codec.get_int(d, "pid", what, optional=True),
        )


@dataclass(frozen=True, slots=True)
class ClaimResolution:
    """``digests/<content>/<seq>.msgpack``: which version claim ``seq`` became.

    The version's record must hold the content the folder is named by; the reader checks it
    (see ``commit._claim_content``), as it names no identity of its own.
    """

    version: int

    def to_bytes(self) -> bytes:
        return codec.encode({"format": codec.FORMAT_VERSION, "version": self.version})

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> ClaimResolution:
        d = _load(data, what, "resolution")
        return cls(codec.get_int(d, "version", what))


@dataclass(frozen=True, slots=True)
class UsedByMarker:
    """``used-by/<name>/<N>/<run-id>``: that run (of ``project``) used version N."""

    project: str
    run: str

    def to_bytes(self) -> bytes:
        return codec.encode({"format": codec.FORMAT_VERSION, "project": self.project, "run": self.run})

    @classmethod
    def from_bytes(cls, data: bytes, what: str, *, run: str) -> UsedByMarker:
        """Decode the marker read from the key naming ``run``."""
        d = _load(data, what, "used-by")
        marker = cls(_name(d, "project", what), _name(d, "run", what))
        _agree(what, marker.run, run, "run")
        return marker


@dataclass(frozen=True, slots=True)
class ReferencedByMarker:
    """``referenced-by/<name>/<N>/<manifest>``: the version ``by`` references version N."""

    by: ArtifactVersionId

    def to_bytes(self) -> bytes:
        return codec.encode({"format": codec.FORMAT_VERSION, **self.by.to_dict()})

    @classmethod
    def from_bytes(cls, data: bytes, what: str, *, manifest: Digest) -> ReferencedByMarker:
        """Decode the marker read from the key naming the referencing version's ``manifest``."""
        d = _load(data, what, "referenced-by")
        marker = cls(ArtifactVersionId.from_dict(d, what))
        _agree(what, marker.by.manifest, manifest, "manifest")
        return marker


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

    def __post_init__(self) -> None:
        # Read-only: finished runs are cached and shared by every reader in the process.
        object.__setattr__(self, "config", freeze(self.config))
        object.__setattr__(self, "extra", freeze(self.extra))

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
            }
        )
        return check_size("run", data, f"the record of run {self.id} (its config and the versions it used and logged)")

    @classmethod
    def from_bytes(cls, data: bytes, what: str, *, at: tuple[str, str]) -> RunRecord:
        """Decode the record read from the key of ``at`` = (project, run id)."""
        d = _load(data, what, "run")
        run = cls(
            id=_name(d, "id", what),
            project=_name(d, "project", what),
            name=codec.get_str(d, "name", what),
            job_type=codec.get_str(d, "job_type", what, optional=True),
            config=codec.get_map(d, "config", what),
            status=codec.get_str(d, "status", what),
            started_at=_time(d, "started_at", what),
            finished_at=_time(d, "finished_at", what, optional=True),
            inputs=tuple(ArtifactVersionId.from_dict(i, what) for i in codec.get_list(d, "inputs", what)),
            outputs=tuple(ArtifactVersionId.from_dict(o, what) for o in codec.get_list(d, "outputs", what)),
            host=codec.get_str(d, "host", what, optional=True),
            error=codec.get_str(d, "error", what, optional=True),
            extra=codec.get_map(d, "extra", what),
        )
        _agree(what, (run.project, run.id), at, "project and run id")
        return run


@dataclass(frozen=True, slots=True)
class Lease:
    """``locks/commits/<id>`` or ``locks/gc/<id>``: a commit or a gc at work, renewed while it runs.

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
    def from_bytes(cls, data: bytes, what: str, *, lease_id: str | None = None) -> Lease:
        """Decode a lease (read from the key naming ``lease_id``, when given)."""
        d = _load(data, what, "lease")
        role = codec.get_str(d, "role", what)
        if role not in ("commit", "gc"):
            raise FormatError(f"{what}: unknown lease role {role!r}")
        lease = cls(
            role,
            _name(d, "id", what),
            codec.get_str(d, "host", what),
            codec.get_int(d, "pid", what),
            _time(d, "created_at", what),
            _number(d, "renewed", what),
            _number(d, "ttl", what, positive=True),
        )
        if lease_id is not None:
            _agree(what, lease.id, lease_id, "id")
        return lease
