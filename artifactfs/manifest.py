"""Manifests: what an artifact version contains, encoded as canonical msgpack (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import codec
from .errors import FormatError, InvalidNameError
from .frozen import EMPTY, freeze
from .hashing import ALGORITHMS, DEFAULT_ALGORITHM, DIGEST_BYTES, Digest, hash_bytes
from .records import MAX_BYTES, ArtifactVersionId, check_size
from .refs import check_entry_path, check_name

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

    def __post_init__(self) -> None:
        # Read-only: entries are shared by every reader of a cached manifest.
        object.__setattr__(self, "extra", freeze(self.extra) if self.extra else EMPTY)

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
        size = codec.get_int(d, "size", what)
        return cls(path, digest, size, kind, _extra(kind, codec.get_map(d, "extra", what), size, f"{what} {path!r}"))


MAX_BLOCK = 64 << 20  # the largest block of a table's block digests a reader accepts


def _extra(kind: str, extra: dict[str, Any], size: int, what: str) -> dict[str, Any]:
    """Check the kind-specific fields readers rely on (unknown fields are kept, for newer writers)."""
    if not extra and kind != "reference":
        return extra
    if kind == "reference":
        uri = codec.get_str(extra, "uri", what)
        if "://" not in uri:
            raise FormatError(f"{what}: reference uri {uri!r:.60} is not a URL")
        codec.get_str(extra, "etag", what, optional=True)
        if extra.get("checksum") not in (None, True, False):
            raise FormatError(f"{what}: field 'checksum' must be true or false")
    elif kind == "table":
        blocks = extra.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, dict):
                raise FormatError(f"{what}: block digests must be a map")
            block = blocks.get("size")
            digests = blocks.get("digests")
            if not isinstance(block, int) or isinstance(block, bool) or not 1 <= block <= MAX_BLOCK:
                raise FormatError(f"{what}: block size must be an integer in [1, {MAX_BLOCK}], got {block!r:.40}")
            if not isinstance(digests, bytes) or len(digests) != -(-size // block) * DIGEST_BYTES:
                raise FormatError(f"{what}: block digests do not cover its {size} bytes in blocks of {block}")
        for key in ("num_rows", "num_row_groups", "part"):
            codec.get_int(extra, key, what, optional=True)
        codec.get_str(extra, "dataset", what, optional=True)
        for column in codec.get_list(extra, "columns", what):
            if not (isinstance(column, list) and len(column) == 2 and all(isinstance(c, str) for c in column)):
                raise FormatError(f"{what}: columns must be [name, type] pairs of strings, got {column!r:.60}")
        for name, triple in codec.get_map(extra, "stats", what).items():
            _check_stats(name, triple, what)
    return extra


def _check_stats(name: str, triple: object, what: str) -> None:
    """``[min, max, null count]`` of one column: comparable plain values of one kind."""
    if not isinstance(triple, list) or len(triple) != 3:
        raise FormatError(f"{what}: statistics of column {name!r} must be [min, max, nulls]")
    lo, hi, nulls = triple
    if not isinstance(nulls, int) or isinstance(nulls, bool) or nulls < 0:
        raise FormatError(f"{what}: null count of column {name!r} must be a non-negative integer")
    if stat_kind(lo) is None or stat_kind(lo) != stat_kind(hi):
        raise FormatError(f"{what}: min and max of column {name!r} must be numbers, texts or booleans alike")
    if lo > hi:
        raise FormatError(f"{what}: min of column {name!r} is above its max")


def stat_kind(value: object) -> str | None:
    """Which values a statistic can be compared with: "number", "text", "bool" (None: none)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number" if value == value else None  # NaN compares with nothing
    return "text" if isinstance(value, str) else None


def _name(d: dict[str, Any], key: str, what: str) -> str:
    try:
        return check_name(codec.get_str(d, key, what), key)
    except InvalidNameError as e:
        raise FormatError(f"{what}: {e}") from None


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
        object.__setattr__(self, "metadata", freeze(self.metadata))
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
            name=_name(d, "name", what),
            type=_name(d, "type", what),
            entries=tuple(Entry.from_dict(e, f"{what} entry") for e in codec.get_list(d, "entries", what)),
            description=codec.get_str(d, "description", what, optional=True),
            metadata=codec.get_map(d, "metadata", what),
            upstream=tuple(
                ArtifactVersionId.from_dict(u, f"{what} upstream") for u in codec.get_list(d, "upstream", what)
            ),
            algorithm=algorithm,
        )
