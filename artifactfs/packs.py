"""Packs: many small blobs in one object, with an index beside it (no I/O).

On an object store each small file would cost a request to send and one to fetch; a pack
holds a commit's small blobs back to back (as restic's and git's packs do), and its index
lists where each one is. Manifests record where their packed entries are, so a reader needs
no index to fetch one file; indexes answer "is this blob stored already?" for writers, and
tell gc what each pack holds (docs/format.md, *Packs*).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import codec
from .entry import Location
from .errors import FormatError
from .fields import MAX_BYTES
from .hashing import DIGEST_BYTES, Digest

__all__ = [
    "PACK_FILE_MAX",
    "PACK_FORMAT",
    "PACK_MIN",
    "PACK_TARGET",
    "PackIndex",
    "PackMoved",
    "coalesce",
    "plan",
]

PACK_FILE_MAX = 1 << 20  # files smaller than this are packed; larger ones stay single blobs
PACK_TARGET = 32 << 20  # a pack is closed once it holds this many bytes
PACK_MIN = 16  # fewer new small blobs than this are sent one by one (a pack would save little)
PACK_FORMAT = 3
REPACK_BELOW = 0.5  # gc rewrites a pack whose live bytes are less than this fraction of it
GAP = 1 << 20  # ranges of one pack closer than this are read in one request
RANGE_MAX = 64 << 20  # ... up to this many bytes per request


@dataclass(frozen=True, slots=True)
class PackIndex:
    """``packs/<alg>/<hex>.index``: the blobs in the pack ``<hex>``, each (digest, offset, length)."""

    pack: Digest
    size: int
    blobs: tuple[tuple[Digest, int, int], ...]

    def locations(self) -> dict[Digest, Location]:
        return {d: Location(self.pack, offset, length) for d, offset, length in self.blobs}

    def to_bytes(self) -> bytes:
        raw = [[bytes.fromhex(d.hex), offset, length] for d, offset, length in self.blobs]
        return codec.encode(
            {
                "format": PACK_FORMAT,
                "kind": "pack-index",
                "algorithm": self.pack.algorithm,
                "pack": str(self.pack),
                "size": self.size,
                "blobs": raw,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str, pack: Digest) -> PackIndex:
        """Decode untrusted bytes: the index must be of ``pack`` (its key), and its blobs must
        lie inside the pack without overlapping."""
        size, raw = cls.raw_from_bytes(data, what, pack)
        return cls(pack, size, tuple((Digest(pack.algorithm, r.hex()), o, n) for r, o, n in raw))

    @staticmethod
    def raw_from_bytes(data: bytes, what: str, pack: Digest) -> tuple[int, list[tuple[bytes, int, int]]]:
        """As :meth:`from_bytes`, checked alike, but the pack's size and its blobs as (raw
        digest, offset, length): what an in-memory index of millions of blobs keeps, without
        an object a blob."""
        d = codec.decode(data, what, max_bytes=MAX_BYTES["pack-index"], max_items=4_000_000)
        codec.check_format(d, what)
        if d.get("kind") != "pack-index" or d["format"] < PACK_FORMAT:
            raise FormatError(f"{what}: is not a format {PACK_FORMAT} pack index")
        if codec.get_str(d, "pack", what) != str(pack):
            raise FormatError(f"{what}: names pack {d.get('pack')!r:.80}, not {pack}")
        size = codec.get_int(d, "size", what)
        blobs = []
        end = 0
        for item in codec.get_list(d, "blobs", what):
            if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], bytes)):
                raise FormatError(f"{what}: each blob is [digest, offset, length]")
            raw, offset, length = item
            if len(raw) != DIGEST_BYTES or not _count(offset) or not _count(length) or offset < end:
                raise FormatError(f"{what}: blob entries must be 32-byte digests at increasing offsets")
            end = offset + length
            if end > size:
                raise FormatError(f"{what}: a blob ends at byte {end:,}, past the pack's {size:,}")
            blobs.append((raw, offset, length))
        return size, blobs


@dataclass(frozen=True, slots=True)
class PackMoved:
    """``packs/<alg>/<hex>.moved``: where the live blobs of the pack ``<hex>`` went when it was
    repacked; manifests naming the old pack are read through it."""

    pack: Digest
    blobs: dict[Digest, Location]

    def to_bytes(self) -> bytes:
        raw = [[bytes.fromhex(d.hex), str(w.pack), w.offset, w.length] for d, w in sorted(self.blobs.items())]
        return codec.encode({"format": PACK_FORMAT, "kind": "pack-moved", "pack": str(self.pack), "blobs": raw})

    @classmethod
    def from_bytes(cls, data: bytes, what: str, pack: Digest) -> PackMoved:
        d = codec.decode(data, what, max_bytes=MAX_BYTES["pack-moved"], max_items=4_000_000)
        codec.check_format(d, what)
        if d.get("kind") != "pack-moved" or codec.get_str(d, "pack", what) != str(pack):
            raise FormatError(f"{what}: is not the forwarding record of pack {pack}")
        blobs = {}
        for item in codec.get_list(d, "blobs", what):
            if not (isinstance(item, list) and len(item) == 4 and isinstance(item[0], bytes) and len(item[0]) == 32):
                raise FormatError(f"{what}: each blob is [digest, pack, offset, length]")
            if not (isinstance(item[1], str) and _count(item[2]) and _count(item[3])):
                raise FormatError(f"{what}: each blob is [digest, pack, offset, length]")
            blobs[Digest(pack.algorithm, item[0].hex())] = Location(Digest.parse(item[1]), item[2], item[3])
        return cls(pack, blobs)


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < codec.MAX_INT


def plan(sizes: dict[Digest, int]) -> list[list[Digest]]:
    """Blobs grouped into packs of about :data:`PACK_TARGET` bytes, in digest order (so the same
    blobs are packed the same way)."""
    out: list[list[Digest]] = []
    current: list[Digest] = []
    filled = 0
    for d in sorted(sizes):
        current.append(d)
        filled += sizes[d]
        if filled >= PACK_TARGET:
            out.append(current)
            current, filled = [], 0
    if current:
        out.append(current)
    return out


def coalesce(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Byte ranges ``(offset, length)`` of one pack merged into requests: ``(start, end, the
    ranges it covers)``, ranges closer than :data:`GAP` together, up to :data:`RANGE_MAX` each."""
    out: list[tuple[int, int, list[tuple[int, int]]]] = []
    for offset, length in sorted(set(ranges)):
        if out and offset - out[-1][1] <= GAP and offset + length - out[-1][0] <= RANGE_MAX:
            start, end, members = out[-1]
            out[-1] = (start, max(end, offset + length), [*members, (offset, length)])
        else:
            out.append((offset, offset + length, [(offset, length)]))
    return out


