"""Packs on a store: writing them with their indexes, finding what they hold, and reading
packed blobs by coalesced byte ranges (the format is in :mod:`artifactfs.packs`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from . import layout
from .backend import Backend
from .entry import Location
from .errors import IntegrityError
from .hashing import DIGEST_BYTES, Digest, hash_bytes
from .packs import RANGE_MAX, PackIndex, PackMoved, coalesce, plan

__all__ = ["PackSet", "Packing", "forwarded", "read_packed", "repack", "write_packs"]

PACK_UPLOADS = 4  # packs sent at once (each held in memory while it is sent)
INDEX_BATCH = 8  # pack indexes read at once


def _numpy() -> Any:
    """numpy, loaded with the first pack index read (``import artifactfs`` does not pay ~0.1 s for it)."""
    import numpy

    return numpy


class _Table:
    """The packed blobs of one digest algorithm, sorted by raw digest in flat arrays: ~52 bytes
    a blob (a dict of Digest -> Location took ~350), so a process can know a store's millions
    of packed files. Looked up a batch at a time (restic keeps its in-memory index alike)."""

    def __init__(self) -> None:
        np = _numpy()
        self.keys = np.zeros(0, dtype=f"S{DIGEST_BYTES}")
        self.pack = np.zeros(0, dtype=np.uint32)
        self.offset = np.zeros(0, dtype=np.uint64)
        self.length = np.zeros(0, dtype=np.uint64)

    @staticmethod
    def arrays(number: int, raw: list[tuple[bytes, int, int]]) -> list[Any]:
        """One pack index's blobs as arrays [keys, pack numbers, offsets, lengths]: made as
        each index is decoded, so its per-blob objects are freed before the next is read."""
        np = _numpy()
        return [
            np.array([b[0] for b in raw], dtype=f"S{DIGEST_BYTES}"),
            np.full(len(raw), number, dtype=np.uint32),
            np.array([b[1] for b in raw], dtype=np.uint64),
            np.array([b[2] for b in raw], dtype=np.uint64),
        ]

    def add(self, parts: list[list[Any]]) -> None:
        """Add the blobs of several pack indexes (from :meth:`arrays`), sorting once. Each
        column is grown into one new array and the parts' pieces freed as they are copied,
        then put in order a column at a time: a million blobs (52 MB) peak at about 100 MB
        more, where concatenating and sorting every column at once took 150."""
        np = _numpy()
        n = len(self.keys) + sum(len(p[0]) for p in parts)
        for i, name in enumerate(("keys", "pack", "offset", "length")):
            old = getattr(self, name)
            grown = np.empty(n, dtype=old.dtype)
            grown[: len(old)] = old
            at = len(old)
            del old
            setattr(self, name, None)
            for p in parts:
                grown[at : at + len(p[i])] = p[i]
                at += len(p[i])
                p[i] = None
            setattr(self, name, grown)
            del grown
        self._keep(np.argsort(self.keys, kind="stable"))

    def drop(self, numbers: list[int]) -> None:
        np = _numpy()
        self._keep(np.flatnonzero(~np.isin(self.pack, numbers)))

    def _keep(self, order: Any) -> None:
        # A column at a time: each old column is freed as its reordered copy replaces it.
        self.keys = self.keys[order]
        self.pack = self.pack[order]
        self.offset = self.offset[order]
        self.length = self.length[order]

    def find(self, digests: list[Digest]) -> list[tuple[Digest, int, int, int]]:
        """(digest, pack number, offset, length) of those of ``digests`` that are packed."""
        if not digests or not len(self.keys):
            return []
        np = _numpy()
        query = np.array([bytes.fromhex(d.hex) for d in digests], dtype=self.keys.dtype)
        at = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        hit = self.keys[at] == query
        return [
            (d, int(self.pack[i]), int(self.offset[i]), int(self.length[i]))
            for d, i, h in zip(digests, at.tolist(), hit.tolist(), strict=True)
            if h
        ]


class PackSet:
    """What the packs of a store hold, from their indexes: each index is read once per
    process (indexes never change); each call lists them, to find new ones and to forget
    those gc removed."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._read: dict[str, int] = {}  # index key -> pack number
        self._packs: list[Digest] = []  # pack number -> pack
        self._tables: dict[str, _Table] = {}
        self._lock = threading.Lock()

    def find(self, algorithm: str, digests: Iterable[Digest]) -> dict[Digest, Location]:
        """Where those of ``digests`` that are packed are (one listing, and the indexes not read
        yet, at once)."""
        self._refresh(algorithm)
        wanted = [d for d in digests if d.algorithm == algorithm]
        with self._lock:
            table = self._tables.get(algorithm)
            found = table.find(wanted) if table is not None else []
            return {d: Location(self._packs[p], offset, length) for d, p, offset, length in found}

    def here(self, named: dict[Digest, Location]) -> dict[Digest, Location]:
        """Where this store's own packs hold blobs that a manifest places in packs it does not
        hold (a version copied from another store): same digest, same length."""
        out: dict[Digest, Location] = {}
        for algorithm in {d.algorithm for d in named}:
            found = self.find(algorithm, [d for d in named if d.algorithm == algorithm])
            out.update({d: at for d, at in found.items() if at.length == named[d].length and at.pack != named[d].pack})
        return out

    def locations(self, algorithm: str) -> dict[Digest, Location]:
        """Every packed blob of ``algorithm`` and where it is (for tests and tools: a commit
        asks :meth:`find` about the blobs it has)."""
        self._refresh(algorithm)
        with self._lock:
            table = self._tables.get(algorithm)
            if table is None:
                return {}
            return {
                # numpy's fixed-size bytes drop trailing zero bytes when they are read out
                Digest(algorithm, k.ljust(DIGEST_BYTES, b"\0").hex()): Location(self._packs[int(p)], int(o), int(n))
                for k, p, o, n in zip(table.keys.tolist(), table.pack, table.offset, table.length, strict=True)
            }

    def _refresh(self, algorithm: str) -> None:
        folder = layout.packs_dir(algorithm)
        listed = {f"{folder}/{n}" for n in self.backend.listdir(folder) if n.endswith(".index")}
        with self._lock:
            # What an earlier listing found may have been collected since: only packs listed
            # now (under the caller's commit lease, so gc waits for it) are known.
            gone = [k for k in self._read if k.startswith(folder + "/") and k not in listed]
            if gone and (table := self._tables.get(algorithm)) is not None:
                table.drop([self._read[k] for k in gone])
            for k in gone:
                del self._read[k]
            todo = sorted(listed - set(self._read))
        for at in range(0, len(todo), INDEX_BATCH):
            # A few indexes at a time, each turned into arrays at once and added before the
            # next are read: a million packed blobs never exist as a million Python objects.
            decoded = []
            for key, data in self.backend.read_many(todo[at : at + INDEX_BATCH]).items():
                if data is None:
                    continue  # removed by gc since the listing: its pack is gone too
                pack = Digest(algorithm, key.rsplit("/", 1)[-1].removesuffix(".index"))
                _, raw = PackIndex.raw_from_bytes(data, f"pack index {key} in store {self.backend.url}", pack)
                decoded.append((key, pack, _Table.arrays(0, raw)))
                del raw
            with self._lock:
                new = []
                for key, pack, arrays in decoded:
                    if key not in self._read:
                        self._read[key] = len(self._packs)
                        self._packs.append(pack)
                        arrays[1].fill(self._read[key])
                        new.append(arrays)
                del decoded
                if new:
                    self._tables.setdefault(algorithm, _Table()).add(new)


