"""Manifests: what an artifact version contains, encoded as canonical msgpack (no I/O)."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import codec, shards
from .entry import Entry, EntryKind, Location, stat_kind
from .errors import FormatError, InvalidNameError
from .frozen import freeze
from .hashing import ALGORITHMS, DEFAULT_ALGORITHM, Digest, hash_bytes
from .packs import encode_where
from .records import MAX_BYTES, ArtifactVersionId, check_size
from .refs import check_name
from .shards import ShardRef, check_order, decode_shard, entry_bytes

__all__ = [
    "Encoded",
    "Entry",
    "EntryKind",
    "Location",
    "Manifest",
    "ShardRef",
    "decode_shard",
    "entry_bytes",
    "path_after",
    "stat_kind",
]


def _name(d: dict[str, Any], key: str, what: str) -> str:
    try:
        return check_name(codec.get_str(d, key, what), key)
    except InvalidNameError as e:
        raise FormatError(f"{what}: {e}") from None


ShardLoader = Callable[[ShardRef], tuple[Entry, ...]]
SHARDS_PUT = 16  # shards of a streamed manifest sent at once (~16 MiB at most)


@dataclass(frozen=True, slots=True)
class Encoded:
    """A manifest ready to store: its bytes (a root for a sharded one), its content digest,
    its shards' bytes, and for a sharded one the digest its entries had as one manifest (what
    releases before shards recorded, still recognised as the same content)."""

    data: bytes
    content: Digest
    shards: tuple[tuple[ShardRef, bytes], ...] = ()
    legacy: Digest | None = None
    format: int = 1  # the store format it needs: 3 for shards and packs (docs/format.md)


class Manifest:
    """The immutable description of an artifact version; stored under the digest of its bytes.

    A version of more than :data:`~artifactfs.shards.SINGLE_MAX` entries is stored sharded
    (docs/format.md): read from a store, its manifest holds only the list of shards and reads
    one when an entry in it is asked for (:meth:`entry`, :meth:`under`); :attr:`entries`
    reads them all.
    """

    __slots__ = ("_entries", "_loader", "algorithm", "description", "metadata", "name", "shards", "type", "upstream")

    def __init__(
        self,
        name: str,
        type: str,
        entries: Sequence[Entry] = (),
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        upstream: Sequence[ArtifactVersionId] = (),
        algorithm: str = DEFAULT_ALGORITHM,
        *,
        shards: Sequence[ShardRef] = (),
        loader: ShardLoader | None = None,
    ) -> None:
        self.name, self.type, self.description, self.algorithm = name, type, description, algorithm
        self.metadata = freeze(metadata or {})
        self.upstream = tuple(upstream)
        self.shards = tuple(shards)
        self._loader = loader
        if self.shards:
            if entries:
                raise FormatError("a sharded manifest lists shards, not entries")
            if any(a.last >= b.first for a, b in itertools.pairwise(self.shards)):
                raise FormatError("manifest shards must be sorted and must not overlap")
            self._entries: tuple[Entry, ...] | None = None
        else:
            self._entries = tuple(entries)
            check_order(self._entries, "manifest")

    def __setattr__(self, key: str, value: Any) -> None:
        if hasattr(self, "_loader") and key != "_entries":
            raise AttributeError(f"a manifest is read-only: cannot set {key!r}")
        object.__setattr__(self, key, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Manifest):
            return NotImplemented
        return self._key() == other._key() and (
            self.shards == other.shards if self.shards and other.shards else self.entries == other.entries
        )

    __hash__ = None  # type: ignore[assignment]

    def _key(self) -> tuple[Any, ...]:
        return (self.name, self.type, self.description, self.metadata, self.upstream, self.algorithm)

    def __repr__(self) -> str:
        return f"Manifest({self.name!r}, {self.type!r}, {self.count:,} entries{', sharded' if self.shards else ''})"

    # ------------------------------------------------------------------ entries
    @property
    def sharded(self) -> bool:
        """Read from a store as a root and shards (entries are read when asked for)."""
        return bool(self.shards)

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every entry, sorted by path (for a sharded manifest, every shard is read once)."""
        if self._entries is None:
            self._entries = tuple(e for ref in self.shards for e in self.shard_entries(ref))
        return self._entries

    def iter_entries(self) -> Iterator[Entry]:
        """Every entry in path order, a shard at a time (a sharded manifest keeps none of them)."""
        if self._entries is not None:
            yield from self._entries
            return
        for ref in self.shards:
            yield from self.shard_entries(ref)

    def shard_entries(self, ref: ShardRef) -> tuple[Entry, ...]:
        if self._loader is None:
            raise FormatError(f"manifest of {self.name!r} lists shards but has no store to read them from")
        return self._loader(ref)

    @property
    def count(self) -> int:
        """The number of entries (without reading any shard)."""
        return sum(r.count for r in self.shards) if self._entries is None else len(self._entries)

    @property
    def size(self) -> int:
        if self._entries is None:
            return sum(r.size for r in self.shards)
        return sum(e.size for e in self._entries)

    def entry(self, path: str) -> Entry | None:
        """The entry at ``path``, reading at most the one shard that may hold it."""
        found = self.between(path, path + "\0")
        return found[0] if found else None

    def under(self, prefix: str) -> list[Entry]:
        """The entries whose paths start with ``prefix`` (a folder: give its trailing ``/``),
        reading only the shards that may hold them."""
        return self.between(prefix, path_after(prefix))

    def between(self, lo: str, hi: str | None) -> list[Entry]:
        """The entries whose paths are in ``[lo, hi)`` (``hi`` None: to the end), reading only
        the shards that may hold them."""
        if self._entries is not None:
            found = self._entries
        else:
            found = tuple(e for ref in self.shards if ref.covers(lo, hi) for e in self.shard_entries(ref))
        i = bisect.bisect_left(found, lo, key=_path)
        j = len(found) if hi is None else bisect.bisect_left(found, hi, key=_path)
        return list(found[i:j])

    def page(self, start: str, prefix: str, limit: int) -> list[Entry]:
        """Up to ``limit`` entries from ``start`` under ``prefix``, reading a shard at a time
        until there are enough."""
        end = path_after(prefix)
        if self._entries is not None:
            # Only ``limit`` entries are copied: a folder is listed a few entries at a time.
            i = bisect.bisect_left(self._entries, start, key=_path)
            return [e for e in self._entries[i : i + limit] if end is None or e.path < end]
        out: list[Entry] = []
        for ref in self.shards:
            if len(out) >= limit:
                break
            if ref.covers(start, end):
                out += [e for e in self.shard_entries(ref) if e.path >= start and (end is None or e.path < end)]
        return out[:limit]

    # ------------------------------------------------------------------ identity and bytes
    @property
    def content_digest(self) -> Digest:
        """Digest of the entries and upstream references only.

        Logging the same files (and the same upstream versions) again with another description
        or from another run gives the same content digest, so no new version is made.
        """
        if self._entries is None:
            return shards.root_content(self.shards, self._upstream_bytes(), self.algorithm)
        return self.encode().content

    def _upstream_bytes(self) -> bytes:
        return codec.encode({"u": [u.to_dict() for u in self.upstream]})[3:]  # the array alone

    def to_bytes(self) -> bytes:
        return self.encode().data

    def encoded(self) -> tuple[bytes, Digest]:
        """The manifest's canonical bytes and its content digest, encoding the entries once."""
        enc = self.encode()
        return enc.data, enc.content

    def encode(self) -> Encoded:
        """Everything to store: one manifest of up to ``SINGLE_MAX`` entries, else a root and shards."""
        if self._entries is None:
            content = shards.root_content(self.shards, self._upstream_bytes(), self.algorithm)
            return Encoded(self._root(self.shards), content, format=shards.SHARD_FORMAT)
        if len(self._entries) <= shards.SINGLE_MAX:
            return self._single()
        done: list[tuple[ShardRef, bytes]] = []
        _, enc = self._sharded(iter(self._entries), len(self._entries), done.extend)
        return dataclasses.replace(enc, shards=tuple(done))

    def _sharded(
        self, entries: Iterator[Entry | ShardRef], total: int, put: Callable[[list[tuple[ShardRef, bytes]]], None]
    ) -> tuple[Manifest, Encoded]:
        """Cut ``entries`` into shards handed to ``put`` a few at a time as they fill; return
        the sharded manifest (reading its shards through this one's loader) and its root."""
        up = self._upstream_bytes()
        sharder = shards.Sharder(self.algorithm, total, up)
        pending: list[tuple[ShardRef, bytes]] = []
        for item in entries:
            # A stored shard offered whole (a draft's unchanged run): taken as it is when the
            # entries before it ended a shard, else its entries are read and cut anew.
            if isinstance(item, ShardRef):
                if sharder.reuse(item):
                    continue
                more: Iterable[Entry] = self.shard_entries(item)
            else:
                more = (item,)
            for e in more:
                if (cut := sharder.add(e)) is not None:
                    pending.append(cut)
                    if len(pending) >= SHARDS_PUT:
                        put(pending)
                        pending = []
        if (cut := sharder.finish()) is not None:
            pending.append(cut)
        put(pending)
        man = Manifest(
            self.name,
            self.type,
            (),
            self.description,
            self.metadata,
            self.upstream,
            self.algorithm,
            shards=sharder.refs,
            loader=self._loader,
        )
        return man, Encoded(self._root(man.shards), sharder.content(), (), sharder.legacy(), shards.SHARD_FORMAT)

    def streamed(
        self, entries: Iterable[Entry | ShardRef], total: int, put: Callable[[list[tuple[ShardRef, bytes]]], None]
    ) -> tuple[Manifest, Encoded]:
        """This (empty) manifest with ``total`` entries given in path order, built in bounded
        memory: up to ``SINGLE_MAX`` one manifest as :meth:`encode` makes it; beyond, shards
        are handed to ``put`` as they fill (the returned root's ``shards`` is then empty) and
        the manifest returned reads them through this one's loader."""
        if self.count or self.shards:
            raise FormatError("a manifest is streamed from an empty one")
        if total <= shards.SINGLE_MAX:
            flat = (
                e for item in entries for e in (self.shard_entries(item) if isinstance(item, ShardRef) else (item,))
            )
            man = Manifest(
                self.name, self.type, tuple(flat), self.description, self.metadata, self.upstream, self.algorithm
            )
            if man.count != total:
                raise FormatError(f"a manifest was announced with {total:,} entries but has {man.count:,}")
            return man, man.encode()
        return self._sharded(iter(entries), total, put)

    def _header(self, fmt: int) -> dict[str, Any]:
        """The fields every stored form of a manifest has besides its entries."""
        return {
            "format": fmt,
            "kind": "manifest",
            "algorithm": self.algorithm,
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "metadata": self.metadata,
        }

    def _root(self, refs: Sequence[ShardRef]) -> bytes:
        data = codec.encode(
            {
                **self._header(shards.SHARD_FORMAT),
                "shards": [r.to_dict() for r in refs],
                "upstream": [u.to_dict() for u in self.upstream],
            }
        )
        check_size("manifest", data, f"the manifest of {self.name!r} ({len(refs):,} shards)")
        return data

    def _single(self) -> Encoded:
        assert self._entries is not None
        entries = codec.canonical([e.to_dict() for e in self._entries])
        upstream = codec.canonical([u.to_dict() for u in self.upstream])
        packed = encode_where(self._entries)
        # Format 1 (every release reads it) unless entries are packed, which older releases
        # would look for as single blobs.
        fields = {
            **self._header(shards.SHARD_FORMAT if packed else codec.FORMAT_VERSION),
            "entries": codec.Canonical(entries),
            "upstream": codec.Canonical(upstream),
        }
        if packed:
            fields["packed"] = packed
        whole = codec.encode(fields)
        check_size("manifest", whole, f"the manifest of {self.name!r} ({len(self._entries):,} entries)")
        body = codec.encode({"entries": codec.Canonical(entries), "upstream": codec.Canonical(upstream)})
        return Encoded(whole, hash_bytes(body, self.algorithm), format=fields["format"])

    def digest(self) -> Digest:
        return hash_bytes(self.to_bytes(), self.algorithm)

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "manifest", loader: ShardLoader | None = None) -> Manifest:
        """Decode untrusted bytes; raise :class:`FormatError` naming what is wrong.

        A sharded manifest's shards are read through ``loader`` when entries are asked for.
        """
        d = codec.decode(data, what, max_bytes=MAX_BYTES["manifest"])
        codec.check_format(d, what)
        if d.get("kind", "manifest") != "manifest":
            raise FormatError(f"{what}: is a {d.get('kind')!r} record, not a manifest")
        algorithm = codec.get_str(d, "algorithm", what)
        if algorithm not in ALGORITHMS:
            raise FormatError(f"{what}: unknown digest algorithm {algorithm!r}")
        refs: tuple[ShardRef, ...] = ()
        if "packed" in d and d["format"] < shards.SHARD_FORMAT:
            raise FormatError(f"{what}: packed entries need format {shards.SHARD_FORMAT}")
        if "shards" in d:
            if d["format"] < shards.SHARD_FORMAT or "entries" in d:
                raise FormatError(f"{what}: a sharded manifest is format {shards.SHARD_FORMAT} and lists no entries")
            refs = tuple(ShardRef.from_dict(s, f"{what} shard") for s in codec.get_list(d, "shards", what))
            if not refs:
                raise FormatError(f"{what}: a sharded manifest lists at least one shard")
        return cls(
            name=_name(d, "name", what),
            type=_name(d, "type", what),
            entries=shards.located(
                tuple(Entry.from_dict(e, f"{what} entry") for e in codec.get_list(d, "entries", what)),
                d.get("packed"),
                what,
            ),
            description=codec.get_str(d, "description", what, optional=True),
            metadata=codec.get_map(d, "metadata", what),
            upstream=tuple(
                ArtifactVersionId.from_dict(u, f"{what} upstream") for u in codec.get_list(d, "upstream", what)
            ),
            algorithm=algorithm,
            shards=refs,
            loader=loader,
        )


def _path(e: Entry) -> str:
    return e.path


def path_after(prefix: str) -> str | None:
    """The first string after every string starting with ``prefix`` (None: there is none)."""
    while prefix and prefix[-1] == "\U0010ffff":
        prefix = prefix[:-1]
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else None
