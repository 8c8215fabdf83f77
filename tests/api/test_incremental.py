"""Incremental versions: ``new_draft`` of a logged version, changed and logged again, sends
only what was added; every other entry, blob, pack and manifest shard is the base's own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import shards
from artifactfs.errors import ArtifactStateError, EntryNotFoundError, InvalidInputError
from tests.history import counting

FILES = 600


@pytest.fixture(autouse=True)
def _small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shards of ~32 entries past 100 entries: a sharded version of a few hundred files."""
    monkeypatch.setattr(shards, "SINGLE_MAX", 100)
    monkeypatch.setattr(shards, "CUT_MASK", 0x1F)


def tree(root: Path, n: int = FILES) -> Path:
    for i in range(n):
        p = root / f"d{i % 6}" / f"{i:04d}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"file {i}\n")
    return root


def log_base(store: afs.Store, tmp_path: Path) -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset", metadata={"rows": FILES})
        art.add_dir(tree(tmp_path / "src"))
        return run.log_artifact(art)


def test_a_draft_sends_only_what_was_added_and_keeps_lineage(store: afs.Store, tmp_path: Path) -> None:
    base = log_base(store, tmp_path)
    assert base.manifest.sharded
    new = tmp_path / "new"
    for i in range(3):
        (new / "more").mkdir(parents=True, exist_ok=True)
        (new / "more" / f"n{i}.txt").write_text(f"new {i}\n")
    (tmp_path / "fixed.txt").write_text("fixed\n")

    draft = base.new_draft()
    draft.add_dir(new / "more", "d9")
    draft.add_file(tmp_path / "fixed.txt", "d1/0001.txt")  # replaces the base's file at that path
    draft.remove("d0/0000.txt")
    draft.remove("d5")  # a folder: its 100 files
    draft.metadata = {"rows": FILES - 101 + 3}
    counted = counting(store.backend)
    with afs.init(project="p", store=store) as run:
        made = run.log_artifact(draft)
    asked = list(counted.keys)  # by the log alone

    assert made.version == "v1" and made.is_new and made.drafted_from == base.version_id
    paths = {e.path for e in made.files()}
    expected = {f"d{i % 6}/{i:04d}.txt" for i in range(FILES) if i % 6 != 5 and i != 0}
    assert paths == expected | {f"d9/n{i}.txt" for i in range(3)}
    assert made.file_count == FILES - 101 + 3
    out = Path(made.download(tmp_path / "out", include=["d1/0001.txt", "d9/*", "d2/0002.txt"]))
    assert (out / "d1" / "0001.txt").read_text() == "fixed\n" and (out / "d2" / "0002.txt").read_text() == "file 2\n"
    assert (out / "d9" / "n2.txt").read_text() == "new 2\n"

    # Only the 4 new files' blobs were looked for or sent, singly or in a pack.
    blob_keys = {k for k in asked if re.fullmatch(r"blobs/.+/[0-9a-f]{64}", k)}
    assert len(blob_keys) <= 4 and len([k for k in asked if k.startswith("packs/")]) <= 6
    # Unchanged runs of entries are the base's own shards, not even read; entries keep their
    # blobs and packs.
    old, now = {r.shard for r in base.manifest.shards}, {r.shard for r in made.manifest.shards}
    assert len(old & now) >= len(old) // 2
    shards_read = {k for k in asked if k.startswith("manifests/")} & {
        f"manifests/{d.algorithm}/{d.hex[:2]}/{d.hex}.msgpack" for d in old
    }
    assert len(shards_read) <= len(old - now) + 2, (len(shards_read), len(old - now))
    before = {e.path: e for e in base.manifest.iter_entries()}
    for e in made.manifest.iter_entries():
        if e.path in before and e.path != "d1/0001.txt":
            assert (e.digest, e.where) == (before[e.path].digest, before[e.path].where)

    edges = {(e.src, e.dst, e.kind) for e in store.lineage("p/ds:v1").edges}
    assert ("artifact:p/ds:v0", "artifact:p/ds:v1", "drafted") in edges
    assert store.verify(deep=True) == []


def test_a_draft_changing_nothing_is_the_same_version(store: afs.Store, tmp_path: Path) -> None:
    base = log_base(store, tmp_path)
    with afs.init(project="p", store=store) as run:
        again = run.log_artifact(base.new_draft())
    assert again.version == "v0" and not again.is_new


def test_an_incremental_artifact_adds_to_the_newest_version(store: afs.Store, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    with afs.init(project="p", store=store) as run:
        first = afs.Artifact("ds", type="dataset", incremental=True)
        first.add_file(tmp_path / "a.txt")
        v0 = run.log_artifact(first)
        more = afs.Artifact("ds", type="dataset", incremental=True)
        more.add_file(tmp_path / "b.txt")
        v1 = run.log_artifact(more)
    assert v0.drafted_from is None and sorted(e.path for e in v0.files()) == ["a.txt"]
    assert sorted(e.path for e in v1.files()) == ["a.txt", "b.txt"] and v1.drafted_from == v0.version_id


def test_bad_drafts_are_refused_clearly(store: afs.Store, tmp_path: Path) -> None:
    base = log_base(store, tmp_path)
    draft = base.new_draft()
    with pytest.raises(EntryNotFoundError, match=r"no entry 'nope\.txt'"):
        draft.remove("nope.txt")
    draft.remove("d0/0000.txt")
    with pytest.raises(EntryNotFoundError):
        draft.remove("d0/0000.txt")  # removed already
    (tmp_path / "x").write_text("x")
    draft.add_file(tmp_path / "x", "d1/0001.txt/below")  # below a file of the base
    with afs.init(project="p", store=store) as run, pytest.raises(InvalidInputError, match="a file of p/ds:v0"):
        run.log_artifact(draft)
    folder = base.new_draft()
    folder.add_file(tmp_path / "x", "d2")  # a folder of the base
    with afs.init(project="p", store=store) as run, pytest.raises(InvalidInputError, match="a folder of p/ds:v0"):
        run.log_artifact(folder)

    other = afs.open_store(tmp_path / "other")
    with afs.init(project="p", store=other) as run, pytest.raises(InvalidInputError, match="log it to that store"):
        run.log_artifact(base.new_draft())

    late = base.new_draft()
    with afs.init(project="p", store=store) as run:
        newer = afs.Artifact("ds", type="dataset")
        newer.add_file(tmp_path / "x")
        run.log_artifact(newer)
    store.delete_version("p/ds:v0")
    with afs.init(project="p", store=store) as run, pytest.raises(ArtifactStateError, match="was deleted"):
        run.log_artifact(late)


def test_a_copy_keeps_what_a_version_was_drafted_from(store: afs.Store, tmp_path: Path) -> None:
    base = log_base(store, tmp_path)
    draft = base.new_draft()
    draft.remove("d3")
    with afs.init(project="p", store=store) as run:
        run.log_artifact(draft)
    dst = afs.open_store(tmp_path / "dst")
    afs.copy("p/ds:v1", store, dst, with_lineage=True)
    copied = dst.artifact("p/ds:v1")
    assert copied.drafted_from == base.version_id and copied.file_count == FILES - 100
    edges = {(e.src, e.dst, e.kind) for e in dst.lineage("p/ds:v1").edges}
    assert ("artifact:p/ds:v0", "artifact:p/ds:v1", "drafted") in edges
    assert dst.verify(lineage=True) == []