@dataclass(frozen=True, slots=True)
class Packing:
    """How a commit packs: the store's packs, whether it may hold some already (a store of
    format 3), and what to do before the first pack is written (make the store format 3)."""

    packs: PackSet
    has_packs: bool
    before_first: Callable[[], None]


def repack(backend: Backend, pack: Digest, live: dict[Digest, Location]) -> dict[Digest, Location]:
    """Rewrite the ``live`` blobs of ``pack`` (a pack mostly garbage) into new packs, checked
    against their digests, and leave a forwarding record for manifests that name the old
    one; return where they are now. The old pack is not deleted here (gc does, afterwards):
    until then, both hold the blobs."""
    data: dict[Digest, bytes] = {}
    for d, got in read_packed(backend, {d: (w, f"repack of {layout.pack(pack)}") for d, w in live.items()}):
        if got is None or hash_bytes(got, d.algorithm) != d:
            raise IntegrityError(f"repack of {layout.pack(pack)} in store {backend.url}: blob {d.short} is damaged")
        data[d] = got
    where = write_packs(backend, {d: len(b) for d, b in data.items()}, data.__getitem__, pack.algorithm)
    backend.write(layout.pack_moved(pack), PackMoved(pack, where).to_bytes())
    return where


def write_packs(
    backend: Backend, sizes: dict[Digest, int], read: Callable[[Digest], bytes], algorithm: str
) -> dict[Digest, Location]:
    """Send the blobs of ``sizes`` as packs of about 32 MiB, each followed by its index; return
    where each blob is. ``read`` gives a blob's verified bytes, asked for one pack at a time
    (a few packs are in memory at once, however many files are sent). A pack is named by the
    digest of its bytes, so sending the same pack twice writes the same object."""

    def one(group: list[Digest]) -> dict[Digest, Location]:
        parts = [read(d) for d in group]
        offsets, at = [], 0
        for d, part in zip(group, parts, strict=True):
            offsets.append((d, at, len(part)))
            at += len(part)
        data = b"".join(parts)
        del parts
        pack = hash_bytes(data, algorithm)
        backend.write(layout.pack(pack), data)
        # The index only after its pack: an index never names a pack that is not there.
        backend.write(layout.pack_index(pack), PackIndex(pack, len(data), tuple(offsets)).to_bytes())
        return {d: Location(pack, offset, length) for d, offset, length in offsets}

    groups = plan(sizes)
    out: dict[Digest, Location] = {}
    with ThreadPoolExecutor(max(1, min(PACK_UPLOADS, len(groups)))) as pool:
        for where in pool.map(one, groups):
            out.update(where)
    return out


