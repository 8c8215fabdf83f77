"""Runs logged offline into the local spool and published by ``sync`` (every backend): the
same versions and lineage as the pipeline run online, a second sync changes nothing, and an
interrupted sync goes on where it stopped."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import artifactfs as afs
import artifactfs.spool
from artifactfs.errors import OfflineWarning
from artifactfs.reach import forget_offline
from tests.conftest import snapshot


def ingest(url: str, root: Path) -> None:
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "rows.csv").write_text("a,1\nb,2\n")
    with afs.init(project="p", job_type="ingest", store=url) as run:
        raw = afs.Artifact("raw", type="dataset")
        raw.add_dir(data)
        run.log_artifact(raw)


def process_and_train(url: str, root: Path) -> list[str]:
    """Two steps: the second uses what the first logged. Returns the names printed."""
    names = []
    with afs.init(project="p", job_type="process", config={"upper": True}, store=url) as run:
        raw = Path(run.use_artifact("raw:latest").download(root / "raw"))
        out = afs.Artifact("processed", type="dataset")
        with out.new_file("rows.csv") as f:
            f.write((raw / "rows.csv").read_text().upper())
        names.append(run.log_artifact(out).qualified_name)
    with afs.init(project="p", job_type="train", store=url) as run:
        processed = run.use_artifact("processed:latest")
        names.append(processed.qualified_name)
        model = afs.Artifact("model", type="model")
        with model.new_file("weights.txt") as f:
            f.write(Path(processed.download(root / "processed"), "rows.csv").read_text()[::-1])
        model.add_reference(processed)
        names.append(run.log_artifact(model, aliases=["best"]).qualified_name)
        run.summary["accuracy"] = 0.9
    return names


def offline_steps(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """raw read here online once, then process and train offline."""
    afs.open_store(url).artifact("p/raw:latest").download(tmp_path / "seen")
    monkeypatch.setenv("ARTIFACTFS_OFFLINE", "1")
    with pytest.warns(OfflineWarning):
        process_and_train(url, tmp_path / "work")
    monkeypatch.delenv("ARTIFACTFS_OFFLINE")
    forget_offline()


def described(url: str) -> dict[str, Any]:
    """What a user compares: each artifact's versions (number, content, aliases), each run's
    inputs and outputs by job type, and the model's lineage."""
    store = afs.open_store(url)
    versions = {
        a.name: [(v.version, v.digest, sorted(v.aliases)) for v in store.versions("p", a.name)]
        for a in store.artifacts("p")
    }
    runs = {
        r.job_type: ([i.qualified_name for i in r.inputs], [o.qualified_name for o in r.outputs], r.summary)
        for r in store.runs("p")
    }
    graph = store.artifact("p/model:best").upstream()
    nodes = sorted(n.label if n.kind == "artifact" else f"run {n.attrs['job_type']}" for n in graph.nodes.values())
    return {"versions": versions, "runs": runs, "lineage": nodes}


