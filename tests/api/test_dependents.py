"""Deleting a version others depend on needs force and names them; reproduce fails loudly,
listing what is missing, when any upstream version or blob is gone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import artifactfs as afs
from artifactfs import layout
from artifactfs.cli import cli
from artifactfs.errors import ArtifactStateError, IncompleteLineageError


def pipeline(store: afs.Store, tmp_path: Path) -> dict[str, str]:
    """raw -> (used by run 'prep') -> clean -> (referenced by) model."""
    (tmp_path / "raw.csv").write_text("a\n1\n")
    (tmp_path / "clean.csv").write_text("a\n1\n2\n")
    (tmp_path / "w.bin").write_bytes(b"weights")
    with afs.init(project="p", store=store, job_type="ingest") as run:
        art = afs.Artifact("raw", type="dataset")
        art.add_file(tmp_path / "raw.csv")
        raw = run.log_artifact(art)
    with afs.init(project="p", store=store, job_type="prep") as run:
        run.use_artifact("raw:v0")
        art = afs.Artifact("clean", type="dataset")
        art.add_file(tmp_path / "clean.csv")
        clean = run.log_artifact(art)
    with afs.init(project="p", store=store, job_type="train") as run:
        model = afs.Artifact("model", type="model")
        model.add_file(tmp_path / "w.bin")
        model.add_reference(run.use_artifact("clean:v0"))
        made = run.log_artifact(model)
    return {"raw": raw.qualified_name, "clean": clean.qualified_name, "model": made.qualified_name}


def test_deleting_what_others_depend_on_needs_force(store: afs.Store, tmp_path: Path) -> None:
    ids = pipeline(store, tmp_path)
    with pytest.raises(ArtifactStateError, match=r"p/clean:v0 \(logged by run .*which used it\)"):
        store.delete_version(ids["raw"])
    with pytest.raises(ArtifactStateError, match=r"p/model:v0 \(references it\)"):
        store.delete_version(ids["clean"])
    assert store.dependents(ids["model"]) == []
    assert store.apply_retention("p", "raw", keep_last=1) == []  # (the newest is kept anyway)
    done = CliRunner().invoke(cli, ["--store", store.url, "delete", "p/clean:latest"], obj={})
    assert done.exit_code == 1 and "--force" in done.output and "p/model:v0" in done.output
    done = CliRunner().invoke(cli, ["--store", store.url, "delete", "p/clean:latest", "--force"], obj={})
    assert done.exit_code == 0 and done.output.strip() == "deleted p/clean:v0"  # the version it resolved to


def test_reproduce_fails_when_an_upstream_version_was_deleted(store: afs.Store, tmp_path: Path) -> None:
    ids = pipeline(store, tmp_path)
    store.delete_version(ids["raw"], force=True)
    store.gc(grace=__import__("datetime").timedelta(0), dry_run=False)
    with pytest.raises(IncompleteLineageError, match=r"p/raw:v0 \(deleted\)"):
        afs.reproduce(ids["model"], tmp_path / "repro", store=store)
    doc = json.loads((tmp_path / "repro" / "lineage.json").read_text())
    assert not doc["complete"] and doc["missing"] == ["p/raw:v0 (deleted)"]
    assert (tmp_path / "repro" / "p" / "clean" / "v0" / "clean.csv").exists()  # what exists was fetched
    done = CliRunner().invoke(cli, ["--store", store.url, "reproduce", ids["model"], str(tmp_path / "r2")], obj={})
    assert done.exit_code == 1 and "p/raw:v0 (deleted)" in done.output


def test_reproduce_fails_when_a_blob_is_missing(store: afs.Store, tmp_path: Path) -> None:
    ids = pipeline(store, tmp_path)
    clean = store.artifact(ids["clean"])
    store.backend.delete(layout.blob(clean.entries["clean.csv"].digest))  # type: ignore[arg-type]
    with pytest.raises(IncompleteLineageError, match=r"p/clean:v0 \(.*missing"):
        afs.reproduce(ids["model"], tmp_path / "repro", store=store)


def test_reproduce_of_a_complete_lineage_says_so(store: afs.Store, tmp_path: Path) -> None:
    ids = pipeline(store, tmp_path)
    out = afs.reproduce(ids["model"], tmp_path / "repro", store=store)
    doc = json.loads((out / "lineage.json").read_text())
    assert doc["complete"] and doc["missing"] == [] and len(doc["versions"]) == 3