HOPS = 4  # forwarding records followed from a pack a manifest names (each repack adds one)


def read_packed(
    backend: Backend,
    wanted: dict[Digest, tuple[Location, str]],
    batch_bytes: int = RANGE_MAX,
    packs: PackSet | None = None,
) -> Iterator[tuple[Digest, bytes | None]]:
    """The bytes of packed blobs (digest -> (location, what)), read by ranges merged per pack,
    about ``batch_bytes`` per round of requests. A location is where the blob was when its
    manifest was written: a pack that gc repacked is followed through its forwarding record,
    and a pack this store does not hold (a copied version's) is looked for in the store's own
    pack indexes (``packs``). A blob found in neither is given as None: the caller reads it
    as a single blob (docs/format.md, *Packs*). Bytes are not checked here: the caller
    verifies each against its digest."""
    pending = wanted
    own: PackSet | None = packs
    for _ in range(HOPS + 1):
        gone: dict[Digest, dict[Digest, tuple[Location, str]]] = {}
        for d, data in _read_round(backend, pending, batch_bytes):
            if data is None:
                gone.setdefault(pending[d][0].pack, {})[d] = pending[d]
            else:
                yield d, data
        if not gone:
            return
        records = backend.read_many([layout.pack_moved(p) for p in gone])
        pending, lost = {}, {}
        for pack, items in gone.items():
            raw = records.get(layout.pack_moved(pack))
            moved = _moved(raw, pack) if raw else {}
            for d, (old, what) in items.items():
                new = moved.get(d)
                if new is not None and new.length == old.length:
                    pending[d] = (new, what)
                else:
                    lost[d] = (old, what)
        if lost:
            own = own if own is not None else PackSet(backend)
            here = own.here({d: w for d, (w, _) in lost.items()})
            for d, (_, what) in lost.items():
                if d in here:
                    pending[d] = (here[d], what)
                else:
                    yield d, None
    for d in pending:
        yield d, None


