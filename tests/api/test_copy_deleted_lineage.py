"""Copying with lineage when part of it was deleted: what exists is copied, the rest is named."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import artifactfs as afs
from artifactfs.cli import cli


def test_copy_with_lineage_when_a_run_input_was_deleted(store: afs.Store, tmp_path: Path) -> None:
    (tmp_path / "raw.csv").write_text("a,b\n")
    (tmp_path / "w.bin").write_bytes(b"weights")
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("raw", type="dataset")
        art.add_file(tmp_path / "raw.csv")
        run.log_artifact(art)
    with afs.init(project="p", store=store, job_type="train") as run:
        run.use_artifact("raw:v0")
        model = afs.Artifact("model", type="model")
        model.add_file(tmp_path / "w.bin")
        run.log_artifact(model)
    store.delete_version("p/raw:v0", force=True)
    dst = afs.open_store(str(tmp_path / "dst"))

    report = afs.copy("p/model:v0", store, dst, with_lineage=True)
    assert report.versions == ["p/model:v0"] and report.deleted == ["p/raw:v0"] and report.runs == 1
    assert dst.artifact("p/model:v0").logged_by() is not None
    graph = dst.lineage("p/model:v0")
    raw = graph.nodes["artifact:p/raw:v0"]
    assert raw.attrs["missing"] and "(not in this store)" in raw.label
    assert "p/raw:v0 (not in this store)" in graph.to_tree()
    assert dst.verify() == []

    out = CliRunner().invoke(cli, ["copy", store.url, str(tmp_path / "dst2"), "p/model:v0", "--with-lineage"], obj={})
    assert out.exit_code == 0 and "deleted in the source: p/raw:v0" in out.output
