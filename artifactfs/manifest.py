"""Manifests: what an artifact version contains, encoded as canonical msgpack (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import codec
from .errors import FormatError
from .hashing import DEFAULT_ALGORITHM, Digest, hash_bytes
from .records import ArtifactVersionId

__all__ = ["Entry", "EntryKind", "Manifest"]

EntryKind = Literal["file", "table", "reference"]
_KINDS = ("file", "table", "reference")


@dataclass(frozen=True, slots=True)
class Entry:
    """One path inside an artifact version.

    ``digest`` names the blob holding the bytes (``None`` only for an external reference
    whose bytes were not hashed); ``extra`` holds kind-specific fields: a table's
    ``num_rows`` and ``schema``, a reference's ``uri`` and ``etag``.
    """

    path: str
    digest: Digest | None
    size: int
    kind: EntryKind = "file"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "digest": str(self.digest) if self.digest else None,
            "size": self.size,
            "kind": self.kind,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entry:
        try:
            kind = d["kind"]
            if kind not in _KINDS:
                raise FormatError(f"unknown entry kind {kind!r}")
            digest = Digest.parse(d["digest"]) if d.get("digest") else None
            return cls(str(d["path"]), digest, int(d["size"]), kind, dict(d.get("extra") or {}))
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(f"malformed manifest entry {d!r:.80}: {e}") from e


@dataclass(frozen=True, slots=True)
class Manifest:
    """The immutable description of an artifact version; stored under the digest of its bytes."""

    name: str
    type: str
    entries: tuple[Entry, ...]
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    upstream: tuple[ArtifactVersionId, ...] = ()
    algorithm: str = DEFAULT_ALGORITHM

    def __post_init__(self) -> None:
        paths = [e.path for e in self.entries]
        if paths != sorted(paths) or len(set(paths)) != len(paths):
            raise FormatError("manifest entries must be unique and sorted by path")

    @property
    def content_digest(self) -> Digest:
        """Digest of the entries and upstream references only.

        Logging the same files (and the same upstream versions) again with another description
        or from another run gives the same content digest, so no new version is made.
        """
        body = {
            "entries": [e.to_dict() for e in self.entries],
            "upstream": [u.to_dict() for u in self.upstream],
        }
        return hash_bytes(codec.encode(body), self.algorithm)

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    def to_bytes(self) -> bytes:
        return codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "manifest",
                "algorithm": self.algorithm,
                "name": self.name,
                "type": self.type,
                "description": self.description,
                "metadata": self.metadata,
                "entries": [e.to_dict() for e in self.entries],
                "upstream": [u.to_dict() for u in self.upstream],
            }
        )

    def digest(self) -> Digest:
        return hash_bytes(self.to_bytes(), self.algorithm)

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "manifest") -> Manifest:
        d = codec.decode(data, what)
        codec.check_format(d, what)
        try:
            return cls(
                name=str(d["name"]),
                type=str(d["type"]),
                entries=tuple(Entry.from_dict(e) for e in d["entries"]),
                description=d.get("description"),
                metadata=dict(d.get("metadata") or {}),
                upstream=tuple(ArtifactVersionId.from_dict(u) for u in d.get("upstream") or ()),
                algorithm=str(d.get("algorithm", DEFAULT_ALGORITHM)),
            )
        except (KeyError, TypeError) as e:
            raise FormatError(f"malformed {what}: missing or bad field {e}") from e
