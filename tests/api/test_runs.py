"""Run records: status, config, inputs and outputs, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs.errors import ArtifactStateError, InvalidInputError


def test_run_record_lifecycle(store: afs.Store, files: Path) -> None:
    run = afs.init(project="p", job_type="train", config={"lr": 0.1, "layers": [2, 3]}, name="my-run", store=store)
    assert store.run("p", run.id).status == "running"
    art = afs.Artifact("ds", type="dataset")
    art.add_file(files / "a.txt")
    logged = run.log_artifact(art)
    used = run.use_artifact("ds:v0")
    run.finish()
    rec = store.run("p", run.id)
    assert rec.status == "finished" and rec.name == "my-run" and rec.job_type == "train"
    assert rec.config == {"lr": 0.1, "layers": [2, 3]}
    assert [o.qualified_name for o in rec.outputs] == [logged.qualified_name]
    assert [i.qualified_name for i in rec.inputs] == [used.qualified_name]
    assert rec.duration is not None and rec.duration >= 0
    run.finish()  # idempotent
    with pytest.raises(ArtifactStateError, match="finished"):
        run.log_artifact(afs.Artifact("x", type="dataset"))


def test_exception_marks_run_failed(store: afs.Store) -> None:
    with pytest.raises(RuntimeError), afs.init(project="p", job_type="train", store=store) as run:
        raise RuntimeError("boom")
    rec = store.run("p", run.id)
    assert rec.status == "failed" and rec.error is not None and "boom" in rec.error and rec.finished_at


def test_default_store_is_the_env_folder(tmp_path: Path) -> None:
    with afs.init(project="p") as run:
        pass
    assert run.store.url == str(tmp_path / "default-store")
    assert afs.open_store().run("p", run.id).status == "finished"


def test_store_given_as_url(tmp_path: Path) -> None:
    with afs.init(project="p", store=f"file://{tmp_path}/s") as run:
        pass
    assert afs.open_store(tmp_path / "s").run("p", run.id).status == "finished"


def test_use_artifact_from_another_project(store: afs.Store, files: Path) -> None:
    with afs.init(project="data", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_file(files / "a.txt")
        run.log_artifact(art)
    with afs.init(project="models", store=store) as run:
        ds = run.use_artifact("data/ds:latest", type="dataset")
    assert ds.qualified_name == "data/ds:v0"
    assert [r.id for r in ds.used_by()] == [run.id]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"project": ""},
        {"project": "../up"},
        {"project": "a/b"},
        {"project": "p", "job_type": "bad type"},
        {"project": "p", "config": [1, 2]},
        {"project": "p", "config": {"x": object()}},
        {"project": "p", "name": "a:b"},
    ],
)
def test_bad_init_arguments(store: afs.Store, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        afs.init(store=store, **kwargs)  # type: ignore[arg-type]
    assert store.backend.listdir("projects") == []


def test_embedded_default_store_is_a_user_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from artifactfs.settings import default_store_url

    monkeypatch.delenv("ARTIFACTFS_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_url() == str(tmp_path / "xdg" / "artifactfs" / "store")
    with afs.init(project="p") as run:
        pass
    assert (tmp_path / "xdg" / "artifactfs" / "store" / "projects" / "p" / "runs" / f"{run.id}.msgpack").is_file()


def test_concurrency_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert afs.open_store(tmp_path / "s").backend.concurrency == 64
    assert afs.open_store(tmp_path / "s", concurrency=4).backend.concurrency == 4
    monkeypatch.setenv("ARTIFACTFS_CONCURRENCY", "32")
    assert afs.open_store(tmp_path / "s").backend.concurrency == 32
    for bad in ("0", "many"):
        monkeypatch.setenv("ARTIFACTFS_CONCURRENCY", bad)
        with pytest.raises(InvalidInputError, match="ARTIFACTFS_CONCURRENCY"):
            afs.open_store(tmp_path / "s")
    monkeypatch.delenv("ARTIFACTFS_CONCURRENCY")
    with pytest.raises(InvalidInputError, match="concurrency"):
        afs.open_store(tmp_path / "s", concurrency=0)


def test_storage_options_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from artifactfs.settings import storage_options_for

    monkeypatch.setenv("ARTIFACTFS_STORAGE_OPTIONS", '{"gcs": {"token": "anon"}, "s3": {"anon": true}}')
    assert storage_options_for("gs://b/x") == {"token": "anon"}
    assert storage_options_for("s3://b/x") == {"anon": True}
    assert storage_options_for("az://b/x") == {}
    assert storage_options_for("/local/path") == {}
    monkeypatch.setenv("ARTIFACTFS_STORAGE_OPTIONS", "{not json")
    with pytest.raises(InvalidInputError, match="ARTIFACTFS_STORAGE_OPTIONS"):
        storage_options_for("gs://b/x")
