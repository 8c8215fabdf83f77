"""The search index kept in the store: what each version is (type, time, description,
metadata, tags), readable without opening a manifest.

Every commit, annotation and deletion appends one small record, create-if-absent, under
``index/records/`` holding the version's whole state at that point (``seq``: how many of
its annotation events it reflects). Any process may compact: it writes the rows of every
record and live segment it read into one Parquet segment under ``index/segments/``, with a
msgpack sidecar naming the records and segments it holds, then deletes those. A reader
lists records, then segments, reads the sidecars, skips segments another live sidecar
replaces and records a live segment holds, and merges what is left: per version, the row
with the highest ``seq`` wins (a deletion over all). Something listed and gone when read
(a compaction finishing) makes it read again. The index is a cache: hits are checked
against the version records before they are returned (:mod:`artifactfs.search`).
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import codec
from .backend import Backend
from .errors import ArtifactFSError, FormatError
from .fields import load, name_field, time_field
from .hashing import DEFAULT_ALGORITHM, hash_bytes
from .refs import check_name

__all__ = ["INDEX_RECORDS", "INDEX_SEGMENTS", "IndexRow", "IndexSnapshot", "compact", "read_index", "write_row"]

log = logging.getLogger(__name__)

INDEX_RECORDS = "index/records"
INDEX_SEGMENTS = "index/segments"
DELETED_SEQ = 2**31  # a deletion wins over every annotation
COMPACT_EVERY = 256  # a writer compacts after about one record in this many
_READS = 4  # times a reader reads again when a compaction removed what it listed


@dataclass(frozen=True)
class IndexRow:
    """One version's state, as one index record or segment row says."""

    project: str
    name: str
    version: int
    seq: int
    type: str
    created_at: str
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    deleted: bool = False

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.project, self.name, self.version)

    def to_bytes(self) -> bytes:
        return codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "index",
                "project": self.project,
                "name": self.name,
                "version": self.version,
                "seq": self.seq,
                "type": self.type,
                "created_at": self.created_at,
                "description": self.description,
                "metadata": codec.plain(dict(self.metadata), "metadata"),
                "tags": list(self.tags),
                "deleted": self.deleted,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str) -> IndexRow:
        d = load(data, what, "index")
        tags = codec.get_list(d, "tags", what)
        if not all(isinstance(t, str) for t in tags):
            raise FormatError(f"{what}: tags must be strings")
        return cls(
            name_field(d, "project", what),
            name_field(d, "name", what),
            codec.get_int(d, "version", what),
            codec.get_int(d, "seq", what),
            name_field(d, "type", what),
            time_field(d, "created_at", what),
            codec.get_str(d, "description", what, optional=True),
            codec.get_map(d, "metadata", what),
            tuple(tags),
            bool(d.get("deleted", False)),
        )


def newer(a: IndexRow, b: IndexRow) -> bool:
    return (a.seq, a.deleted) > (b.seq, b.deleted)


def write_row(backend: Backend, row: IndexRow) -> None:
    """Append ``row`` to the index; best effort (a failure is logged: ``reindex`` repairs),
    and now and then compact."""
    key = f"{INDEX_RECORDS}/{time.time_ns():020d}-{os.urandom(6).hex()}.msgpack"
    try:
        backend.create(key, row.to_bytes())
        if int(key[-20:-8], 16) % COMPACT_EVERY == 0:
            compact(backend)
    except ArtifactFSError as e:
        log.warning("could not update the search index of %s (artifactfs reindex repairs it): %s", backend.url, e)


@dataclass
class IndexSnapshot:
    """The merged index, with what it was read from (what a compaction replaces)."""

    rows: dict[tuple[str, str, int], IndexRow]
    records: list[str]  # record keys read (not held by a live segment)
    segments: list[str]  # live segment names


def read_index(backend: Backend) -> IndexSnapshot:
    """The index as it stands: every live segment and record, merged per version."""
    for _ in range(_READS):
        snapshot = _read_once(backend)
        if snapshot is not None:
            return snapshot
    raise FormatError(f"the search index of {backend.url} kept changing while it was read; try again")


def _read_once(backend: Backend) -> IndexSnapshot | None:
    records = sorted(n for n in backend.listdir(INDEX_RECORDS) if n.endswith(".msgpack"))
    names = backend.listdir(INDEX_SEGMENTS)
    # Sidecars and segments in one round: after a compaction the segments listed are the live
    # one and, rarely, one it replaces that is not removed yet.
    got = backend.read_many(f"{INDEX_SEGMENTS}/{n}" for n in names if n.endswith((".msgpack", ".parquet")))
    held: dict[str, tuple[set[str], set[str]]] = {}
    for key, data in got.items():
        if not key.endswith(".msgpack"):
            continue
        if data is None:
            return None  # replaced and removed since the listing
        try:
            d = load(data, f"index segment {key}", "index-segment")
            held[key.rsplit("/", 1)[1][: -len(".msgpack")]] = (
                set(codec.get_list(d, "records", key)),
                set(codec.get_list(d, "replaces", key)),
            )
        except ArtifactFSError as e:
            log.warning("ignoring the index segment %s in %s: %s", key, backend.url, e)
    replaced = set().union(*(r for _, r in held.values())) if held else set()
    live = sorted(s for s in held if s not in replaced)
    in_segments = set().union(*(held[s][0] for s in live)) if live else set()
    todo = [r for r in records if r not in in_segments]
    rows: dict[tuple[str, str, int], IndexRow] = {}
    for s in live:
        key = f"{INDEX_SEGMENTS}/{s}.parquet"
        data = got.get(key)
        if data is None:
            return None  # its sidecar was there, the segment is gone: replaced meanwhile
        for row in _segment_rows(data, key):
            _merge(rows, row)
    if todo:
        for key, data in backend.read_many(f"{INDEX_RECORDS}/{r}" for r in todo).items():
            if data is None:
                return None  # compacted into a segment written after our listing: read again
            try:
                _merge(rows, IndexRow.from_bytes(data, f"index record {key}"))
            except ArtifactFSError as e:
                log.warning("ignoring the index record %s in %s: %s", key, backend.url, e)
    return IndexSnapshot(rows, todo, live)


