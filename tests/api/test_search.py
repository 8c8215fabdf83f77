"""Search from the index in the store: the same answers before and after compaction, from
few requests, never a version that does not exist."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import search_index
from artifactfs.backend import open_backend
from artifactfs.cache import BlobCache
from artifactfs.errors import InvalidInputError
from artifactfs.search_index import INDEX_RECORDS, INDEX_SEGMENTS, IndexRow
from tests.procs import run_together
from tests.timeouts import HANG


@pytest.fixture(autouse=True)
def _no_compaction_by_writers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers compact after about one record in 256, at random: these tests compact when
    they say so (one that tests writers' compaction sets its own rate)."""
    monkeypatch.setattr(search_index, "COMPACT_EVERY", 2**60)


def models(store: afs.Store, tmp_path: Path, n: int = 6) -> list[afs.Artifact]:
    """n versions of p/model (accuracy 0.5 + i/10, every other one tagged) and one dataset."""
    out = []
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    with afs.init(project="p", store=store) as run:
        for i in range(n):
            (src / "w.bin").write_bytes(bytes([i]) * 10)
            art = afs.Artifact(
                "model", type="model", description=f"model {i}", metadata={"eval": {"acc": 0.5 + i / 10}, "i": i}
            )
            art.add_dir(str(src))
            out.append(run.log_artifact(art, tags=["reviewed"] if i % 2 else None))
        ds = afs.Artifact("data", type="dataset", metadata={"rows": 3})
        (src / "w.bin").write_bytes(b"data")
        ds.add_dir(str(src))
        run.log_artifact(ds)
    return out


def names(hits: list[afs.SearchHit]) -> list[str]:
    return [h.qualified_name for h in hits]


def test_search_answers_the_same_before_and_after_compaction(store: afs.Store, tmp_path: Path) -> None:
    models(store, tmp_path)

    def ask() -> list[list[str]]:
        return [
            names(store.search(type="model", where="metadata.eval.acc > 0.75")),
            names(store.search(tags=["reviewed"], order_by="metadata.i")),
            names(store.search(where="type == 'dataset' or metadata.i == 0")),
            names(store.search(where="description ~ 'MODEL 2'")),
            names(store.search(project="p", name="model", limit=2)),
            names(store.search(where="metadata.no.such.key > 1")),
        ]

    before = ask()
    assert before == [
        ["p/model:v5", "p/model:v4", "p/model:v3"],
        ["p/model:v1", "p/model:v3", "p/model:v5"],
        ["p/data:v0", "p/model:v0"],
        ["p/model:v2"],
        ["p/model:v5", "p/model:v4"],
        [],
    ]
    assert store.compact_index() is not None
    assert store.backend.listdir(INDEX_RECORDS) == []
    assert ask() == before
    hit = store.search(where="metadata.i == 3")[0]
    assert (hit.version, hit.type, hit.tags, hit.metadata["eval"]["acc"]) == ("v3", "model", ("reviewed",), 0.8)


def test_annotations_and_deletions_reach_the_index(store: afs.Store, tmp_path: Path) -> None:
    arts = models(store, tmp_path, n=3)
    arts[0].annotate(add_tags=["prod"], metadata={"eval": {"acc": 0.99}})
    assert names(store.search(tags=["prod"])) == ["p/model:v0"]
    assert names(store.search(where="metadata.eval.acc > 0.9")) == ["p/model:v0"]
    store.compact_index()
    arts[0].annotate(remove_tags=["prod"])  # after a compaction: a record newer than the segment
    assert store.search(tags=["prod"]) == []
    store.delete_version("p/model:v1", force=True)
    assert "p/model:v1" not in names(store.search(type="model"))
    store.compact_index()
    assert names(store.search(type="model")) == ["p/model:v2", "p/model:v0"]


def test_a_hostile_index_record_cannot_invent_a_version(store: afs.Store, tmp_path: Path) -> None:
    models(store, tmp_path, n=2)
    lie = IndexRow("p", "model", 7, 0, "model", "2030-01-01T00:00:00+00:00", "forged", {"eval": {"acc": 1.0}})
    store.backend.write(f"{INDEX_RECORDS}/99999999999999999999-000000000000.msgpack", lie.to_bytes())
    store.backend.write(f"{INDEX_RECORDS}/99999999999999999999-000000000001.msgpack", b"\xc1 garbage")
    wrong_type = IndexRow("p", "model", 1, 5, "dataset", "2030-01-01T00:00:00+00:00", None, {"eval": {"acc": 1.0}})
    store.backend.write(f"{INDEX_RECORDS}/99999999999999999999-000000000002.msgpack", wrong_type.to_bytes())
    assert names(store.search(where="metadata.eval.acc >= 1")) == []
    assert names(store.search(type="model")) == ["p/model:v0"]  # v1's newest row lies about it
    store.compact_index()
    assert names(store.search(where="metadata.eval.acc >= 1")) == []