def forwarded(backend: Backend, wanted: dict[Digest, Location], packs: PackSet | None = None) -> dict[Digest, Location]:
    """Where the blobs of ``wanted`` (located in packs this store no longer holds, or never
    held) are now: through the packs' forwarding records, else in the store's own packs
    (``packs``); blobs found in neither are left out (single blobs, if anything)."""
    out: dict[Digest, Location] = {}
    pending = dict(wanted)
    for _ in range(HOPS):
        named = {w.pack for w in pending.values()}
        records = backend.read_many([layout.pack_moved(p) for p in named])
        # Each record decoded once (not once per blob: a pack holds thousands of them).
        decoded = {p: _moved(raw, p) if (raw := records.get(layout.pack_moved(p))) else {} for p in named}
        moved: dict[Digest, Location] = {}
        for d, w in pending.items():
            new = decoded[w.pack].get(d)
            if new is not None and new.length == w.length:
                moved[d] = new
        there = backend.existing([layout.pack(p) for p in {w.pack for w in moved.values()}])
        out.update({d: w for d, w in moved.items() if layout.pack(w.pack) in there})
        pending = {d: w for d, w in moved.items() if layout.pack(w.pack) not in there}
        if not pending:
            break
    lost = {d: w for d, w in wanted.items() if d not in out}
    if lost:
        out.update((packs if packs is not None else PackSet(backend)).here(lost))
    return out


def _moved(raw: bytes, pack: Digest) -> dict[Digest, Location]:
    return PackMoved.from_bytes(raw, f"pack record {layout.pack_moved(pack)}", pack).blobs


def _read_round(
    backend: Backend, wanted: dict[Digest, tuple[Location, str]], batch_bytes: int
) -> Iterator[tuple[Digest, bytes | None]]:
    by_pack: dict[Digest, list[tuple[int, int]]] = {}
    for where, _ in wanted.values():
        by_pack.setdefault(where.pack, []).append((where.offset, where.length))
    requests = [
        (pack, start, end, members) for pack, spans in by_pack.items() for start, end, members in coalesce(spans)
    ]
    located: dict[tuple[Digest, int, int], list[Digest]] = {}
    for d, (where, _) in wanted.items():
        located.setdefault((where.pack, where.offset, where.length), []).append(d)
    i = 0
    while i < len(requests):
        batch: list[tuple[Digest, int, int, list[tuple[int, int]]]] = []
        size = 0
        while i < len(requests) and (not batch or size + requests[i][2] - requests[i][1] <= batch_bytes):
            batch.append(requests[i])
            size += requests[i][2] - requests[i][1]
            i += 1
        asked: dict[str, list[tuple[int, int]]] = {}
        for pack, start, end, _ in batch:
            asked.setdefault(layout.pack(pack), []).append((start, end))
        got = backend.read_ranges(asked)
        seen: dict[str, int] = {}
        for pack, start, end, members in batch:
            key = layout.pack(pack)
            n = seen.get(key, 0)
            seen[key] = n + 1
            parts = got.get(key)
            data = parts[n] if parts is not None else None
            if data is not None and len(data) != end - start:
                what = wanted[located[(pack, *members[0])][0]][1]
                raise IntegrityError(
                    f"{what}: pack {key} in store {backend.url} is shorter than the manifest naming it says"
                )
            for offset, length in members:
                piece = None if data is None else data[offset - start : offset - start + length]
                for d in located[(pack, offset, length)]:
                    yield d, piece
