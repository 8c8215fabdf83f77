"""A table too big for one machine's patience: written by a Dask cluster, queried in place.

    pip install -e ".[dask]"
    python examples/partitioned_tables.py [STORE] [--rows 10000000] [--workers 2]

Starts a LocalCluster of worker processes (on a real cluster, pass its scheduler address to
``distributed.Client`` instead: nothing else changes), generates the rows on the workers,
logs them as one partitioned table whose parts the workers write straight to the store, then
queries it in place with pyarrow (and DuckDB, if it is installed), reading only what the
queries need. Runs on the default store ($ARTIFACTFS_STORE, else the local default folder)
unless a store URL or path is given.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import pyarrow.dataset as pads

import artifactfs as afs

ROWS_PER_PART = 500_000


def make_part(index: int, rows: int) -> pd.DataFrame:
    """One partition of click events, generated on the worker that computes it."""
    rng = np.random.default_rng(index)
    start = index * ROWS_PER_PART
    return pd.DataFrame(
        {
            "event_id": np.arange(start, start + rows, dtype=np.int64),
            "user": rng.integers(0, 1_000_000, rows),
            "country": rng.choice(np.array(["de", "fr", "in", "jp", "us", "br"]), rows),
            "amount": rng.exponential(20.0, rows).round(2),
            "clicked": rng.random(rows) < 0.1,
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", nargs="?", default=None, help="store URL or path (default: the default store)")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    sizes = [min(ROWS_PER_PART, args.rows - i) for i in range(0, args.rows, ROWS_PER_PART)]
    with (
        LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        events = dd.from_map(make_part, range(len(sizes)), sizes)
        t = time.perf_counter()
        with afs.init(project="clickstream", job_type="etl", config={"rows": args.rows}, store=args.store) as run:
            art = afs.Artifact("events", type="dataset", description="Synthetic click events")
            art.add(afs.Table.from_dask(events), "events")
            logged = run.log_artifact(art)
        print(
            f"logged {logged.qualified_name}: {args.rows:,} rows in {len(sizes)} parts, {time.perf_counter() - t:.1f} s"
        )

        table = afs.open_store(args.store).artifact(logged.qualified_name).get_table("events")
        ds = table.to_dataset()
        t = time.perf_counter()
        late = ds.to_table(columns=["event_id", "amount"], filter=pads.field("event_id") >= args.rows - 1_000_000)
        print(f"last million events, 2 of 5 columns: {late.num_rows:,} rows, {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        clicked = ds.to_table(columns=["country", "amount"], filter=pads.field("clicked"))
        by_country = clicked.group_by("country").aggregate([("amount", "sum")]).sort_by("country")
        print(f"revenue of clicked events by country ({time.perf_counter() - t:.2f} s):")
        for country, amount in zip(
            by_country["country"].to_pylist(), by_country["amount_sum"].to_pylist(), strict=True
        ):
            print(f"  {country}  {amount:14,.2f}")
        print(f"mean amount on the workers: {table.to_dask(columns=['amount'])['amount'].mean().compute():.3f}")

    try:
        import duckdb
    except ImportError:
        return
    print(duckdb.sql("SELECT country, count(*) AS n FROM ds WHERE amount > 100 GROUP BY country ORDER BY n DESC"))


if __name__ == "__main__":
    main()
