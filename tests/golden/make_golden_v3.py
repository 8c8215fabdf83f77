"""Writes tests/golden/store-v3-sharded: a format-3 store holding a sharded version (more than
8,192 entries, of one small file's bytes) beside a small one. Every later release must read it.

Run once (never rewrite a golden store; add a new one when the format changes).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import artifactfs as afs
from artifactfs import shards

root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "store-v3-sharded")
with tempfile.TemporaryDirectory() as tmp, afs.init(project="golden", job_type="make", store=str(root)) as run:
    src = Path(tmp)
    for i in range(shards.SINGLE_MAX + 200):
        folder = src / f"{i % 4}"
        folder.mkdir(exist_ok=True)
        (folder / f"{i:05d}").write_bytes(b"x")
    art = afs.Artifact("big", type="dataset", description="sharded", metadata={"files": shards.SINGLE_MAX + 200})
    art.add_dir(src)
    big = run.log_artifact(art, aliases=["best"])
    small = afs.Artifact("small", type="dataset")
    with small.new_file("hello.txt") as f:
        f.write("hello golden\n")
    small.add_reference(big)
    run.log_artifact(small)
print(root, big.digest)
