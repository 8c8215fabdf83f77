"""One entry of a manifest: a path, the digest and size of its bytes, its kind (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import codec
from .errors import FormatError, InvalidNameError
from .frozen import EMPTY, freeze
from .hashing import DIGEST_BYTES, Digest
from .refs import check_entry_path

__all__ = ["Entry", "EntryKind", "Location", "stat_kind"]

EntryKind = Literal["file", "table", "reference"]
_KINDS = ("file", "table", "reference")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a packed blob's bytes are: ``length`` bytes at ``offset`` in the pack ``pack``."""

    pack: Digest
    offset: int
    length: int


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
    # Where its blob is when packed (docs/format.md, Packs): not part of the content, since
    # the same bytes may sit in other packs in other stores, or loose.
    where: Location | None = field(default=None, compare=False, repr=False)

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
