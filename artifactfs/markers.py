"""The small records that coordinate writers and index lineage: content claims and their
resolutions, used-by and referenced-by markers, leases, and the audit record of a purge
(each with a typed decoder, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from . import codec
from .errors import FormatError, InvalidInputError, InvalidNameError
from .fields import agree, check_size, digest_field, load, name_field, number_field, time_field
from .hashing import Digest
from .records import MAX_REASON, ArtifactVersionId
from .refs import check_entry_path

__all__ = ["ClaimResolution", "ContentClaim", "Lease", "PurgeRecord", "ReferencedByMarker", "UsedByMarker"]

MAX_USER = 256  # characters of a user name in a purge record


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


@dataclass(frozen=True, slots=True)
class PurgeRecord:
    """``purged/<alg>/<hex>``: the blob ``digest`` was purged on purpose: the version and
    path it was purged through, when, by whom (the login) and why. Written before any byte
    is deleted, create-if-absent, never rewritten: the audit trail of the purge."""

    digest: Digest
    size: int
    project: str
    name: str
    version: int
    path: str
    purged_at: str
    user: str | None = None
    reason: str | None = None

    @property
    def ref(self) -> str:
        """The version the purge named: ``project/name:vN``."""
        return f"{self.project}/{self.name}:v{self.version}"

    def to_bytes(self) -> bytes:
        if self.reason is not None and len(self.reason) > MAX_REASON:
            raise InvalidInputError(f"a purge reason may hold {MAX_REASON} characters, got {len(self.reason)}")
        data = codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "purge",
                "digest": str(self.digest),
                "size": self.size,
                "project": self.project,
                "name": self.name,
                "version": self.version,
                "path": self.path,
                "purged_at": self.purged_at,
                "user": self.user[:MAX_USER] if self.user is not None else None,
                "reason": self.reason,
            }
        )
        return check_size("purge", data, f"the purge record of {self.ref} {self.path!r}")

    @classmethod
    def from_bytes(cls, data: bytes, what: str, *, digest: Digest) -> PurgeRecord:
        """Decode the record read from the key of ``digest``."""
        d = load(data, what, "purge")
        path = codec.get_str(d, "path", what)
        try:
            check_entry_path(path)
        except InvalidNameError as e:
            raise FormatError(f"{what}: {e}") from None
        user, reason = codec.get_str(d, "user", what, optional=True), codec.get_str(d, "reason", what, optional=True)
        if (user is not None and len(user) > MAX_USER) or (reason is not None and len(reason) > MAX_REASON):
            raise FormatError(f"{what}: its user or reason is longer than a purge record may hold")
        record = cls(
            digest_field(d, "digest", what),
            codec.get_int(d, "size", what),
            name_field(d, "project", what),
            name_field(d, "name", what),
            codec.get_int(d, "version", what),
            path,
            time_field(d, "purged_at", what),
            user,
            reason,
        )
        agree(what, record.digest, digest, "digest")
        return record
