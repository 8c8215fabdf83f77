"""The small records that coordinate writers and index lineage: content claims and their
resolutions, used-by and referenced-by markers, and leases (each with a typed decoder, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from . import codec
from .errors import FormatError
from .fields import agree, load, name_field, number_field, time_field
from .hashing import Digest
from .records import ArtifactVersionId

__all__ = ["ClaimResolution", "ContentClaim", "Lease", "ReferencedByMarker", "UsedByMarker"]


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
        d = load(data, what, "claim")
        return cls(
            codec.get_str(d, "token", what),
            number_field(d, "time", what),
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
        d = load(data, what, "resolution")
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
        d = load(data, what, "used-by")
        marker = cls(name_field(d, "project", what), name_field(d, "run", what))
        agree(what, marker.run, run, "run")
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
        d = load(data, what, "referenced-by")
        marker = cls(ArtifactVersionId.from_dict(d, what))
        agree(what, marker.by.manifest, manifest, "manifest")
        return marker


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
        d = load(data, what, "lease")
        role = codec.get_str(d, "role", what)
        if role not in ("commit", "gc"):
            raise FormatError(f"{what}: unknown lease role {role!r}")
        lease = cls(
            role,
            name_field(d, "id", what),
            codec.get_str(d, "host", what),
            codec.get_int(d, "pid", what),
            time_field(d, "created_at", what),
            number_field(d, "renewed", what),
            number_field(d, "ttl", what, positive=True),
        )
        if lease_id is not None:
            agree(what, lease.id, lease_id, "id")
        return lease
