"""Several writers, one version: parts added by processes on their own (run.upsert_artifact),
one version made by another (run.finish_artifact); nothing visible before."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import codec, layout
from artifactfs.errors import ArtifactNotFoundError, ArtifactStateError, InvalidInputError
from tests.procs import run_together

WRITER = """
import sys
from pathlib import Path
import artifactfs as afs
url, part, root = sys.argv[1], sys.argv[2], Path(sys.argv[3])
with afs.init(project="p", job_type="shard", store=url) as run:
    art = afs.Artifact("ds", type="dataset", distributed_id="build-7")
    art.add_dir(root / part, f"parts/{part}")
    run.upsert_artifact(art)
"""


def parts(root: Path, n: int) -> Path:
    for i in range(n):
        d = root / f"part{i}"
        d.mkdir(parents=True)
        for j in range(3):
            (d / f"{j}.txt").write_text(f"part {i} file {j}\\n")
    return root


def test_two_writers_and_a_finisher(shared_store_url: str, tmp_path: Path) -> None:
    root = parts(tmp_path / "src", 2)
    run_together(WRITER, [[shared_store_url, f"part{i}", str(root)] for i in range(2)])
    store = afs.open_store(shared_store_url)
    with pytest.raises(ArtifactNotFoundError):
        store.artifact("p/ds:latest")  # nothing visible before the finish
    (tmp_path / "README.md").write_text("two parts\\n")
    with afs.init(project="p", job_type="finish", store=shared_store_url) as run:
        last = afs.Artifact("ds", type="dataset")
        last.add_file(tmp_path / "README.md")
        made = run.finish_artifact(last, distributed_id="build-7", aliases=["complete"])
    assert made.qualified_name == "p/ds:v0" and made.aliases == ["latest", "complete"]
    assert sorted(e.path for e in made.files()) == [
        "README.md",
        *(f"parts/part{i}/{j}.txt" for i in range(2) for j in range(3)),
    ]
    out = Path(made.download(tmp_path / "out"))
    assert (out / "parts" / "part1" / "2.txt").read_text() == "part 1 file 2\\n"
    assert store.verify(deep=True) == []
    assert store.backend.walk(layout.parts_dir("p", "ds", "build-7")).keys() == {
        layout.part_finished("p", "ds", "build-7")
    }
    with afs.init(project="p", store=shared_store_url) as run, pytest.raises(ArtifactStateError, match="finished"):
        again = afs.Artifact("ds", type="dataset", distributed_id="build-7")
        again.add_file(tmp_path / "README.md")
        run.upsert_artifact(again)


def test_a_part_added_twice_is_one_part(store: afs.Store, tmp_path: Path) -> None:
    root = parts(tmp_path / "src", 1)
    with afs.init(project="p", store=store) as run:
        for _ in range(2):
            art = afs.Artifact("ds", type="dataset")
            art.add_dir(root / "part0", "p0")
            run.upsert_artifact(art, distributed_id="d1")
        made = run.finish_artifact(afs.Artifact("ds", type="dataset"), distributed_id="d1")
    assert made.file_count == 3


def test_finishing_while_a_part_is_written_names_the_writer(store: afs.Store, tmp_path: Path) -> None:
    root = parts(tmp_path / "src", 1)
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset", distributed_id="d2")
        art.add_dir(root / "part0")
        run.upsert_artifact(art)
        busy = {
            "format": 1,
            "kind": "part",
            "host": "worker-9",
            "pid": 4242,
            "time": dt.datetime.now(dt.UTC).timestamp(),
        }
        store.backend.create(layout.part_writing("p", "ds", "d2", "x" * 8), codec.encode(busy))
        with pytest.raises(ArtifactStateError, match="still being written by worker-9 pid 4242"):
            run.finish_artifact(afs.Artifact("ds", type="dataset", distributed_id="d2"))
        store.backend.delete(layout.part_writing("p", "ds", "d2", "x" * 8))
        made = run.finish_artifact(afs.Artifact("ds", type="dataset", distributed_id="d2"))
    assert made.file_count == 3


def test_clashing_parts_and_missing_ids_are_refused(store: afs.Store, tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("a")
    b.write_text("b")
    with afs.init(project="p", store=store) as run:
        with pytest.raises(InvalidInputError, match="distributed_id"):
            run.upsert_artifact(afs.Artifact("ds", type="dataset"))
        with pytest.raises(InvalidInputError, match="no part"):
            run.finish_artifact(afs.Artifact("ds", type="dataset", distributed_id="d3"))
        for f in (a, b):
            art = afs.Artifact("ds", type="dataset", distributed_id="d3")
            art.add_file(f, "same.txt")
            run.upsert_artifact(art)
        with pytest.raises(InvalidInputError, match=r"different files at 'same\.txt'"):
            run.finish_artifact(afs.Artifact("ds", type="dataset", distributed_id="d3"))


def test_gc_keeps_the_blobs_of_unfinished_parts(store: afs.Store, tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(os.urandom(200_000))
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset", distributed_id="d4")
        art.add_file(tmp_path / "big.bin")
        run.upsert_artifact(art)
    report = store.gc(grace=dt.timedelta(0), dry_run=False)
    assert report.count == 0
    with afs.init(project="p", store=store) as run:
        made = run.finish_artifact(afs.Artifact("ds", type="dataset", distributed_id="d4"))
    assert Path(made.download(tmp_path / "out")).joinpath("big.bin").read_bytes() == (tmp_path / "big.bin").read_bytes()


def test_a_finish_of_another_type_and_an_offline_run_are_refused(store: afs.Store, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset", distributed_id="d5")
        art.add_file(tmp_path / "a.txt")
        run.upsert_artifact(art)
        with pytest.raises(InvalidInputError, match="has type 'dataset', not 'model'"):
            run.finish_artifact(afs.Artifact("ds", type="model", distributed_id="d5"))
    with afs.init(project="p", store=store, mode="offline") as run, pytest.raises(ArtifactStateError, match="offline"):
        run.upsert_artifact(afs.Artifact("ds", type="dataset", distributed_id="d6"))
