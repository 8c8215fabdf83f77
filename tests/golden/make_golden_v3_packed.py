"""Writes tests/golden/store-v3-packed: a format-3 store whose version's small files are in a
pack, as an object store writes it (made on memory://, then laid out as its files lie in the
bucket). Every later release must read it.

Run once (never rewrite a golden store; add a new one when the format changes).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import artifactfs as afs
from artifactfs import layout

root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "store-v3-packed")
url = "memory://golden-packed"
with tempfile.TemporaryDirectory() as tmp, afs.init(project="golden", job_type="make", store=url) as run:
    src = Path(tmp)
    for i in range(40):
        (src / f"{i % 3}").mkdir(exist_ok=True)
        (src / f"{i % 3}" / f"{i:02d}.txt").write_text(f"golden {i}\n" * (i + 1))
    (src / "large.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB: too large to pack
    art = afs.Artifact("packed", type="dataset", description="packed")
    art.add_dir(src)
    logged = run.log_artifact(art, aliases=["best"])
backend = afs.open_store(url).backend
prefix = backend.path(layout.DESCRIPTOR).removesuffix(layout.DESCRIPTOR)
for key in backend.walk(""):
    where = root / backend.path(key).removeprefix(prefix)
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_bytes(backend.read(key))
print(root, logged.digest)