def _merge(rows: dict[tuple[str, str, int], IndexRow], row: IndexRow) -> None:
    have = rows.get(row.key)
    if have is None or newer(row, have):
        rows[row.key] = row


DELETERS = 32  # concurrent deletes of what a compaction replaced


def compact(backend: Backend) -> str | None:
    """Fold every record and live segment into one new segment, then remove what it holds;
    returns its name (None when there was nothing to fold)."""
    snap = read_index(backend)
    if not snap.records and len(snap.segments) <= 1:
        return None
    data = _segment_bytes(list(snap.rows.values()))
    name = hash_bytes(data, DEFAULT_ALGORITHM).hex[:32]
    backend.create(f"{INDEX_SEGMENTS}/{name}.parquet", data)
    sidecar = {
        "format": codec.FORMAT_VERSION,
        "kind": "index-segment",
        "records": snap.records,
        "replaces": [s for s in snap.segments if s != name],
        "created_at": codec.utcnow(),
    }
    backend.create(f"{INDEX_SEGMENTS}/{name}.msgpack", codec.encode(sidecar))
    # What the new segment holds goes all at once: after a backlog (reindex, a writer that
    # logged thousands of versions) one request after another took minutes on a cloud store.
    gone = [f"{INDEX_RECORDS}/{r}" for r in snap.records]
    gone += [f"{INDEX_SEGMENTS}/{s}{ext}" for s in snap.segments if s != name for ext in (".msgpack", ".parquet")]
    with ThreadPoolExecutor(max(1, min(DELETERS, len(gone)))) as pool:
        failed = sum(pool.map(lambda key: _removed(backend, key), gone))
    if failed:  # the sidecar names them, so readers skip them; they stay (a few bytes each)
        log.warning("compaction of the search index of %s left %d replaced item(s) for the next", backend.url, failed)
    return name


def _removed(backend: Backend, key: str) -> int:
    """Delete ``key``; 1 if that failed (once a compaction's sidecar exists, best effort)."""
    try:
        backend.delete(key)
    except ArtifactFSError:
        return 1
    return 0


_COLUMNS = ("project", "name", "version", "seq", "type", "created_at", "description", "metadata", "tags", "deleted")


def _segment_bytes(rows: list[IndexRow]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows.sort(key=lambda r: r.key)
    table = pa.table(
        {
            "project": [r.project for r in rows],
            "name": [r.name for r in rows],
            "version": pa.array([r.version for r in rows], pa.int64()),
            "seq": pa.array([r.seq for r in rows], pa.int64()),
            "type": [r.type for r in rows],
            "created_at": [r.created_at for r in rows],
            "description": pa.array([r.description for r in rows], pa.string()),
            "metadata": [json.dumps(codec.plain(dict(r.metadata), "metadata"), sort_keys=True) for r in rows],
            "tags": pa.array([list(r.tags) for r in rows], pa.list_(pa.string())),
            "deleted": [r.deleted for r in rows],
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def _segment_rows(data: bytes, what: str) -> list[IndexRow]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data), columns=list(_COLUMNS))
        cols = {c: table.column(c).to_pylist() for c in _COLUMNS}
    except (pa.ArrowException, KeyError, OSError) as e:
        log.warning("ignoring the index segment %s: %s", what, e)
        return []
    try:  # one parse for the whole column (each value is JSON text written by _segment_bytes)
        maps = json.loads("[" + ",".join(cols["metadata"]) + "]")
    except (TypeError, ValueError):
        maps = [None] * table.num_rows  # parsed one by one below, the bad ones skipped
    out = []
    for i in range(table.num_rows):
        try:
            metadata = maps[i] if maps[i] is not None else json.loads(cols["metadata"][i])
            if not isinstance(metadata, dict):
                raise ValueError("metadata is not a map")
            out.append(
                IndexRow(
                    check_name(str(cols["project"][i]), "project"),
                    check_name(str(cols["name"][i]), "artifact name"),
                    int(cols["version"][i]),
                    int(cols["seq"][i]),
                    str(cols["type"][i]),
                    str(cols["created_at"][i]),
                    cols["description"][i],
                    metadata,
                    tuple(cols["tags"][i] or ()),
                    bool(cols["deleted"][i]),
                )
            )
        except (TypeError, ValueError, ArtifactFSError) as e:
            log.warning("ignoring row %d of the index segment %s: %s", i, what, e)
    return out
