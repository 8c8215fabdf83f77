"""Versions, dedup, aliases and the read-side queries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import layout
from artifactfs.errors import ArtifactNotFoundError, ArtifactTypeError, ProjectNotFoundError, RunNotFoundError


def log_dir(
    store: afs.Store, folder: Path, name: str = "ds", aliases: list[str] | None = None, **kw: object
) -> afs.Artifact:
    with afs.init(project="p", job_type="test", store=store) as run:
        art = afs.Artifact(name, type="dataset", **kw)  # type: ignore[arg-type]
        art.add_dir(folder)
        return run.log_artifact(art, aliases=aliases)


def blob_keys(store: afs.Store) -> set[str]:
    fs, root = store.backend.fs, store.backend.root
    return {p for p in fs.find(f"{root}/blobs")} if fs.exists(f"{root}/blobs") else set()


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
    (folder / "d42" / "7.txt").write_text("changed")
    v1 = log_dir(store, folder)
    assert v1.version == "v1" and len(v1.entries) == 1000
    assert len(blob_keys(store) - before) == 1


def test_large_file_to_a_remote_store_is_not_read_into_memory(memory_store: afs.Store, tmp_path: Path) -> None:
    import tracemalloc

    from artifactfs.artifact import Staged
    from artifactfs.commit import Known, _entry_for
    from artifactfs.transfer import Source

    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        for _ in range(48):
            f.write(os.urandom(1 << 20))
    sources: dict[object, str] = {}
    tracemalloc.start()
    try:
        entry = _entry_for(memory_store, "big.bin", Staged("file", local=str(big)), sources, Known(), [])  # type: ignore[arg-type]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert entry.size == 48 << 20 and sources == {entry.digest: Source(str(big), 48 << 20)}  # no bytes kept
    assert peak < 24 << 20  # hashed in blocks, not read whole (48 MiB)