def test_bad_queries_are_named(store: afs.Store, tmp_path: Path) -> None:
    models(store, tmp_path, n=1)
    with pytest.raises(InvalidInputError, match="where: no column 'colour'"):
        store.search(where="colour == 'red'")
    with pytest.raises(InvalidInputError, match=r"where: .*holds double values"):
        store.search(where="metadata.eval.acc > high")
    with pytest.raises(InvalidInputError, match=r"where: no column 'and' \(columns: project, name, version"):
        store.search(where="metadata.i == 1 and and")
    with pytest.raises(InvalidInputError, match="where: the filter ends where a closing parenthesis was expected"):
        store.search(where="(metadata.i == 1")
    with pytest.raises(InvalidInputError, match="order_by: no field 'size2'"):
        store.search(order_by="size2")
    with pytest.raises(InvalidInputError, match="created_after"):
        store.search(created_after="yesterday")
    assert names(store.search(created_after=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))) == ["p/data:v0", "p/model:v0"]
    with pytest.raises(InvalidInputError, match="no column '__import__'"):  # read as a name, never run
        store.search(where="__import__('os').system('true') == 1")


def test_a_store_without_an_index_is_indexed_by_reindex(store: afs.Store, tmp_path: Path) -> None:
    models(store, tmp_path, n=3)
    for key in store.backend.walk("index"):
        store.backend.delete(key)
    assert store.search() == []
    assert store.reindex() == 4
    assert names(store.search(tags=["reviewed"])) == ["p/model:v1"]
    assert len(store.backend.listdir(INDEX_SEGMENTS)) == 2  # one segment and its sidecar


ANNOTATE_AND_COMPACT = """
import sys
import artifactfs as afs
store = afs.open_store(sys.argv[1])
art = store.artifact("p/model:v" + sys.argv[2])
art.annotate(add_tags=["t" + sys.argv[2]])
store.compact_index()
"""


def test_concurrent_annotations_and_compactions_lose_nothing(shared_store_url: str, tmp_path: Path) -> None:
    store = afs.Store(open_backend(shared_store_url), cache=BlobCache(tmp_path / "cache"))
    models(store, tmp_path, n=8)
    run_together(ANNOTATE_AND_COMPACT, [[shared_store_url, str(i)] for i in range(8)])
    for i in range(8):
        assert names(store.search(tags=[f"t{i}"])) == [f"p/model:v{i}"]
    store.compact_index()
    for i in range(8):
        assert names(store.search(tags=[f"t{i}"])) == [f"p/model:v{i}"]


def test_writers_compact_now_and_then(store: afs.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_index, "COMPACT_EVERY", 1)  # every record
    models(store, tmp_path, n=2)
    assert store.backend.listdir(INDEX_RECORDS) == []
    assert names(store.search(type="model")) == ["p/model:v1", "p/model:v0"]


def test_a_segment_without_its_sidecar_is_neither_read_nor_removed(store: afs.Store, tmp_path: Path) -> None:
    """Another compaction's segment, written but not yet named by its sidecar: readers and
    compactions leave it alone, so that compaction's records are never lost."""
    models(store, tmp_path, n=2)
    store.compact_index()
    ghost = IndexRow("p", "model", 0, 7, "model", "2026-01-01T00:00:00+00:00", "ghost", {}, ("ghost",), False)
    data = search_index._segment_bytes([ghost])
    store.backend.create(f"{INDEX_SEGMENTS}/{'0' * 32}.parquet", data)
    assert names(store.search(tags=["ghost"])) == []
    store.artifact("p/model:v1").annotate(add_tags=["later"])
    assert store.compact_index() is not None
    assert f"{'0' * 32}.parquet" in store.backend.listdir(INDEX_SEGMENTS)
    assert names(store.search(tags=["later"])) == ["p/model:v1"] and names(store.search(tags=["ghost"])) == []


def test_a_compaction_removes_what_it_replaced_all_at_once(store: afs.Store, tmp_path: Path) -> None:
    """Deletes run concurrently: two of them must be in flight at once (a compaction deleting
    one record after another never gets past the first)."""
    import threading

    models(store, tmp_path, n=4)
    both = threading.Barrier(2)
    original = store.backend.delete
    calls = []

    def delete(key: str) -> None:
        calls.append(key)
        if len(calls) <= 2:
            both.wait(timeout=HANG)
        original(key)

    store.backend.delete = delete  # type: ignore[method-assign]
    assert store.compact_index() is not None
    assert store.backend.listdir(INDEX_RECORDS) == [] and len(calls) >= 5


def test_a_compaction_whose_clean_up_fails_has_still_compacted(store: afs.Store, tmp_path: Path) -> None:
    """Once the segment and its sidecar exist, deleting what they replace is best effort: a
    failed delete leaves an item readers skip, and searches are unchanged."""
    from artifactfs.errors import StoreError

    models(store, tmp_path, n=3)
    original = store.backend.delete

    def flaky(key: str) -> None:
        if key.startswith(INDEX_RECORDS):
            raise StoreError(f"deleting {key} failed: timeout")
        original(key)

    store.backend.delete = flaky  # type: ignore[method-assign]
    assert store.compact_index() is not None
    assert names(store.search(type="model")) == ["p/model:v2", "p/model:v1", "p/model:v0"]
    store.backend.delete = original  # type: ignore[method-assign]
    store.artifact("p/model:v0").annotate(add_tags=["x"])
    assert store.compact_index() is not None
    assert names(store.search(tags=["x"])) == ["p/model:v0"]
    assert names(store.search(type="model")) == ["p/model:v2", "p/model:v1", "p/model:v0"]
