"""Decoders of stored bytes are fuzzed: anything malformed raises FormatError, nothing else."""

from __future__ import annotations

import contextlib
from typing import Any

import msgpack
from hypothesis import given, settings
from hypothesis import strategies as st

from artifactfs import codec
from artifactfs.errors import FormatError
from artifactfs.hashing import hash_bytes
from artifactfs.manifest import Entry, Manifest
from artifactfs.records import AliasEvent, ArtifactVersionId, RunRecord, Tombstone, VersionRecord

DECODERS = [
    lambda b: Manifest.from_bytes(b),
    lambda b: VersionRecord.from_bytes(b, "v", at=("p", "ds", 0)),
    lambda b: AliasEvent.from_bytes(b, "a", alias="best"),
    lambda b: RunRecord.from_bytes(b, "r", at=("p", "r1")),
    lambda b: Tombstone.from_bytes(b, "t", version=0),
]

leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1), st.floats(), st.text(), st.binary()
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)

D = str(hash_bytes(b"x"))
VALID = {
    "manifest": Manifest("ds", "dataset", (Entry("a", hash_bytes(b"a"), 1),)).to_bytes(),
    "version": VersionRecord("p", "ds", 0, "dataset", hash_bytes(b"m"), hash_bytes(b"c"), 1, 1, "t").to_bytes(),
    "run": RunRecord(
        "r1", "p", "r", None, {}, "running", "t", inputs=(ArtifactVersionId("p", "ds", 0, hash_bytes(b"m")),)
    ).to_bytes(),
}


def decode_only_format_errors(data: bytes) -> None:
    for decode in DECODERS:
        with contextlib.suppress(FormatError):
            decode(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes(data: bytes) -> None:
    decode_only_format_errors(data)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=12), values, max_size=8))
def test_random_maps(d: dict[str, Any]) -> None:
    d.setdefault("format", 1)
    decode_only_format_errors(msgpack.packb(d, use_bin_type=True))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(VALID)), st.text(min_size=1, max_size=12), values)
def test_valid_records_with_one_field_replaced(which: str, key: str, value: Any) -> None:
    d = codec.decode(VALID[which], which)
    d[key] = value
    decode_only_format_errors(msgpack.packb(d, use_bin_type=True))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(VALID)), st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=255))
def test_valid_records_with_a_flipped_or_truncated_byte(which: str, pos: int, byte: int) -> None:
    data = bytearray(VALID[which])
    decode_only_format_errors(bytes(data[: pos % len(data)]))
    data[pos % len(data)] = byte
    decode_only_format_errors(bytes(data))


def test_malicious_entries_are_rejected() -> None:
    for path in ["../etc/passwd", "/abs", "C:evil", "a/../../b", "a\x00b", "", "./x"]:
        man = codec.decode(VALID["manifest"], "m")
        man["entries"][0]["path"] = path
        try:
            Manifest.from_bytes(msgpack.packb(man))
        except FormatError as e:
            assert "path" in str(e)
        else:
            raise AssertionError(f"accepted {path!r}")
    for bad in [
        {"size": -1},
        {"size": 2**63},
        {"size": "1"},
        {"size": True},
        {"digest": None},
        {"kind": "dir"},
        {"extra": []},
        {"digest": "md5:00"},
    ]:
        man = codec.decode(VALID["manifest"], "m")
        man["entries"][0].update(bad)
        try:
            Manifest.from_bytes(msgpack.packb(man))
        except FormatError:
            continue
        raise AssertionError(f"accepted {bad!r}")


def test_file_and_folder_with_one_name_is_rejected() -> None:
    man = codec.decode(VALID["manifest"], "m")
    man["entries"] = [
        {"path": "a", "digest": D, "size": 1, "kind": "file", "extra": {}},
        {"path": "a/b", "digest": D, "size": 1, "kind": "file", "extra": {}},
    ]
    try:
        Manifest.from_bytes(msgpack.packb(man))
    except FormatError as e:
        assert "below" in str(e)
    else:
        raise AssertionError("accepted a file that is also a folder")
