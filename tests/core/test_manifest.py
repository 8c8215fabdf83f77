from __future__ import annotations

import io
import re

import msgpack
import pytest

from artifactfs import codec, shards
from artifactfs.errors import FormatError, InvalidInputError
from artifactfs.hashing import Digest, hash_bytes, hash_stream
from artifactfs.manifest import Entry, Manifest
from artifactfs.records import ArtifactVersionId, RunRecord, VersionRecord

D1 = hash_bytes(b"one")
D2 = hash_bytes(b"two")


def make(description: str | None = None, **kw: object) -> Manifest:
    entries = (Entry("a.txt", D1, 3), Entry("t.parquet", D2, 3, "table", {"num_rows": 1}))
    return Manifest(name="ds", type="dataset", entries=entries, description=description, **kw)  # type: ignore[arg-type]


def test_digest_roundtrip_and_algorithms() -> None:
    d = hash_bytes(b"x")
    assert d.algorithm == "blake3" and Digest.parse(str(d)) == d
    assert hash_bytes(b"x", "sha256") == Digest("sha256", hash_stream(io.BytesIO(b"x"), "sha256")[0].hex)
    assert hash_stream(io.BytesIO(b"abc" * 10_000_000)) == (hash_bytes(b"abc" * 10_000_000), 30_000_000)
    for bad in ["nope", "md5:00", "blake3:xyz", "blake3:" + "0" * 63]:
        with pytest.raises(FormatError):
            Digest.parse(bad)


def test_manifest_roundtrip_is_byte_stable() -> None:
    m = make("hello", metadata={"b": 1, "a": [1, 2]})
    data = m.to_bytes()
    back = Manifest.from_bytes(data)
    assert back == m
    assert back.to_bytes() == data
    assert back.digest() == m.digest()


def test_content_digest_ignores_description_and_metadata() -> None:
    assert make("x").content_digest == make("y", metadata={"k": 1}).content_digest
    assert make("x").digest() != make("y").digest()


def test_content_digest_includes_upstream() -> None:
    up = ArtifactVersionId("p", "raw", 0, D1)
    assert make().content_digest != make(upstream=(up,)).content_digest


def test_entries_must_be_sorted_and_unique() -> None:
    with pytest.raises(FormatError):
        Manifest("ds", "dataset", (Entry("b", D1, 1), Entry("a", D1, 1)))
    with pytest.raises(FormatError):
        Manifest("ds", "dataset", (Entry("a", D1, 1), Entry("a", D1, 1)))


def test_newer_format_is_refused() -> None:
    d = msgpack.unpackb(make().to_bytes())
    d["format"] = codec.READ_FORMAT + 1
    with pytest.raises(FormatError, match="upgrade"):
        Manifest.from_bytes(msgpack.packb(d))


@pytest.mark.parametrize("data", [b"", b"\xc1", msgpack.packb([1, 2]), msgpack.packb({"format": 1})])
def test_garbage_is_a_format_error(data: bytes) -> None:
    with pytest.raises(FormatError):
        Manifest.from_bytes(data)
    with pytest.raises(FormatError):
        VersionRecord.from_bytes(data, "v", at=("p", "ds", 0))
    with pytest.raises(FormatError):
        RunRecord.from_bytes(data, "r", at=("p", "r1"))


def test_plain_rejects_unstorable_values() -> None:
    assert codec.plain({"a": (1, 2.5, None, "s")}) == {"a": [1, 2.5, None, "s"]}
    with pytest.raises(InvalidInputError, match=r"metadata\.x"):
        codec.plain({"x": object()})
    with pytest.raises(InvalidInputError):
        codec.plain({1: "int key"})


def test_entries_out_of_order_or_below_a_file_are_refused_as_they_come() -> None:
    for paths, message in [
        (["b", "a"], "'a' comes too late"),
        (["a", "a"], "'a' comes too late"),
        (["a", "a.txt", "a/b"], "'a/b' is below 'a', which is a file"),
        (["x/a", "x/a-1", "x/a.d/c", "x/a/b"], "'x/a/b' is below 'x/a'"),
    ]:
        entries = tuple(Entry(p, D1, 3) for p in paths)
        with pytest.raises(FormatError, match=re.escape(message)):
            Manifest("ds", "dataset", entries)
        with pytest.raises(FormatError, match=re.escape(message)):  # a large one, cut as it comes
            Manifest("ds", "dataset").streamed(iter(entries), shards.SINGLE_MAX + 1, lambda _: None)
    assert Manifest("ds", "dataset", tuple(Entry(p, D1, 3) for p in ["a-b", "a.b", "a/b", "ab"])).count == 4


def test_a_streamed_manifest_must_have_the_entries_it_announced() -> None:
    entries = [Entry(f"f{i:05d}", D1, 3) for i in range(shards.SINGLE_MAX + 2)]
    with pytest.raises(FormatError, match="announced with 8,194 entries but has 8,193"):
        Manifest("ds", "dataset").streamed(iter(entries[:-1]), len(entries), lambda _: None)
    with pytest.raises(FormatError, match="announced with 3 entries but has 2"):
        Manifest("ds", "dataset").streamed(iter(entries[:2]), 3, lambda _: None)
    with pytest.raises(FormatError, match="streamed from an empty one"):
        make().streamed(iter(entries), len(entries), lambda _: None)
