"""Pack records read from a store are untrusted: indexes, forwarding records and the packed
field of manifests are refused, naming what is wrong, when malformed."""

from __future__ import annotations

from pathlib import Path

import pytest

from artifactfs import codec, layout
from artifactfs.backend import open_backend
from artifactfs.entry import Entry, Location
from artifactfs.errors import FormatError
from artifactfs.hashing import Digest, hash_bytes
from artifactfs.manifest import Manifest
from artifactfs.packing import PackSet, write_packs
from artifactfs.packs import PackIndex, PackMoved, decode_where

PACK = hash_bytes(b"pack")
A, B = hash_bytes(b"a"), hash_bytes(b"b")


def test_a_pack_index_round_trips_and_refuses_what_does_not_fit() -> None:
    index = PackIndex(PACK, 10, ((A, 0, 4), (B, 4, 6)))
    assert PackIndex.from_bytes(index.to_bytes(), "index", PACK) == index
    with pytest.raises(FormatError, match="names pack"):
        PackIndex.from_bytes(index.to_bytes(), "index", A)
    for blobs, message in [
        (((A, 0, 4), (B, 2, 6)), "increasing offsets"),
        (((A, 0, 4), (B, 4, 7)), "past the pack"),
    ]:
        with pytest.raises(FormatError, match=message):
            PackIndex.from_bytes(PackIndex(PACK, 10, blobs).to_bytes(), "index", PACK)


def test_a_forwarding_record_round_trips_and_names_its_pack() -> None:
    moved = PackMoved(PACK, {A: Location(B, 0, 4)})
    assert PackMoved.from_bytes(moved.to_bytes(), "moved", PACK) == moved
    with pytest.raises(FormatError, match="forwarding record of pack"):
        PackMoved.from_bytes(moved.to_bytes(), "moved", A)


@pytest.mark.parametrize(
    "packed",
    [[[str(PACK), [[2, 0]]]], [[str(PACK), [[0, 0], [0, 4]]]], [[str(PACK), [[0]]]], {"not": "a list"}],
)
def test_a_packed_field_must_name_each_entry_once(packed: object) -> None:
    with pytest.raises(FormatError):
        decode_where(packed, 2, "manifest")


def test_packed_entries_need_format_3() -> None:
    entries = (Entry("a", A, 4, where=Location(PACK, 0, 4)),)
    data = Manifest("ds", "dataset", entries).to_bytes()
    assert Manifest.from_bytes(data).entries[0].where == Location(PACK, 0, 4)
    d = codec.decode(data, "manifest")
    d["format"] = 1
    with pytest.raises(FormatError, match="need format 3"):
        Manifest.from_bytes(codec.encode(d))


def test_a_pack_set_finds_packed_blobs_and_forgets_collected_packs(tmp_path: Path) -> None:
    backend = open_backend(str(tmp_path / "store"))
    blobs = {hash_bytes(f"blob {i}".encode()): f"blob {i}".encode() for i in range(40)}
    first, second = dict(list(blobs.items())[:25]), dict(list(blobs.items())[25:])
    where = {}
    for part in (first, second):
        where.update(write_packs(backend, {d: len(b) for d, b in part.items()}, part.__getitem__, "blake3"))
    packs = PackSet(backend)
    absent = hash_bytes(b"not packed")
    asked = [*list(blobs)[::3], absent]
    assert packs.find("blake3", asked) == {d: where[d] for d in asked if d != absent}
    assert packs.locations("blake3") == where
    assert packs.find("sha256", list(blobs)) == {}
    gone = where[next(iter(second))].pack
    backend.delete(layout.pack_index(gone))  # as gc collects a pack: its index first
    assert packs.find("blake3", list(blobs)) == {d: w for d, w in where.items() if w.pack != gone}
    assert set(packs.find("blake3", list(first))) == set(first)


def test_a_pack_set_keeps_digests_that_end_in_zero_bytes(tmp_path: Path) -> None:
    backend = open_backend(str(tmp_path / "store"))
    zeros = Digest("blake3", "ab" * 30 + "0000")
    backend.write(layout.pack(PACK), b"x" * 10)
    backend.write(layout.pack_index(PACK), PackIndex(PACK, 10, ((A, 0, 4), (zeros, 4, 6))).to_bytes())
    packs = PackSet(backend)
    assert packs.find("blake3", [zeros, B]) == {zeros: Location(PACK, 4, 6)}
    assert set(packs.locations("blake3")) == {A, zeros}


@pytest.mark.parametrize("batch", [1, 2, 8])
def test_a_pack_set_reads_indexes_a_few_at_a_time_and_between_calls(
    tmp_path: Path, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Indexes are added to the table a batch at a time (and more as commits write them): the
    table stays one sorted whole that finds every blob in every pack."""
    from artifactfs import packing

    monkeypatch.setattr(packing, "INDEX_BATCH", batch)
    backend = open_backend(str(tmp_path / "store"))
    packs = PackSet(backend)
    where: dict[Digest, Location] = {}
    for round_ in range(2):
        for p in range(5):
            part = {hash_bytes(f"{round_}-{p}-{i}".encode()): f"{round_}-{p}-{i}".encode() for i in range(30)}
            where.update(write_packs(backend, {d: len(b) for d, b in part.items()}, part.__getitem__, "blake3"))
        assert packs.find("blake3", list(where)) == where
    assert packs.locations("blake3") == where
