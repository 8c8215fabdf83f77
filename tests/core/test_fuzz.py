"""Every decoder of stored bytes, fuzzed: whole records, and every field at every depth replaced
or removed. Anything malformed raises FormatError and nothing else; anything that decodes
round-trips, and is safe to hand to the code that reads it (tables, statistics, references)."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from typing import Any

import msgpack
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from artifactfs import codec
from artifactfs.errors import FormatError
from artifactfs.hashing import BLOCK_SIZE, DIGEST_BYTES, hash_bytes
from artifactfs.manifest import Entry, Manifest
from artifactfs.records import (
    AliasEvent,
    ArtifactVersionId,
    ClaimResolution,
    ContentClaim,
    Lease,
    ReferencedByMarker,
    RunRecord,
    StoreDescriptor,
    Tombstone,
    UsedByMarker,
    VersionRecord,
)

M = hash_bytes(b"m")
D = hash_bytes(b"d")
TABLE_SIZE = 3 * BLOCK_SIZE + 5
TABLE = Entry(
    "events/part-00000.parquet",
    D,
    TABLE_SIZE,
    "table",
    {
        "num_rows": 10,
        "num_row_groups": 1,
        "columns": [["id", "int64"], ["name", "string"]],
        "blocks": {"size": BLOCK_SIZE, "digests": bytes(4 * DIGEST_BYTES)},
        "dataset": "events",
        "part": 0,
        "stats": {"id": [1, 10, 0], "name": ["a", "z", 2]},
    },
)
MANIFEST = Manifest(
    "ds",
    "dataset",
    (
        Entry("a.txt", hash_bytes(b"a"), 1),
        TABLE,
        Entry("ref.csv", None, 8, "reference", {"uri": "https://example.org/ref.csv", "etag": 'ETag="x"'}),
    ),
    description="d",
    metadata={"rows": 3, "nested": {"k": [1, 2]}},
    upstream=(ArtifactVersionId("p", "raw", 0, M),),
)
RUN = RunRecord(
    "r1",
    "p",
    "train",
    "train",
    {"lr": 0.1, "layers": [1, 2]},
    "finished",
    codec.utcnow(),
    codec.utcnow(),
    inputs=(ArtifactVersionId("p", "raw", 0, M),),
    outputs=(ArtifactVersionId("p", "ds", 0, M),),
    host="h",
    extra={"git": {"commit": "abc", "dirty": False}},
)
NOW = codec.utcnow()
SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])

# kind -> (valid bytes, decoder reading them as if from their own key)
KINDS: dict[str, tuple[bytes, Callable[[bytes], Any]]] = {
    "manifest": (MANIFEST.to_bytes(), lambda b: Manifest.from_bytes(b)),
    "version": (
        VersionRecord("p", "ds", 0, "dataset", M, D, 1, 1, NOW, "p", "r1", {"store": "s"}).to_bytes(),
        lambda b: VersionRecord.from_bytes(b, "v", at=("p", "ds", 0)),
    ),
    "alias": (AliasEvent("best", 0, NOW, "r1").to_bytes(), lambda b: AliasEvent.from_bytes(b, "a", alias="best")),
    "tombstone": (Tombstone(0, NOW, "why").to_bytes(), lambda b: Tombstone.from_bytes(b, "t", version=0)),
    "run": (RUN.to_bytes(), lambda b: RunRecord.from_bytes(b, "r", at=("p", "r1"))),
    "claim": (ContentClaim("tok", 1.5, "h", 7).to_bytes(), lambda b: ContentClaim.from_bytes(b, "c")),
    "resolution": (ClaimResolution(3).to_bytes(), lambda b: ClaimResolution.from_bytes(b, "c")),
    "used-by": (UsedByMarker("p", "r1").to_bytes(), lambda b: UsedByMarker.from_bytes(b, "u", run="r1")),
    "referenced-by": (
        ReferencedByMarker(ArtifactVersionId("p", "ds", 1, M)).to_bytes(),
        lambda b: ReferencedByMarker.from_bytes(b, "r", manifest=M),
    ),
    "lease": (
        Lease("commit", "l1", "h", 7, NOW, 1.0, 120.0).to_bytes(),
        lambda b: Lease.from_bytes(b, "l", lease_id="l1"),
    ),
    "descriptor": (StoreDescriptor(2, "blake3", 1, NOW).to_bytes(), lambda b: StoreDescriptor.from_bytes(b, "s")),
}

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.sampled_from([0, 1, -1, 2**62, 2**62 - 1, BLOCK_SIZE]),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["", "..", "/abs", "a/../b", "x:y", "blake3:00", "not-a-time", NOW, str(M), "file:///dev/zero"]),
    st.binary(max_size=40),
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a field or list item, at every depth."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield (*prefix, k)
            yield from paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield (*prefix, i)
            yield from paths(v, (*prefix, i))


PATHS = {kind: sorted(paths(codec.decode(data, kind)), key=repr) for kind, (data, _) in KINDS.items()}
CASES = [(kind, p) for kind, ps in PATHS.items() for p in ps]


def changed(kind: str, path: tuple[Any, ...], value: Any, remove: bool) -> bytes:
    d = copy.deepcopy(codec.decode(KINDS[kind][0], kind))
    parent = d
    for step in path[:-1]:
        parent = parent[step]
    if remove:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return msgpack.packb(d, use_bin_type=True)


def use(obj: Any) -> None:
    """Hand a decoded record to the code that reads it; only FormatError may come out."""
    if isinstance(obj, Manifest):
        from artifactfs.diff import _table_notes
        from artifactfs.engines import partition_expression
        from artifactfs.verified import VerifiedReader

        for e in obj.entries:
            if e.kind == "table":
                blocks = e.extra.get("blocks")
                if blocks:
                    VerifiedReader(contextlib.nullcontext(), e.size, blocks["size"], blocks["digests"], "blake3", "t")  # type: ignore[arg-type]
                _table_notes(e.path, e, TABLE)
                partition_expression(SCHEMA, e.extra.get("stats") or {})
            if e.kind == "reference":
                assert "://" in e.extra["uri"]
    if isinstance(obj, RunRecord):
        _ = obj.duration


def round_trips(kind: str, obj: Any) -> None:
    again = KINDS[kind][1](obj.to_bytes())
    assert again.to_bytes() == obj.to_bytes()  # (bytes, not ==: a NaN in metadata is not equal to itself)


def check(kind: str, data: bytes) -> None:
    try:
        obj = KINDS[kind][1](data)
    except FormatError:
        return
    use(obj)
    round_trips(kind, obj)


def test_valid_samples_decode_and_round_trip() -> None:
    for kind, (data, decode) in KINDS.items():
        obj = decode(data)
        round_trips(kind, obj)
        use(obj)
    assert PATHS["manifest"]  # nested fields are really enumerated:
    assert ("entries", 1, "extra", "blocks", "size") in PATHS["manifest"]
    assert ("entries", 1, "extra", "stats", "id", 0) in PATHS["manifest"]
    assert ("inputs", 0, "version") in PATHS["run"]


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(CASES), values, st.booleans())
def test_every_field_replaced_or_removed(case: tuple[str, tuple[Any, ...]], value: Any, remove: bool) -> None:
    kind, path = case
    check(kind, changed(kind, path, value, remove))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(KINDS)), st.binary(max_size=512))
def test_random_bytes(kind: str, data: bytes) -> None:
    check(kind, data)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(KINDS)), st.integers(min_value=0, max_value=400), st.integers(0, 255))
def test_a_flipped_or_truncated_byte(kind: str, pos: int, byte: int) -> None:
    data = bytearray(KINDS[kind][0])
    check(kind, bytes(data[: pos % len(data)]))
    data[pos % len(data)] = byte
    check(kind, bytes(data))


def test_every_field_is_checked() -> None:
    """Each field a reader relies on refuses at least one wrong value (a decoder that accepted
    anything would pass the tests above)."""
    wrong = [None, "x", -1, 2**63, [], {}, b"\x00", 1.5]
    accepted_anything = []
    for kind, path in CASES:
        refused = False
        for value in wrong:
            try:
                KINDS[kind][1](changed(kind, path, value, remove=False))
            except FormatError:
                refused = True
                break
        if not refused:
            accepted_anything.append((kind, path))
    # Free-form user data (metadata, config, extra, descriptions) may hold anything.
    free = ("metadata", "config", "extra", "origin", "description", "error", "host", "reason", "name", "job_type")
    unchecked = [(k, p) for k, p in accepted_anything if not any(f in p for f in free)]
    assert unchecked == []


def test_malicious_entries_are_rejected() -> None:
    for path in ["../etc/passwd", "/abs", "C:evil", "a/../../b", "a\x00b", "", "./x", "a/" + "x" * 300]:
        man = codec.decode(KINDS["manifest"][0], "m")
        man["entries"][0]["path"] = path
        try:
            Manifest.from_bytes(msgpack.packb(man))
        except FormatError as e:
            assert "path" in str(e)
        else:
            raise AssertionError(f"accepted {path!r}")


def test_file_and_folder_with_one_name_is_rejected() -> None:
    man = codec.decode(KINDS["manifest"][0], "m")
    man["entries"] = [
        {"path": "a", "digest": str(D), "size": 1, "kind": "file", "extra": {}},
        {"path": "a/b", "digest": str(D), "size": 1, "kind": "file", "extra": {}},
    ]
    try:
        Manifest.from_bytes(msgpack.packb(man))
    except FormatError as e:
        assert "below" in str(e)
    else:
        raise AssertionError("accepted a file that is also a folder")
