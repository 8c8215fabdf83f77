"""A store written by someone else: records that lie about their identity, oversized records
and unknown layouts are refused with FormatError, never believed, and verify names them."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import msgpack
import pytest

import artifactfs as afs
from artifactfs import codec, layout
from artifactfs.errors import FormatError, InvalidInputError, MisplacedRecordError
from artifactfs.records import MAX_BYTES, StoreDescriptor


def log(store: afs.Store, project: str, name: str, text: str, aliases: list[str] | None = None) -> afs.Artifact:
    with afs.init(project=project, store=store) as run:
        art = afs.Artifact(name, type="dataset")
        with art.new_file("data.txt") as f:
            f.write(text)
        return run.log_artifact(art, aliases=aliases or [])


def problems(store: afs.Store) -> set[tuple[str, str]]:
    return {(p.kind, p.key) for p in afs.open_store(store.url).verify()}


def fresh(store: afs.Store) -> afs.Store:
    """Another process's view of the store (no records cached)."""
    return afs.Store(afs.open_store(store.url).backend, cache=store.cache)


# ---------------------------------------------------------------------------- records vs keys
def test_version_record_that_names_another_artifact(store: afs.Store, tmp_path: Path) -> None:
    log(store, "a", "x", "x data")
    log(store, "b", "y", "y data")
    bad = layout.version_record("a", "x", 0)
    store.backend.write(bad, store.backend.read(layout.version_record("b", "y", 0)))
    reader = fresh(store)
    with pytest.raises(MisplacedRecordError, match=r"b', 'y', 0.*'a', 'x', 0"):
        reader.artifact("a/x:v0")
    with afs.init(project="a", store=reader) as run, pytest.raises(FormatError):
        run.use_artifact("x:latest")  # never recorded as an input under the wrong name
    other = afs.open_store(str(tmp_path / "dst"))
    with pytest.raises(FormatError):
        afs.copy("a/x:v0", fresh(store), other)
    assert other.backend.listdir("projects") == []  # nothing written into the destination
    assert ("misplaced", bad) in problems(store)


def test_version_record_pointing_at_another_artifacts_manifest(store: afs.Store) -> None:
    x = log(store, "a", "x", "x data")
    y = log(store, "a", "y", "y data")
    rec = codec.decode(store.backend.read(layout.version_record("a", "x", 0)), "r")
    rec["manifest"] = y.manifest_digest
    store.backend.write(layout.version_record("a", "x", 0), codec.encode(rec))
    with pytest.raises(MisplacedRecordError, match="manifest"):
        fresh(store).artifact("a/x:v0")
    assert ("misplaced", layout.version_record("a", "x", 0)) in problems(store)
    assert x.version == "v0"


def test_alias_event_filed_under_another_alias(store: afs.Store) -> None:
    log(store, "p", "ds", "v0", aliases=["prod"])
    log(store, "p", "ds", "v1", aliases=["best"])
    forged = layout.alias_event("p", "ds", "best", 1)
    store.backend.write(forged, store.backend.read(layout.alias_event("p", "ds", "prod", 0)))
    with pytest.raises(MisplacedRecordError, match="alias"):
        fresh(store).artifact("p/ds:best")
    assert ("misplaced", forged) in problems(store)


def test_tombstone_run_record_and_markers_that_disagree_with_their_keys(store: afs.Store) -> None:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("raw", type="dataset")
        with art.new_file("a.txt") as f:
            f.write("a")
        raw = run.log_artifact(art)
    with afs.init(project="p", store=store) as user:
        used = user.use_artifact("raw:v0")
        model = afs.Artifact("model", type="model")
        with model.new_file("w") as f:
            f.write("w")
        model.add_reference(used)
        user.log_artifact(model)
    log(store, "p", "other", "first")
    log(store, "p", "other", "second")
    store.delete_version("p/other:v1")
    b = store.backend
    stone = layout.tombstone("p", "other", 0)  # v0's key, v1's tombstone
    b.write(stone, b.read(layout.tombstone("p", "other", 1)))
    run_key = layout.run_record("p", "forged")
    b.write(run_key, b.read(layout.run_record("p", user.id)))
    (used_marker,) = b.walk(f"projects/p/used-by/raw/{0:010d}")
    b.write(layout.used_by_marker("p", "raw", 0, "someone-else"), b.read(used_marker))
    (ref_marker,) = b.walk(f"projects/p/referenced-by/raw/{0:010d}")
    other = layout.referenced_by_marker("p", "raw", 0, raw.version_id.manifest)
    b.write(other, b.read(ref_marker))
    found = problems(store)
    for key in (stone, run_key, layout.used_by_marker("p", "raw", 0, "someone-else"), other):
        assert ("misplaced", key) in found
    reader = fresh(store)
    with pytest.raises(MisplacedRecordError):
        reader.run("p", "forged")
    with pytest.raises(MisplacedRecordError):
        reader.artifact("p/raw:v0").used_by()
    with pytest.raises(MisplacedRecordError):
        reader.lineage("p/raw:v0", direction="downstream")


