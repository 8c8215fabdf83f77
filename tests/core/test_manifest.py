from __future__ import annotations

import io

import msgpack
import pytest

from artifactfs import codec
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
