"""Lineage on a large generated project: 1,000 runs, 5,000 versions, on a local store.

    python benchmarks/lineage.py [--runs 1000] [--per-run 5] [--store DIR]

Each run uses two earlier versions and logs five new ones (one references an input), so the
graph is deep and wide. Reports the time of upstream and downstream queries (cold: a fresh
Store, nothing cached in memory), with the number of nodes they return.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import artifactfs as afs


def build(store: afs.Store, runs: int, per_run: int) -> list[str]:
    rnd = random.Random(0)
    logged: list[afs.Artifact] = []
    for r in range(runs):
        with afs.init(project="big", job_type=f"step{r % 7}", config={"r": r}, store=store) as run:
            inputs = [run.use_artifact(rnd.choice(logged).qualified_name) for _ in range(2)] if logged else []
            for k in range(per_run):
                art = afs.Artifact(f"a{(r * per_run + k) % 50}", type="dataset")
                with art.new_file("x.txt") as f:
                    f.write(f"{r}-{k}")
                if inputs and k == 0:
                    art.add_reference(inputs[0])
                logged.append(run.log_artifact(art))
    return [a.qualified_name for a in logged]


def timed(fn: object, repeat: int = 5) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        g = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
        size = len(g.nodes)
    return statistics.median(times), size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--per-run", type=int, default=5)
    ap.add_argument("--store", type=Path, default=None)
    args = ap.parse_args()
    root = args.store or Path(tempfile.mkdtemp(prefix="afs-lineage-")) / "store"
    t = time.perf_counter()
    refs = build(afs.open_store(root), args.runs, args.per_run)
    print(f"built {args.runs:,} runs and {len(refs):,} versions in {time.perf_counter() - t:.1f} s at {root}")
    cases = {
        "upstream, newest version (whole history)": lambda: afs.open_store(root).lineage(refs[-1], "upstream"),
        "upstream, depth 2": lambda: afs.open_store(root).lineage(refs[-1], "upstream", depth=2),
        "downstream, a version from the middle": lambda: afs.open_store(root).lineage(
            refs[len(refs) // 2], "downstream"
        ),
        "downstream, depth 2, the first version": lambda: afs.open_store(root).lineage(refs[0], "downstream", depth=2),
    }
    print(f"\n{'query':44} {'median s':>9} {'nodes':>7}")
    for label, fn in cases.items():
        secs, nodes = timed(fn)
        print(f"{label:44} {secs:>9.3f} {nodes:>7,}")


if __name__ == "__main__":
    main()