def test_an_offline_pipeline_synced_later_matches_the_online_one(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reference: the same pipeline, all of it online, in a store of its own.
    reference = str(tmp_path / "reference-store")
    ingest(reference, tmp_path / "ref")
    process_and_train(reference, tmp_path / "ref")

    ingest(store_url, tmp_path / "work")
    afs.open_store(store_url).artifact("p/raw:latest").download(tmp_path / "seen")  # read here before
    monkeypatch.setenv("ARTIFACTFS_OFFLINE", "1")
    with pytest.warns(OfflineWarning, match="p/raw:latest is v0, as this machine last saw it"):
        names = process_and_train(store_url, tmp_path / "work")
    assert names[0].startswith("p/processed:spooled-") and names[1] == names[0]  # named by content, used so
    assert names[2].startswith("p/model:spooled-")
    monkeypatch.delenv("ARTIFACTFS_OFFLINE")
    forget_offline()

    report = afs.sync(store_url)
    assert report.versions == ["p/processed:v0", "p/model:v0"] and len(report.runs) == 2
    assert described(store_url) == described(reference)
    before = snapshot(afs.open_store(store_url))
    again = afs.sync(store_url)
    assert (again.runs, again.already) == ([], 2)
    assert snapshot(afs.open_store(store_url)) == before  # the second sync changed nothing


def test_an_interrupted_sync_goes_on_where_it_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = str(tmp_path / "store")
    ingest(url, tmp_path)
    offline_steps(url, tmp_path, monkeypatch)
    real = artifactfs.spool.copy_version
    calls = []

    def failing(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise afs.errors.StoreError("the network went away")
        return real(*args, **kw)

    monkeypatch.setattr(artifactfs.spool, "copy_version", failing)
    with pytest.raises(afs.errors.StoreError, match="network went away"):
        afs.sync(url)
    monkeypatch.setattr(artifactfs.spool, "copy_version", real)
    report = afs.sync(url)
    assert report.runs and report.already == 1  # the first run was in before the failure
    assert [v.version for v in afs.open_store(url).versions("p", "model")] == ["v0"]
    assert [r.job_type for r in afs.open_store(url).runs("p")] == ["ingest", "process", "train"]
    assert os.listdir(tmp_path / "cache" / "spool")  # the spool stays, marked synced


def example_pipeline(store: str) -> None:
    import importlib.util

    path = Path(__file__).parents[2] / "examples" / "sentiment_pipeline.py"
    spec = importlib.util.spec_from_file_location("sentiment_pipeline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(store)


def described_example(url: str) -> dict[str, Any]:
    store = afs.open_store(url)
    project = "sentiment-analysis"
    versions = {
        a.name: [(v.version, v.digest, sorted(v.aliases)) for v in store.versions(project, a.name)]
        for a in store.artifacts(project)
    }
    runs = sorted(
        (r.job_type, sorted(i.qualified_name for i in r.inputs), [o.qualified_name for o in r.outputs])
        for r in store.runs(project)
    )
    model = store.artifact(f"{project}/sentiment-model:candidate")
    return {"versions": versions, "runs": runs, "references": [a.qualified_name for a in model.references()]}


def test_the_example_pipeline_offline_then_synced_is_the_online_one(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = str(tmp_path / "reference-store")
    example_pipeline(reference)
    monkeypatch.setenv("ARTIFACTFS_OFFLINE", "1")
    example_pipeline(store_url)  # nothing is sent to the store
    printed = capsys.readouterr().out
    assert "logged sentiment-analysis/processed-dataset:spooled-" in printed
    monkeypatch.delenv("ARTIFACTFS_OFFLINE")
    forget_offline()
    assert afs.open_store(store_url).exists is False  # the store was not touched offline
    afs.sync(store_url)
    assert described_example(store_url) == described_example(reference)
    before = snapshot(afs.open_store(store_url))
    assert afs.sync(store_url).runs == []
    assert snapshot(afs.open_store(store_url)) == before


def test_spooled_versions_are_renamed_to_the_store_numbers_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "store")
    ingest(url, tmp_path)
    for i in range(2):  # processed v0 and v1 exist already: the spool's v0 will be v2
        with afs.init(project="p", job_type="process", store=url) as run:
            out = afs.Artifact("processed", type="dataset")
            with out.new_file("rows.csv") as f:
                f.write(f"older {i}\n")
            run.log_artifact(out)
    offline_steps(url, tmp_path, monkeypatch)
    assert afs.sync(url).versions == ["p/processed:v2", "p/model:v0"]
    store = afs.open_store(url)
    model = store.artifact("p/model:best")
    assert [a.qualified_name for a in model.references()] == ["p/processed:v2"]  # the manifest names v2
    train = next(r for r in store.runs("p") if r.job_type == "train")
    assert [i.qualified_name for i in train.inputs] == ["p/processed:v2"]
    labels = {n.label for n in model.upstream().nodes.values() if n.kind == "artifact"}
    assert labels == {"p/model:v0", "p/processed:v2", "p/raw:v0"}
    assert store.verify(lineage=True) == []
