"""Versions, dedup, aliases and the read-side queries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import layout
from artifactfs.errors import ArtifactNotFoundError, ArtifactTypeError, ProjectNotFoundError, RunNotFoundError
from artifactfs.packing import PackSet


def log_dir(
    store: afs.Store, folder: Path, name: str = "ds", aliases: list[str] | None = None, **kw: object
) -> afs.Artifact:
    with afs.init(project="p", job_type="test", store=store) as run:
        art = afs.Artifact(name, type="dataset", **kw)  # type: ignore[arg-type]
        art.add_dir(folder)
        return run.log_artifact(art, aliases=aliases)


def blob_keys(store: afs.Store) -> set[str]:
    """Every blob the store holds: its single blobs' keys, and ``packed:<digest>`` for each
    blob in a pack."""
    fs, root = store.backend.fs, store.backend.root
    single = {p for p in fs.find(f"{root}/blobs")} if fs.exists(f"{root}/blobs") else set()
    return single | {f"packed:{d}" for d in PackSet(store.backend).locations("blake3")}


def test_versions_count_up_and_share_blobs(store: afs.Store, files: Path) -> None:
    v0 = log_dir(store, files)
    assert v0.version == "v0" and set(v0.entries) == {"a.txt", "b.bin", "sub/c.txt"}
    before = blob_keys(store)
    (files / "a.txt").write_text("changed\n")
    v1 = log_dir(store, files)
    assert v1.version == "v1"
    assert len(blob_keys(store) - before) == 1  # only the changed file was uploaded
    assert v1.entries["b.bin"].digest == v0.entries["b.bin"].digest
    assert [v.version for v in store.versions("p", "ds")] == ["v0", "v1"]


def test_identical_content_makes_no_new_version(store: afs.Store, files: Path) -> None:
    v0 = log_dir(store, files, description="first")
    again = log_dir(store, files, description="second", aliases=["best"])
    assert again.version == "v0" and again.digest == v0.digest
    assert again.aliases == ["latest", "best"]
    assert len(store.versions("p", "ds")) == 1


def test_aliases_move_between_versions(store: afs.Store, files: Path) -> None:
    log_dir(store, files, aliases=["best"])
    (files / "a.txt").write_text("v1\n")
    v1 = log_dir(store, files, aliases=["best", "production"])
    assert v1.aliases == ["latest", "best", "production"]
    assert store.artifact("p/ds:v0").aliases == []
    assert store.artifact("p/ds:best").version == "v1"
    store.set_alias("p/ds:v0", "best")
    assert store.artifact("p/ds:best").version == "v0"
    store.remove_alias("p/ds:v1", "production")
    with pytest.raises(ArtifactNotFoundError, match="production"):
        store.artifact("p/ds:production")


def test_resolving_unknown_things(store: afs.Store, files: Path) -> None:
    log_dir(store, files)
    with pytest.raises(ArtifactNotFoundError, match="v7"):
        store.artifact("p/ds:v7")
    with pytest.raises(ArtifactNotFoundError, match="nope"):
        store.artifact("p/nope:latest")
    with pytest.raises(ArtifactNotFoundError, match="best"):
        store.artifact("p/ds:best")
    with pytest.raises(ProjectNotFoundError):
        store.artifacts("elsewhere")
    with pytest.raises(RunNotFoundError):
        store.run("p", "no-such-run")
    with pytest.raises(ArtifactTypeError, match="dataset"):
        store.artifact("p/ds:v0", type="model")


def test_queries(store: afs.Store, files: Path) -> None:
    log_dir(store, files)
    log_dir(store, files, name="other")
    assert store.projects() == ["p"]
    summaries = store.artifacts("p")
    assert [(s.name, s.type, s.version_count) for s in summaries] == [("ds", "dataset", 1), ("other", "dataset", 1)]
    assert store.artifacts("p", type="model") == []
    runs = store.runs("p")
    assert len(runs) == 2 and all(r.status == "finished" and r.job_type == "test" for r in runs)
    assert store.run("p", runs[0].id) == runs[0]


def test_type_is_fixed_per_artifact(store: afs.Store, files: Path) -> None:
    log_dir(store, files)
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="model")
        art.add_file(files / "a.txt")
        with pytest.raises(ArtifactTypeError, match="dataset"):
            run.log_artifact(art)


def test_logged_artifact_fields(store: afs.Store, files: Path) -> None:
    art = log_dir(store, files, description="d", metadata={"rows": 3})
    assert art.name == "ds" and art.type == "dataset" and art.project == "p"
    assert art.description == "d" and art.metadata == {"rows": 3}
    assert art.size == sum(p.stat().st_size for p in files.rglob("*") if p.is_file())
    assert art.digest.startswith("blake3:") and art.created_at
    assert art.entries["sub/c.txt"].size == 6 and art.entries["sub/c.txt"].kind == "file"


def test_version_records_are_create_once(store: afs.Store, files: Path) -> None:
    log_dir(store, files)
    key = layout.version_record("p", "ds", 0)
    assert not store.backend.create(key, b"other")


def test_changing_one_file_of_1000_uploads_one_blob(store: afs.Store, tmp_path: Path) -> None:
    """1,000 files show what 10,000 would, with a tenth of the requests: many more files than
    requests in flight at once, and blob shards both listed (4 blobs or more) and asked for
    key by key."""
    folder = tmp_path / "many"
    for d in range(50):
        (folder / f"d{d:02d}").mkdir(parents=True)
        for i in range(20):
            (folder / f"d{d:02d}" / f"{i}.txt").write_text(f"{d}-{i}")
    log_dir(store, folder)
    before = blob_keys(store)
    assert len(before) == 1000
    assert len(store.backend.listdir("packs/blake3")) == 2  # the 1,000 small files went as one pack
    (folder / "d42" / "7.txt").write_text("changed")
    v1 = log_dir(store, folder)
    assert v1.version == "v1" and len(v1.entries) == 1000
    assert len(blob_keys(store) - before) == 1


def test_large_file_to_a_remote_store_is_not_read_into_memory(memory_store: afs.Store, tmp_path: Path) -> None:
    import tracemalloc

    from artifactfs.artifact import Staged
    from artifactfs.ingest import Known, Reused, _entry_for
    from artifactfs.transfer import Source

    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        for _ in range(48):
            f.write(os.urandom(1 << 20))
    sources: dict[object, str] = {}
    tracemalloc.start()
    try:
        known = Known(Reused("blake3"))
        entry = _entry_for(memory_store, "big.bin", Staged("file", local=str(big)), sources, known, [])  # type: ignore[arg-type]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert entry.size == 48 << 20 and sources == {entry.digest: Source(str(big), 48 << 20)}  # no bytes kept
    assert peak < 24 << 20  # hashed in blocks, not read whole (48 MiB)


def log_many(store: afs.Store, n: int) -> None:
    with afs.init(project="p", store=store) as run:
        for i in range(n):
            art = afs.Artifact("ckpt", type="model")
            with art.new_file("epoch.txt") as f:
                f.write(str(i))
            run.log_artifact(art)


def test_versions_come_in_pages_newest_first(store: afs.Store) -> None:
    log_many(store, 7)
    store.delete_version("p/ckpt:v4")
    assert [a.version for a in store.versions("p", "ckpt")] == ["v0", "v1", "v2", "v3", "v5", "v6"]
    first = store.versions("p", "ckpt", limit=3)
    assert [a.version for a in first] == ["v6", "v5", "v3"]  # the deleted v4 is skipped
    assert first[0].aliases == ["latest"]
    rest = store.versions("p", "ckpt", limit=3, before=first[-1].version_number)
    assert [a.version for a in rest] == ["v2", "v1", "v0"]
    assert store.versions("p", "ckpt", limit=3, before=0) == []
    assert [a.version for a in store.versions("p", "ckpt", before=2)] == ["v0", "v1"]


def test_a_page_reads_only_its_versions(store: afs.Store) -> None:
    log_many(store, 12)
    fresh = afs.Store(store.backend, cache=store.cache)
    asked: list[str] = []
    read, read_many = fresh.backend.read, fresh.backend.read_many

    def counting_read(key: str) -> bytes:
        asked.append(key)
        return read(key)

    def counting_read_many(keys: object) -> dict[str, bytes | None]:
        keys = list(keys)  # type: ignore[call-overload]
        asked.extend(keys)
        return read_many(keys)

    fresh.backend.read = counting_read  # type: ignore[method-assign]
    fresh.backend.read_many = counting_read_many  # type: ignore[method-assign]
    try:
        page = fresh.versions("p", "ckpt", limit=2)
    finally:
        del fresh.backend.read, fresh.backend.read_many
    assert [a.version for a in page] == ["v11", "v10"]
    # the page's records, and the one after the newest (absent: the end is found, not listed)
    assert sorted({k.rsplit("/", 1)[1] for k in asked if "/versions/" in k}) == [
        "0000000010.msgpack",
        "0000000011.msgpack",
        "0000000012.msgpack",
    ]
    # manifests already in memory are not read again; none but the page's are read
    assert {k for k in asked if k.startswith("manifests/")} <= {
        f"manifests/{a._record.manifest.algorithm}/{a._record.manifest.hex[:2]}/{a._record.manifest.hex}.msgpack"
        for a in page
    }


@pytest.mark.parametrize("bad", [{"limit": 0}, {"limit": -1}, {"limit": True}, {"limit": "5"}, {"before": -1}])
def test_bad_page_arguments_are_refused(store: afs.Store, bad: dict[str, object]) -> None:
    log_many(store, 1)
    with pytest.raises(afs.errors.InvalidInputError, match=next(iter(bad))):
        store.versions("p", "ckpt", **bad)  # type: ignore[arg-type]
