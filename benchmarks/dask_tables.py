"""Partitioned tables: logging and scanning 10 million rows with 1 and 2 Dask workers.

    python -m benchmarks.dask_tables [--rows 10000000] [--rounds 3] [--workers 1,2]

For each worker count, a LocalCluster of worker processes generates the rows (20 partitions)
and, alternately:
  write  Table.from_dask + log_artifact to a fresh local store   vs  ddf.to_parquet (zstd)
  scan   to_dataset(): a filtered projection and a full column    vs  pyarrow.dataset over the
         aggregation, read in place (verified)                         files to_parquet wrote
and reports medians and the median (min-max) of the ratio artifactfs / plain.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.dataset as pads

import artifactfs as afs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from partitioned_tables import ROWS_PER_PART, make_part


def scan(ds: pads.Dataset, rows: int) -> float:
    t = time.perf_counter()
    late = ds.to_table(columns=["event_id", "amount"], filter=pads.field("event_id") >= rows - 1_000_000)
    total = ds.to_table(columns=["country", "amount"]).group_by("country").aggregate([("amount", "sum")])
    assert late.num_rows == min(rows, 1_000_000) and total.num_rows == 6
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()

    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    work = Path(tempfile.mkdtemp(prefix="afs-dask-bench-"))
    sizes = [min(ROWS_PER_PART, args.rows - i) for i in range(0, args.rows, ROWS_PER_PART)]
    rows_out = []
    for workers in [int(w) for w in args.workers.split(",")]:
        samples: dict[str, list[float]] = {"afs write": [], "plain write": [], "afs scan": [], "plain scan": []}
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as lc,
            Client(lc),
        ):
            events = dd.from_map(make_part, range(len(sizes)), sizes)
            for r in range(args.rounds):

                def ours() -> None:
                    store = work / "store"
                    shutil.rmtree(store, ignore_errors=True)
                    t = time.perf_counter()
                    with afs.init(project="bench", store=str(store)) as run:
                        art = afs.Artifact("events", type="dataset")
                        art.add(afs.Table.from_dask(events), "events")
                        logged = run.log_artifact(art)
                    samples["afs write"].append(time.perf_counter() - t)
                    samples["afs scan"].append(scan(logged.get_table("events").to_dataset(), args.rows))

                def plain() -> None:
                    out = work / "plain"
                    shutil.rmtree(out, ignore_errors=True)
                    t = time.perf_counter()
                    events.to_parquet(out, write_index=False, compression="zstd")
                    samples["plain write"].append(time.perf_counter() - t)
                    samples["plain scan"].append(scan(pads.dataset(out), args.rows))

                for fn in (ours, plain) if r % 2 == 0 else (plain, ours):
                    fn()
                print(
                    f"{workers} worker(s), round {r + 1}: { {k: round(v[-1], 2) for k, v in samples.items()} }",
                    file=sys.stderr,
                )
        for op in ("write", "scan"):
            a, b = samples[f"afs {op}"], samples[f"plain {op}"]
            ratios = [x / y for x, y in zip(a, b, strict=True)]
            rows_out.append((workers, op, statistics.median(b), statistics.median(a), ratios))
    plain_name = {"write": "ddf.to_parquet", "scan": "pyarrow.dataset"}
    print(f"\n{args.rows:,} rows in {len(sizes)} partitions, {args.rounds} rounds, local store\n")
    print("| workers | operation | plain | plain s | artifactfs s | ratio median (min–max) |")
    print("|---:|---|---|---:|---:|---|")
    for workers, op, b, a, ratios in rows_out:
        print(
            f"| {workers} | {op} | {plain_name[op]} | {b:.2f} | {a:.2f} | "
            f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f}) |"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