def encode_where(entries: Sequence[Any]) -> list[list[Any]]:
    """The ``packed`` field of a manifest or shard: ``[[pack digest, [[entry index, offset],
    ...]], ...]`` for its entries that have a location."""
    by_pack: dict[Digest, list[list[int]]] = {}
    for i, e in enumerate(entries):
        if e.where is not None:
            by_pack.setdefault(e.where.pack, []).append([i, e.where.offset])
    return [[str(p), at] for p, at in sorted(by_pack.items())]


def decode_where(value: object, count: int, what: str) -> dict[int, tuple[Digest, int]]:
    """Entry index -> (pack, offset) from a ``packed`` field (checked: indexes in range, once)."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise FormatError(f"{what}: field 'packed' must be a list")
    out: dict[int, tuple[Digest, int]] = {}
    for item in value:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], list)):
            raise FormatError(f"{what}: each item of 'packed' is [pack digest, [[entry, offset], ...]]")
        pack = Digest.parse(item[0])
        for pair in item[1]:
            if not (isinstance(pair, list) and len(pair) == 2 and _count(pair[0]) and _count(pair[1])):
                raise FormatError(f"{what}: a packed entry is [entry index, offset]")
            if pair[0] >= count or pair[0] in out:
                raise FormatError(f"{what}: packed entry {pair[0]} is not one entry of its {count}")
            out[pair[0]] = (pack, pair[1])
    return out
