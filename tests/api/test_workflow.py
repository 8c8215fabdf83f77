"""The seed workflow from the README, on every backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import artifactfs as afs


def test_seed_workflow(store: afs.Store, tmp_path: Path) -> None:
    raw = pd.DataFrame({"review": ["good", None, "bad", "fine"] * 50, "label": [1.0, 0.0, np.nan, 1.0] * 50})
    with afs.init(project="sentiment-analysis", job_type="data-ingestion", config={"frac": 0.8}, store=store) as run:
        processed = raw.dropna().sample(frac=0.8, random_state=0)
        art = afs.Artifact(
            "processed-dataset",
            type="dataset",
            description="Cleaned and sampled dataset",
            metadata={"rows": len(processed)},
        )
        art.add(afs.Table(dataframe=processed), name="processed_data.table")
        v0 = run.log_artifact(art)
    assert v0.qualified_name == "sentiment-analysis/processed-dataset:v0"
    assert v0.aliases == ["latest"]
    ingest_run = run.id

    weights = tmp_path / "model_weights.pth"
    weights.write_bytes(b"\x00weights\x01" * 100)
    with afs.init(project="sentiment-analysis", job_type="training", store=store) as run:
        ds = run.use_artifact("processed-dataset:latest", type="dataset")
        df = ds.get_table("processed_data.table").dataframe()
        pd.testing.assert_frame_equal(df, processed)
        model = afs.Artifact("sentiment-model", type="model")
        model.add_file(weights)
        model.add_reference(ds)
        m = run.log_artifact(model, aliases=["candidate"])
    assert m.qualified_name == "sentiment-analysis/sentiment-model:v0"
    assert m.aliases == ["latest", "candidate"]
    assert [a.qualified_name for a in m.references()] == [ds.qualified_name]
    assert m.logged_by() is not None and m.logged_by().id == run.id  # type: ignore[union-attr]
    assert [r.id for r in ds.used_by()] == [run.id]
    assert ds.logged_by().id == ingest_run  # type: ignore[union-attr]

    # A second ingestion with new content gives v1, and latest moves.
    with afs.init(project="sentiment-analysis", job_type="data-ingestion", store=store) as run:
        art = afs.Artifact("processed-dataset", type="dataset")
        art.add(afs.Table(dataframe=raw.dropna()), name="processed_data.table")
        v1 = run.log_artifact(art)
    assert v1.version == "v1"
    assert store.artifact("sentiment-analysis/processed-dataset:latest").version == "v1"
    assert store.artifact("sentiment-analysis/processed-dataset:v0").aliases == []
