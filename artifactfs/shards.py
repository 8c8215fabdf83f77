"""Manifest shards: how a large version's entries are cut into canonical pieces (no I/O).

A version of more than :data:`SINGLE_MAX` entries is stored as a root manifest listing its
shards, each a sorted run of entries. Where a shard ends depends only on the entries (a cut
after each entry whose path's CRC-32 has its low 11 bits set, or when a shard reaches
:data:`SHARD_MAX_ENTRIES` entries or :data:`SHARD_MAX_BYTES` bytes), so the same entries are
always cut the same way, whoever logs them and however; adding files to one folder changes
the shards around them only. The content digest of a sharded version is a Merkle root: the
digest of its shards' content digests and its upstream references (docs/format.md).
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgpack

from . import codec
from .entry import Entry, Location
from .errors import FormatError
from .fields import MAX_BYTES
from .hashing import Digest, hash_bytes, new_hasher
from .packs import decode_where, encode_where

__all__ = [
    "SHARD_FORMAT",
    "SHARD_MAX_BYTES",
    "SHARD_MAX_ENTRIES",
    "SINGLE_MAX",
    "PathOrder",
    "ShardRef",
    "Sharder",
    "check_order",
    "cuts",
    "decode_shard",
    "entry_bytes",
    "entries_bytes",
    "legacy_content",
    "located",
    "root_content",
    "shard_bytes",
    "shard_content",
]

SINGLE_MAX = 8192  # a version with at most this many entries is one manifest, as before shards
CUT_MASK = 0x7FF  # a shard ends after an entry whose path's CRC-32 has these bits set: ~2,048 entries
SHARD_MAX_ENTRIES = 8192
SHARD_MAX_BYTES = 1 << 20
SHARD_FORMAT = 3  # of shards and of the root manifests that list them: no release before reads it


@dataclass(frozen=True, slots=True)
class ShardRef:
    """One shard as its root lists it: the path range it covers, its entry count and bytes
    of files, the digest naming its object and the digest of its entries alone."""

    first: str
    last: str
    count: int
    size: int
    shard: Digest
    content: Digest

    def covers(self, lo: str, hi: str | None) -> bool:
        """Whether any path in ``[lo, hi)`` (``hi`` None: no end) may be in this shard."""
        return self.last >= lo and (hi is None or self.first < hi)

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "last": self.last,
            "count": self.count,
            "size": self.size,
            "shard": str(self.shard),
            "content": str(self.content),
        }

    @classmethod
    def from_dict(cls, d: object, what: str) -> ShardRef:
        if not isinstance(d, dict):
            raise FormatError(f"{what} must be a map, got {type(d).__name__}")
        first, last = codec.get_str(d, "first", what), codec.get_str(d, "last", what)
        count = codec.get_int(d, "count", what)
        if first > last or count < 1:
            raise FormatError(f"{what}: a shard covers at least one path, first to last")
        return cls(
            first,
            last,
            count,
            codec.get_int(d, "size", what),
            Digest.parse(codec.get_str(d, "shard", what)),
            Digest.parse(codec.get_str(d, "content", what)),
        )


class Cutter:
    """Where shards end, decided one entry at a time (see :func:`cuts`)."""

    __slots__ = ("count", "size")

    def __init__(self) -> None:
        self.count = self.size = 0

    def after(self, path: str, nbytes: int) -> bool:
        """Whether a shard ends after this entry (``nbytes``: its encoded size)."""
        self.count += 1
        self.size += nbytes
        if (
            zlib.crc32(path.encode()) & CUT_MASK == CUT_MASK
            or self.count >= SHARD_MAX_ENTRIES
            or self.size >= SHARD_MAX_BYTES
        ):
            self.count = self.size = 0
            return True
        return False


def cuts(items: Iterable[tuple[str, int]]) -> Iterator[int]:
    """End indexes (exclusive) of the shards of sorted ``(path, encoded entry size)`` items.

    Only called for versions of more than :data:`SINGLE_MAX` entries; the last shard ends with
    the last entry wherever it falls.
    """
    cutter = Cutter()
    i = 0
    for i, (path, nbytes) in enumerate(items, 1):
        if cutter.after(path, nbytes):
            yield i
    if cutter.count:
        yield i


class Sharder:
    """Cuts a version's entries, given one at a time in path order, into shards: their stored
    bytes and refs, and the digests a sharded version needs (its Merkle root and the digest
    its entries had as one manifest). One shard's entries are held at a time, so a version of
    millions of files is built in bounded memory. ``total`` is the number of entries to come
    (the one-manifest digest starts with it); ``upstream`` the encoded upstream array.
    """

    def __init__(self, algorithm: str, total: int, upstream: bytes) -> None:
        self.algorithm, self.total, self.upstream = algorithm, total, upstream
        self.refs: list[ShardRef] = []
        self.added = 0
        self._cutter = Cutter()
        self._entries: list[Entry] = []
        self._encoded: list[bytes] = []
        self._order = PathOrder()
        self._legacy = new_hasher(algorithm)
        self._legacy_whole = True  # every entry went through add(): the one-manifest digest is known
        self._digest: Digest | None = None
        self._legacy.update(_packer.pack_map_header(2) + _pack("entries") + _packer.pack_array_header(total))

    def add(self, e: Entry) -> tuple[ShardRef, bytes] | None:
        """Take the next entry; return the shard it completes, if it does."""
        path = e.path
        self._order.check(path, "manifest")
        b = entry_bytes(e)
        self._legacy.update(b)
        self._entries.append(e)
        self._encoded.append(b)
        self.added += 1
        return self._cut() if self._cutter.after(path, len(b)) else None

    def reuse(self, ref: ShardRef) -> bool:
        """Take a stored shard whole as the next one (an unchanged run of a draft's base), if
        the entries so far ended a shard; False when they did not (then add its entries)."""
        if self._entries:
            return False
        self._order.check(ref.first, "manifest")
        if ref.last != ref.first:
            self._order.check(ref.last, "manifest")
        self.refs.append(ref)
        self.added += ref.count
        self._legacy_whole = False
        return True

    def finish(self) -> tuple[ShardRef, bytes] | None:
        """The last shard (None if the last entry completed one)."""
        if self.added != self.total:
            raise FormatError(f"a sharded manifest was announced with {self.total:,} entries but has {self.added:,}")
        return self._cut() if self._entries else None

    def _cut(self) -> tuple[ShardRef, bytes]:
        entries, encoded = self._entries, self._encoded
        data = shard_bytes(encoded, self.algorithm, encode_where(entries))
        ref = ShardRef(
            entries[0].path,
            entries[-1].path,
            len(entries),
            sum(e.size for e in entries),
            hash_bytes(data, self.algorithm),
            shard_content(encoded, self.algorithm),
        )
        self.refs.append(ref)
        self._entries, self._encoded = [], []
        return ref, data

    def content(self) -> Digest:
        """The version's content digest: the Merkle root of its shards (after :meth:`finish`)."""
        return root_content(self.refs, self.upstream, self.algorithm)

    def legacy(self) -> Digest | None:
        """The content digest the same entries had as one manifest (after :meth:`finish`); None
        when shards were reused whole (their entries were never read)."""
        if not self._legacy_whole:
            return None
        if self._digest is None:
            self._legacy.update(_pack("upstream") + self.upstream)
            self._digest = Digest(self.algorithm, self._legacy.hexdigest())
        return self._digest


_packer = msgpack.Packer(use_bin_type=True, autoreset=True)


def _pack(value: object) -> bytes:
    return _packer.pack(value)  # type: ignore[no-any-return]


def _array(chunks: Sequence[bytes]) -> bytes:
    """The msgpack array of already encoded values."""
    header: bytes = _packer.pack_array_header(len(chunks))
    return header + b"".join(chunks)


def entries_bytes(encoded: Sequence[bytes]) -> bytes:
    """The canonical ``entries`` array of encoded entries (each the canonical map of one)."""
    return _array(encoded)


def shard_content(encoded: Sequence[bytes], algorithm: str) -> Digest:
    """Content digest of one shard: of the canonical map ``{entries}``."""
    return hash_bytes(_packer.pack_map_header(1) + _pack("entries") + _array(encoded), algorithm)


def legacy_content(encoded: Sequence[bytes], upstream: bytes, algorithm: str) -> Digest:
    """The content digest of one (unsharded) manifest: of the canonical map ``{entries, upstream}``
    (``upstream`` the encoded array), fed piecewise so the entries are never joined twice."""
    h = new_hasher(algorithm)
    h.update(_packer.pack_map_header(2) + _pack("entries") + _packer.pack_array_header(len(encoded)))
    for chunk in encoded:
        h.update(chunk)
    h.update(_pack("upstream") + upstream)
    return Digest(algorithm, h.hexdigest())


def root_content(shards: Sequence[ShardRef], upstream: bytes, algorithm: str) -> Digest:
    """Content digest of a sharded version: of the canonical map ``{shards, upstream}`` where
    ``shards`` is the list of its shards' content digests (a Merkle root)."""
    body = (
        _packer.pack_map_header(2)
        + _pack("shards")
        + _pack([str(s.content) for s in shards])
        + _pack("upstream")
        + upstream
    )
    return hash_bytes(body, algorithm)


def shard_bytes(encoded: Sequence[bytes], algorithm: str, packed: list[Any] | None = None) -> bytes:
    """The stored shard object: ``{algorithm, entries, format: 3, kind: "shard"[, packed]}``,
    keys sorted; ``packed`` says where its packed entries are (:func:`packs.encode_where`)."""
    head: bytes = _packer.pack_map_header(5 if packed else 4)
    tail = _pack("packed") + codec.encode({"p": packed})[3:] if packed else b""
    return (
        head
        + _pack("algorithm")
        + _pack(algorithm)
        + _pack("entries")
        + _array(encoded)
        + _pack("format")
        + _pack(SHARD_FORMAT)
        + _pack("kind")
        + _pack("shard")
        + tail
    )


def entry_bytes(e: Entry) -> bytes:
    """The canonical encoding of one entry (its map's keys sorted)."""
    if not e.extra:  # the common case: a literal whose keys are already in order
        d: dict[str, Any] = {
            "digest": str(e.digest) if e.digest else None,
            "extra": {},
            "kind": e.kind,
            "path": e.path,
            "size": e.size,
        }
        return _pack(d)
    return codec.encode(e.to_dict())


_pack = msgpack.Packer(use_bin_type=True, autoreset=True).pack


class PathOrder:
    """Checks entry paths given one at a time: each after the last, and none below an earlier
    one (an entry is a file). Paths below a file come after it with only paths it is a prefix
    of in between, so a chain of prefixes is all that is kept, not every path."""

    __slots__ = ("_chain", "_last")

    def __init__(self) -> None:
        self._last: str | None = None
        self._chain: list[str] = []

    def check(self, path: str, what: str) -> None:
        if self._last is not None and path <= self._last:
            raise FormatError(f"{what}: entries must be unique and sorted by path ({path!r} comes too late)")
        while self._chain and not path.startswith(self._chain[-1]):
            self._chain.pop()
        for f in self._chain:
            if path.startswith(f + "/"):
                raise FormatError(f"{what}: entry {path!r} is below {f!r}, which is a file")
        self._chain.append(path)
        self._last = path


def check_order(entries: Sequence[Entry], what: str) -> None:
    order = PathOrder()
    for e in entries:
        order.check(e.path, what)


def decode_shard(data: bytes, ref: ShardRef, algorithm: str, what: str) -> tuple[Entry, ...]:
    """The entries of a shard object whose bytes were checked against ``ref.shard``: they must
    be what the root says (paths in its range, its count, its content digest)."""
    d = codec.decode(data, what, max_bytes=MAX_BYTES["shard"])
    codec.check_format(d, what)
    if d.get("kind") != "shard" or d["format"] < SHARD_FORMAT:
        raise FormatError(f"{what}: is not a format {SHARD_FORMAT} manifest shard")
    if d.get("algorithm") != algorithm:
        raise FormatError(f"{what}: digest algorithm {d.get('algorithm')!r:.20} is not its manifest's {algorithm!r}")
    entries = tuple(Entry.from_dict(e, f"{what} entry") for e in codec.get_list(d, "entries", what))
    check_order(entries, what)
    if len(entries) != ref.count or entries[0].path != ref.first or entries[-1].path != ref.last:
        raise FormatError(
            f"{what}: its entries are not the {ref.count:,} from {ref.first!r} to {ref.last!r} its manifest lists"
        )
    if shard_content([entry_bytes(e) for e in entries], algorithm) != ref.content:
        raise FormatError(f"{what}: its entries do not have the content digest its manifest lists")
    return located(entries, d.get("packed"), what)


def located(entries: tuple[Entry, ...], packed: object, what: str) -> tuple[Entry, ...]:
    """``entries`` with the locations a ``packed`` field gives (only files with a digest)."""
    where = decode_where(packed, len(entries), what)
    if not where:
        return entries
    out = list(entries)
    for i, (pack, offset) in where.items():
        e = out[i]
        if e.kind != "file" or e.digest is None or pack.algorithm != e.digest.algorithm:
            raise FormatError(f"{what}: entry {e.path!r} is a {e.kind}: only files are packed")
        out[i] = dataclasses.replace(e, where=Location(pack, offset, e.size))
    return tuple(out)
