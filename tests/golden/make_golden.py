"""Writes tests/golden/store-v1: a tiny format-1 store that every later release must still read.

Run once when the format changes (then add a new golden store; never rewrite an old one).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import artifactfs as afs

root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "store-v1")
with afs.init(project="golden", job_type="make", config={"seed": 1}, store=str(root)) as run:
    art = afs.Artifact("ds", type="dataset", description="golden", metadata={"rows": 3})
    with art.new_file("hello.txt") as f:
        f.write("hello golden\n")
    art.add(afs.Table(dataframe=pd.DataFrame({"i": [1, 2, 3], "s": ["a", "b", None]})), "t")
    ds = run.log_artifact(art, aliases=["best"])
    model = afs.Artifact("model", type="model")
    with model.new_file("w.bin", mode="wb") as f:
        f.write(bytes(range(16)))
    model.add_reference(ds)
    run.log_artifact(model)
