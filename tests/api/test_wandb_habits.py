"""The names and behaviours W&B users type from habit: runs finished at exit, summary and
history, module-level use/log, artifact.get, Table(columns=, data=), a clean namespace."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import artifactfs as afs
from artifactfs.errors import ArtifactStateError, EntryNotFoundError, InvalidInputError
from tests.timeouts import HANG


def script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=HANG, cwd=tmp_path)


def only_run(store: str) -> afs.RunRecord:
    (run,) = afs.open_store(store).runs("p")
    return run


def test_a_run_never_finished_is_finished_at_exit(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    done = script(
        tmp_path,
        f"""
        import artifactfs as afs
        run = afs.init(project="p", store={store!r})
        run.log({{"loss": 0.5}})
        """,
    )
    assert done.returncode == 0, done.stderr
    record = only_run(store)
    assert record.status == "finished" and record.finished_at is not None
    assert record.summary == {"loss": 0.5}


def test_a_script_that_crashes_outside_a_with_block_marks_its_run_failed(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    crashed = script(
        tmp_path,
        f"""
        import artifactfs as afs
        run = afs.init(project="p", store={store!r})
        run.summary["stage"] = "loading"
        raise RuntimeError("the data loader broke")
        """,
    )
    assert crashed.returncode == 1 and "the data loader broke" in crashed.stderr  # the traceback still shows
    record = only_run(store)
    assert record.status == "failed" and "RuntimeError: the data loader broke" in (record.error or "")
    assert record.summary == {"stage": "loading"}


def test_summary_and_history_are_written_once_when_the_run_finishes(
    store: afs.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[str] = []
    save = type(store.catalog).save_run

    def counting(self: Any, record: afs.RunRecord) -> None:
        writes.append(record.status)
        save(self, record)

    monkeypatch.setattr(type(store.catalog), "save_run", counting)
    with afs.init(project="p", store=store) as run:
        for step in range(100):
            run.log({"loss": 1 / (step + 1), "epoch": step // 10})
        run.summary["accuracy"] = 0.91
        assert run.history[-1] == {"_step": 99, "loss": 0.01, "epoch": 9}
    assert writes == ["running", "finished"]  # started, finished: not one write a step
    record = store.run("p", run.id)
    assert record.summary == {"accuracy": 0.91, "loss": 0.01, "epoch": 9}
    assert len(record.history) == 100 and record.history[3] == {"_step": 3, "loss": 0.25, "epoch": 0}
    with pytest.raises(InvalidInputError, match="dict"):
        afs.init(project="p", store=store).log([1, 2])  # type: ignore[arg-type]


def test_a_long_history_is_thinned_not_refused(store: afs.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(afs.run, "HISTORY_MAX", 100)
    with afs.init(project="p", store=store) as run:
        for _ in range(1000):
            run.log({"x": 1})
    steps = [h["_step"] for h in store.run("p", run.id).history]
    assert len(steps) <= 100 and steps[-1] == 999 and steps == sorted(steps)
    assert steps[-50:] == list(range(950, 1000))  # the newest steps are kept whole


def test_module_level_use_and_log_act_on_the_open_run(store: afs.Store, tmp_path: Path) -> None:
    with pytest.raises(ArtifactStateError, match=r"afs\.init"):
        afs.use_artifact("p/ds:latest")
    (tmp_path / "f.txt").write_text("data")
    with afs.init(project="p", job_type="prep", store=store) as prep:
        art = afs.Artifact("ds", type="dataset")
        art.add_file(tmp_path / "f.txt")
        logged = afs.log_artifact(art)
    assert [o.qualified_name for o in store.run("p", prep.id).outputs] == [logged.qualified_name]
    with afs.init(project="p", job_type="train", store=store) as train:
        used = afs.use_artifact("ds:latest")
        assert used.qualified_name == "p/ds:v0"
    assert [i.qualified_name for i in store.run("p", train.id).inputs] == ["p/ds:v0"]
    with pytest.raises(ArtifactStateError, match="no run is active"):
        afs.log_artifact(afs.Artifact("other", type="dataset"))


def test_is_new_says_whether_a_version_was_made(store: afs.Store, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("same")
    made = []
    for _ in range(2):
        with afs.init(project="p", store=store) as run:
            art = afs.Artifact("ds", type="dataset")
            art.add_file(tmp_path / "f.txt")
            made.append(run.log_artifact(art))
    assert [m.is_new for m in made] == [True, False]
    assert made[1].version == "v0"
    assert store.artifact("p/ds:v0").is_new is False


def test_artifact_get_and_tables_made_the_wandb_way(store: afs.Store, tmp_path: Path) -> None:
    table = afs.Table(columns=["text", "label"], data=[["good", 1], ["bad", 0]])
    (tmp_path / "meta.json").write_text('{"a": 1}')
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add(table, name="reviews")
        art.add_file(tmp_path / "meta.json")
        logged = run.log_artifact(art)
    got = logged.get("reviews")
    assert isinstance(got, afs.Table)
    pd.testing.assert_frame_equal(got.get_dataframe(), pd.DataFrame({"text": ["good", "bad"], "label": [1, 0]}))
    path = logged.get("meta.json")
    assert isinstance(path, str) and Path(path).read_text() == '{"a": 1}'
    with pytest.raises(EntryNotFoundError):
        logged.get("nope")
    empty = afs.Table(columns=["a", "b"])
    assert empty.columns == ["a", "b"] and empty.num_rows == 0
    with pytest.raises(InvalidInputError, match="not both"):
        afs.Table(pd.DataFrame({"a": [1]}), data=[[1]])
    with pytest.raises(InvalidInputError, match="columns"):
        afs.Table(columns=["a"], data=[[1, 2, 3]])


def test_the_package_namespace_is_the_public_api() -> None:
    names = dir(afs)
    assert names == sorted(afs.__all__)
    assert "annotations" not in names and "artifact" not in names and "backend_local" not in names
    for name in ("init", "Artifact", "Table", "use_artifact", "log_artifact", "errors", "open_store"):
        assert name in names
