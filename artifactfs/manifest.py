"""Manifests: what an artifact version contains, encoded as canonical msgpack (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import codec
from .errors import FormatError, InvalidNameError
from .hashing import ALGORITHMS, DEFAULT_ALGORITHM, Digest, hash_bytes
from .records import MAX_BYTES, ArtifactVersionId, check_size
from .refs import check_entry_path

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
    def from_dict(cls, d: object, what: str = "manifest entry") -> Entry:
        if not isinstance(d, dict):
            raise FormatError(f"{what} must be a map, got {type(d).__name__}")
        path = codec.get_str(d, "path", what)
        try:
            check_entry_path(path)
        except InvalidNameError as e:
            raise FormatError(f"{what}: unsafe path: {e}") from None
        kind = d.get("kind")
        if kind not in _KINDS:
            raise FormatError(f"{what} {path!r}: unknown kind {kind!r}")
        digest_text = codec.get_str(d, "digest", what, optional=True)
        digest = Digest.parse(digest_text) if digest_text is not None else None
        if digest is None and kind != "reference":
            raise FormatError(f"{what} {path!r}: a {kind} entry needs a digest")
        return cls(path, digest, codec.get_int(d, "size", what), kind, codec.get_map(d, "extra", what))


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
        files = set(paths)
        for p in paths:
            parts = p.split("/")
            for i in range(1, len(parts)):
                if "/".join(parts[:i]) in files:
                    raise FormatError(f"entry {p!r} is below {'/'.join(parts[:i])!r}, which is a file")

    @property
    def content_digest(self) -> Digest:
        """Digest of the entries and upstream references only.

        Logging the same files (and the same upstream versions) again with another description
        or from another run gives the same content digest, so no new version is made.
        """
        return self.encoded()[1]

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    def to_bytes(self) -> bytes:
        return self.encoded()[0]

    def encoded(self) -> tuple[bytes, Digest]:
        """The manifest's canonical bytes and its content digest, encoding the entries once."""
        entries = codec.canonical([e.to_dict() for e in self.entries])
        upstream = codec.canonical([u.to_dict() for u in self.upstream])
        whole = codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "manifest",
                "algorithm": self.algorithm,
                "name": self.name,
                "type": self.type,
                "description": self.description,
                "metadata": self.metadata,
                "entries": codec.Canonical(entries),
                "upstream": codec.Canonical(upstream),
            }
        )
        check_size("manifest", whole, f"the manifest of {self.name!r} ({len(self.entries):,} entries)")
        body = codec.encode({"entries": codec.Canonical(entries), "upstream": codec.Canonical(upstream)})
        return whole, hash_bytes(body, self.algorithm)

    def digest(self) -> Digest:
        return hash_bytes(self.to_bytes(), self.algorithm)

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "manifest") -> Manifest:
        """Decode untrusted bytes; raise :class:`FormatError` naming what is wrong."""
        d = codec.decode(data, what, max_bytes=MAX_BYTES["manifest"])
        codec.check_format(d, what)
        if d.get("kind", "manifest") != "manifest":
            raise FormatError(f"{what}: is a {d.get('kind')!r} record, not a manifest")
        algorithm = codec.get_str(d, "algorithm", what)
        if algorithm not in ALGORITHMS:
            raise FormatError(f"{what}: unknown digest algorithm {algorithm!r}")
        return cls(
            name=codec.get_str(d, "name", what),
            type=codec.get_str(d, "type", what),
            entries=tuple(Entry.from_dict(e, f"{what} entry") for e in codec.get_list(d, "entries", what)),
            description=codec.get_str(d, "description", what, optional=True),
            metadata=codec.get_map(d, "metadata", what),
            upstream=tuple(ArtifactVersionId.from_dict(u) for u in codec.get_list(d, "upstream", what)),
            algorithm=algorithm,
        )