def test_claim_resolution_naming_a_version_of_other_content(store: afs.Store) -> None:
    v0 = log(store, "p", "ds", "zero")
    v1 = log(store, "p", "ds", "one")
    content = v0.version_id
    rec = fresh(store).catalog.version("p", "ds", 0)
    resolution = layout.claim("p", "ds", rec.content, 0)
    store.backend.write(resolution, codec.encode({"format": 1, "version": 1}))
    with pytest.raises(MisplacedRecordError, match="content"):
        log(fresh(store), "p", "ds", "zero")  # re-logging v0's content must not return v1
    assert ("misplaced", resolution) in problems(store)
    assert v1.version == "v1" and content.version == 0


# ---------------------------------------------------------------------------- size bounds
def test_a_huge_alias_event_is_refused_without_decoding_it(store: afs.Store) -> None:
    log(store, "p", "ds", "v0", aliases=["best"])
    bomb = msgpack.packb({"format": 1, "alias": "best", "version": 0, "pad": [[]] * 2_000_000})
    store.backend.write(layout.alias_event("p", "ds", "best", 1), bomb)
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match="more than the"):
            fresh(store).artifact("p/ds:best")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20  # the 2 MB event was never decoded (12 MB of it took ~700 MiB)


def test_a_run_record_of_millions_of_empty_lists_is_refused(store: afs.Store) -> None:
    with afs.init(project="p", store=store) as run:
        pass
    d = codec.decode(store.backend.read(layout.run_record("p", run.id)), "run")
    d["config"] = {"pad": [[]] * (MAX_BYTES["run"] - 1000)}  # within the byte bound, ~1 byte per list
    store.backend.write(layout.run_record("p", run.id), msgpack.packb(d))
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match="values"):
            fresh(store).run("p", run.id)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 150 << 20  # refused after a million values, not 16 million


def test_writers_refuse_records_readers_would_refuse(store: afs.Store) -> None:
    with pytest.raises(InvalidInputError, match="run"):
        afs.init(project="p", store=store, config={"blob": "x" * (MAX_BYTES["run"] + 1)})
    log(store, "p", "ds", "v0")
    with pytest.raises(InvalidInputError, match="reason"):
        store.delete_version("p/ds:v0", reason="x" * 5000)


# ---------------------------------------------------------------------------- descriptor
@pytest.mark.parametrize(
    "change",
    [{"blob_levels": 3}, {"blob_levels": "1"}, {"blob_levels": None}, {"algorithm": "md5"}, {"kind": "run"}],
    ids=["levels-3", "levels-text", "levels-null", "algorithm", "kind"],
)
def test_descriptor_values_this_release_does_not_know_are_refused(store: afs.Store, change: dict[str, object]) -> None:
    log(store, "p", "ds", "v0")
    d = codec.decode(store.backend.read(layout.DESCRIPTOR), "descriptor")
    d.update(change)
    store.backend.write(layout.DESCRIPTOR, msgpack.packb(d))
    before = set(store.backend.walk("blobs"))
    with pytest.raises(FormatError):
        afs.open_store(store.url).gc(dry_run=False)
    with pytest.raises(FormatError):
        afs.open_store(store.url)
    assert set(store.backend.walk("blobs")) == before  # no blob was collected by a guessed layout


def test_format_1_descriptor_keeps_two_levels_and_refuses_one(tmp_path: Path) -> None:
    d = StoreDescriptor.from_bytes(codec.encode({"format": 1, "kind": "store", "algorithm": "blake3"}), "d")
    assert d.blob_levels == 2
    with pytest.raises(FormatError):
        StoreDescriptor.from_bytes(
            codec.encode({"format": 1, "kind": "store", "algorithm": "blake3", "blob_levels": 1}), "d"
        )
