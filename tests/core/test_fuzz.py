"""Every decoder of stored bytes, round-tripped and fuzzed.

Valid records of every kind, generated, encode and decode back to an equal record (so a decoder
that refused everything would fail here). Malformed input (whole records of random bytes, bytes
flipped or cut off, and every field at every depth replaced or removed) raises FormatError and
nothing else; anything that decodes round-trips, and is safe to hand to the code that reads it
(tables, statistics, references)."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import msgpack
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artifactfs import codec
from artifactfs.errors import FormatError
from artifactfs.hashing import ALGORITHMS, BLOCK_SIZE, DIGEST_BYTES, Digest, hash_bytes
from artifactfs.manifest import Entry, Manifest
from artifactfs.markers import ClaimResolution, ContentClaim, Lease, ReferencedByMarker, UsedByMarker
from artifactfs.records import (
    AliasEvent,
    ArtifactVersionId,
    RunRecord,
    StoreDescriptor,
    Tombstone,
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


# A loaded machine runs examples slowly: no deadline, and no health check on generation time.
ROBUST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------- valid records, generated
names = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,15}\Z").filter(lambda n: ".." not in n)
counts = st.integers(min_value=0, max_value=codec.MAX_INT - 1)
digests = st.builds(Digest, st.sampled_from(ALGORITHMS), st.binary(min_size=32, max_size=32).map(bytes.hex))
times = st.datetimes(
    min_value=dt.datetime(1970, 1, 2),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
).map(lambda t: t.isoformat())
short_text = st.text(max_size=20)
finite = st.floats(allow_nan=False, allow_infinity=False)
# Free-form user data (metadata, config, extra): whatever msgpack holds. NaN is left out only
# because it is not equal to itself; the fuzz tests below feed it to the decoders.
plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | short_text
    | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
user_maps = st.dictionaries(st.text(max_size=8), plain, max_size=4)
version_ids = st.builds(ArtifactVersionId, names, names, counts, digests)
segments = st.text(
    st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="/\\"), min_size=1, max_size=10
).filter(lambda p: p not in (".", ".."))
entry_paths = st.lists(segments, min_size=1, max_size=3).map("/".join).filter(lambda p: p[1:2] != ":")


def _no_file_is_a_folder(paths: list[str]) -> list[str]:
    files = set(paths)
    return sorted(p for p in files if not any("/".join(p.split("/")[:i]) in files for i in range(1, p.count("/") + 1)))


@st.composite
def stats(draw: st.DrawFn) -> list[Any]:
    kind = draw(st.sampled_from([finite | st.integers(-(2**63), 2**63 - 1), short_text, st.booleans()]))
    lo, hi = sorted([draw(kind), draw(kind)])
    return [lo, hi, draw(st.integers(0, 2**62))]


@st.composite
def table_extras(draw: st.DrawFn, size: int) -> dict[str, Any]:
    extra: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "num_rows": counts,
                "num_row_groups": counts,
                "part": counts,
                "dataset": names,
                "columns": st.lists(st.lists(short_text, min_size=2, max_size=2), max_size=3),
                "stats": st.dictionaries(short_text, stats(), max_size=3),
            },
        )
    )
    if draw(st.booleans()):
        block = draw(st.integers(min_value=max(1, size // 8), max_value=4096))
        extra["blocks"] = {"size": block, "digests": bytes(-(-size // block) * DIGEST_BYTES)}
    return extra


@st.composite
def entries(draw: st.DrawFn, path: str) -> Entry:
    kind = draw(st.sampled_from(["file", "table", "reference"]))
    size = draw(st.integers(0, 20_000))
    if kind == "file":
        return Entry(path, draw(digests), size, "file", draw(user_maps))
    if kind == "table":
        return Entry(path, draw(digests), size, "table", draw(table_extras(size)))
    extra: dict[str, Any] = {"uri": draw(st.sampled_from(["s3", "gs", "https", "file"])) + "://" + draw(short_text)}
    extra.update(draw(st.fixed_dictionaries({}, optional={"etag": short_text, "checksum": st.booleans()})))
    return Entry(path, draw(st.none() | digests), size, "reference", extra)


@st.composite
def manifests(draw: st.DrawFn) -> Manifest:
    paths = _no_file_is_a_folder(draw(st.lists(entry_paths, max_size=6)))
    return Manifest(
        draw(names),
        draw(names),
        tuple(draw(entries(p)) for p in paths),
        description=draw(st.none() | short_text),
        metadata=draw(user_maps),
        upstream=tuple(draw(st.lists(version_ids, max_size=3))),
        algorithm=draw(st.sampled_from(ALGORITHMS)),
    )


@st.composite
def version_records(draw: st.DrawFn) -> VersionRecord:
    run = draw(st.none() | st.tuples(names, names))
    return VersionRecord(
        *draw(st.tuples(names, names, counts, names, digests, digests, counts, counts, times)),
        run_project=run[0] if run else None,
        run_id=run[1] if run else None,
        origin=draw(st.none() | st.dictionaries(st.text(max_size=8), plain, min_size=1, max_size=3)),
    )


@st.composite
def descriptors(draw: st.DrawFn) -> StoreDescriptor:
    fmt, levels = draw(st.sampled_from([(1, 2), (2, 1), (2, 2)]))
    return StoreDescriptor(fmt, draw(st.sampled_from(ALGORITHMS)), levels, draw(st.none() | short_text))


RECORDS: dict[str, st.SearchStrategy[Any]] = {
    "manifest": manifests(),
    "version": version_records(),
    "alias": st.builds(AliasEvent, names, st.none() | counts, times, st.none() | names),
    "tombstone": st.builds(Tombstone, counts, times, st.none() | st.text(max_size=100)),
    "run": st.builds(
        RunRecord,
        id=names,
        project=names,
        name=short_text,
        job_type=st.none() | short_text,
        config=user_maps,
        status=st.sampled_from(["running", "finished", "failed"]) | short_text,
        started_at=times,
        finished_at=st.none() | times,
        inputs=st.lists(version_ids, max_size=3).map(tuple),
        outputs=st.lists(version_ids, max_size=3).map(tuple),
        host=st.none() | short_text,
        error=st.none() | short_text,
        extra=user_maps,
    ),
    "claim": st.builds(ContentClaim, short_text, finite, st.none() | short_text, st.none() | counts),
    "resolution": st.builds(ClaimResolution, counts),
    "used-by": st.builds(UsedByMarker, names, names),
    "referenced-by": st.builds(ReferencedByMarker, version_ids),
    "lease": st.builds(
        Lease,
        st.sampled_from(["commit", "gc"]),
        names,
        short_text,
        counts,
        times,
        finite,
        st.floats(min_value=0, max_value=2**31, exclude_min=True, exclude_max=True),
    ),
    "descriptor": descriptors(),
}

# kind -> decoder of a record's bytes, told the identity its key would give
DECODERS: dict[str, Callable[[Any, bytes], Any]] = {
    "manifest": lambda r, b: Manifest.from_bytes(b),
    "version": lambda r, b: VersionRecord.from_bytes(b, "v", at=(r.project, r.name, r.version)),
    "alias": lambda r, b: AliasEvent.from_bytes(b, "a", alias=r.alias),
    "tombstone": lambda r, b: Tombstone.from_bytes(b, "t", version=r.version),
    "run": lambda r, b: RunRecord.from_bytes(b, "r", at=(r.project, r.id)),
    "claim": lambda r, b: ContentClaim.from_bytes(b, "c"),
    "resolution": lambda r, b: ClaimResolution.from_bytes(b, "c"),
    "used-by": lambda r, b: UsedByMarker.from_bytes(b, "u", run=r.run),
    "referenced-by": lambda r, b: ReferencedByMarker.from_bytes(b, "r", manifest=r.by.manifest),
    "lease": lambda r, b: Lease.from_bytes(b, "l", lease_id=r.id),
    "descriptor": lambda r, b: StoreDescriptor.from_bytes(b, "s"),
}


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


def changed(kind: str, path: tuple[Any, ...], value: Any, remove: bool, data: bytes | None = None) -> bytes:
    """The record ``data`` (by default the sample of ``kind``) with the field at ``path`` replaced or removed."""
    d = copy.deepcopy(codec.decode(KINDS[kind][0] if data is None else data, kind))
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


def check(kind: str, data: bytes, decode: Callable[[bytes], Any] | None = None) -> None:
    """Decode possibly malformed ``data``: a FormatError, or a record that is safe to use and
    round-trips (``decode`` reads it as if from a given key; by default the sample's)."""
    decode = decode or KINDS[kind][1]
    try:
        obj = decode(data)
    except FormatError:
        return
    use(obj)
    assert decode(obj.to_bytes()).to_bytes() == obj.to_bytes()


def decodes_to_itself(kind: str, record: Any) -> bytes:
    """``record`` encoded, then decoded as if read from its own key, is an equal record."""
    data = record.to_bytes()
    again = DECODERS[kind](record, data)
    assert again == record
    assert again.to_bytes() == data
    use(again)
    return data


def test_valid_samples_decode_and_round_trip() -> None:
    assert set(KINDS) == set(RECORDS) == set(DECODERS)  # every kind is generated and fuzzed
    for kind, (data, decode) in KINDS.items():
        obj = decode(data)
        round_trips(kind, obj)
        use(obj)
    assert PATHS["manifest"]  # nested fields are really enumerated:
    assert ("entries", 1, "extra", "blocks", "size") in PATHS["manifest"]
    assert ("entries", 1, "extra", "stats", "id", 0) in PATHS["manifest"]
    assert ("inputs", 0, "version") in PATHS["run"]


@pytest.mark.parametrize("kind", sorted(RECORDS))
@settings(ROBUST, max_examples=40)
@given(data=st.data())
def test_valid_records_round_trip(kind: str, data: st.DataObject) -> None:
    decodes_to_itself(kind, data.draw(RECORDS[kind], label=kind))


@settings(ROBUST, max_examples=300)
@given(st.sampled_from(CASES), values, st.booleans())
def test_every_field_replaced_or_removed(case: tuple[str, tuple[Any, ...]], value: Any, remove: bool) -> None:
    kind, path = case
    round_trips(kind, KINDS[kind][1](KINDS[kind][0]))  # the sample itself decodes
    check(kind, changed(kind, path, value, remove))


@settings(ROBUST, max_examples=200)
@given(st.sampled_from(sorted(RECORDS)), st.data(), values, st.booleans())
def test_every_field_of_a_generated_record_replaced_or_removed(
    kind: str, data: st.DataObject, value: Any, remove: bool
) -> None:
    record = data.draw(RECORDS[kind], label=kind)
    valid = decodes_to_itself(kind, record)
    path = data.draw(st.sampled_from(sorted(paths(codec.decode(valid, kind)), key=repr)), label="field")
    check(kind, changed(kind, path, value, remove, valid), lambda b: DECODERS[kind](record, b))


@settings(ROBUST, max_examples=150)
@given(st.sampled_from(sorted(RECORDS)), st.data(), st.binary(max_size=512))
def test_random_bytes(kind: str, data: st.DataObject, noise: bytes) -> None:
    record = data.draw(RECORDS[kind], label=kind)
    decodes_to_itself(kind, record)
    check(kind, noise, lambda b: DECODERS[kind](record, b))


@settings(ROBUST, max_examples=150)
@given(st.sampled_from(sorted(RECORDS)), st.data(), st.integers(min_value=0, max_value=2**16), st.integers(0, 255))
def test_a_flipped_or_truncated_byte(kind: str, data: st.DataObject, pos: int, byte: int) -> None:
    record = data.draw(RECORDS[kind], label=kind)
    valid = bytearray(decodes_to_itself(kind, record))
    decode: Callable[[bytes], Any] = lambda b: DECODERS[kind](record, b)  # noqa: E731
    check(kind, bytes(valid[: pos % len(valid)]), decode)
    valid[pos % len(valid)] = byte
    check(kind, bytes(valid), decode)


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
