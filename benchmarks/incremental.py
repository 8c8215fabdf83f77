"""D: adding 1,000 files to a version of 100,000 (or 1,000,000) on a local store.

One store holds the base version (``add_dir`` of the files, logged once, untimed). Then, in
alternating rounds, three ways to make the next version with 1,000 new files of 64 B (a new
set each time, so every contender makes a new version):
  full re-log, warm: the whole folder plus the new files logged again on the machine that
      logged the base (its remembered digests spare re-reading unchanged files);
  full re-log, cold: the same from a machine that has the files but never logged them (an
      empty cache: every file is read and hashed);
  new_draft: ``base.new_draft()`` plus ``add_dir`` of the new files (no base file is read).
Each is timed in this process, with the keys it asks of the backend (the requests an object
store would get), the bytes the store grew by, and, for ``new_draft``, how many of the base's
manifest shards the new version shares.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from .harness import REPO, Results, Target, fresh
from .history import measure
from .scale import files_of

ADDED = 1000


def _du(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _added(work: Path, n: int, r: int, way: str) -> Path:
    d = fresh(work / f"inc-added-{way}")
    d.mkdir(parents=True)
    for i in range(ADDED):
        (d / f"n{i:04d}.bin").write_bytes(f"{n} {r} {way} {i}".encode().ljust(64, b"."))
    return d


def run(results: Results, work: Path, sizes: list[int], rounds: int) -> list[Target]:
    sys.path.insert(0, str(REPO))
    import artifactfs as afs
    from artifactfs.backend import open_backend
    from artifactfs.cache import BlobCache

    targets = []
    for n in sizes:
        key = f"D{n:,}"
        src = files_of(work, n)
        results.workload(key, f"{ADDED:,} files added to a version of {n:,}, local store", "full re-log, warm")
        root = fresh(work / "inc-store")
        os.environ["ARTIFACTFS_CACHE_DIR"] = str(fresh(work / "inc-cache"))
        store = afs.open_store(root)
        with afs.init(project="bench", store=store) as run_:
            art = afs.Artifact("data", type="dataset")
            art.add_dir(src)
            base = run_.log_artifact(art)
        print(f"{key}: base logged", file=sys.stderr)

        def relog(s: Any, added: Path) -> None:
            with afs.init(project="bench", store=s) as r:
                a = afs.Artifact("data", type="dataset")
                a.add_dir(src)
                a.add_dir(added, "new")
                r.log_artifact(a)

        def drafted(s: Any, added: Path, out: dict[str, Any]) -> None:
            draft = s.artifact(base.qualified_name).new_draft()
            draft.add_dir(added, "new")
            with afs.init(project="bench", store=s) as r:
                out["made"] = r.log_artifact(draft)

        for r in range(rounds):
            for way in ("full re-log, warm", "full re-log, cold", "new_draft"):
                added = _added(work, n, r, way.split(",")[-1].strip().replace(" ", "-"))
                with tempfile.TemporaryDirectory(dir=work) as cold:
                    s = afs.Store(open_backend(str(root)), cache=BlobCache(Path(cold))) if "cold" in way else store
                    before = _du(root)
                    out: dict[str, Any] = {}
                    fn = (lambda s=s, a=added, o=out: drafted(s, a, o)) if way == "new_draft" else (
                        lambda s=s, a=added: relog(s, a)
                    )  # fmt: skip
                    m = measure(fn, s, local=True)
                m.extra["mb_stored"] = (_du(root) - before) / 1e6
                if way == "new_draft":
                    old = {x.shard for x in base.manifest.shards}
                    new = {x.shard for x in out["made"].manifest.shards}
                    m.extra["shards_shared"] = len(old & new)
                    m.extra["shards_base"] = len(old)
                results.add(key, way, m)
            print(f"{key}: round {r + 1}/{rounds} done", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
        targets.append(Target(f"{key}: new_draft ≤ 0.1× full re-log (warm)", key, "new_draft", "ratio", 0.1))
    return targets
