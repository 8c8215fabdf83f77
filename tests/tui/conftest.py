"""Stores the browser's tests run against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import artifactfs as afs


@pytest.fixture
def pipeline_store(tmp_path: Path) -> str:
    """Run ingest logs raw (a table and a text file); run train uses raw and logs model, which
    references raw."""
    url = str(tmp_path / "store")
    with afs.init(project="demo", job_type="ingest", store=url) as run:
        raw = afs.Artifact("raw", type="dataset", description="raw rows")
        raw.add(afs.Table(dataframe=pd.DataFrame({"x": np.arange(50), "s": ["a"] * 49 + ["z" * 60]})), "rows")
        with raw.new_file("notes.md") as f:
            f.write("# notes\nsome text\n")
        run.log_artifact(raw)
    with afs.init(project="demo", job_type="train", config={"lr": 0.5}, store=url) as run:
        used = run.use_artifact("raw:latest")
        model = afs.Artifact("model", type="model")
        with model.new_file("w.bin", mode="wb") as f:
            f.write(bytes(range(64)))
        model.add_reference(used)
        run.log_artifact(model, aliases=["best"])
    return url
