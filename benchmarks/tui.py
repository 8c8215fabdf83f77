"""Terminal browser: time to first paint and memory, on a store with 1,000 versions and a
10,000,000-row table.

    python benchmarks/tui.py [--versions 1000] [--rows 10000000] [--store DIR]

The store is built once (in a child process, so its memory does not count); then the app runs
headless (Textual's run_test) in this process and the script reports, for each step, the
wall time until the screen shows its data, and the peak RSS of the process at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUILD = """
import sys
import numpy as np, pandas as pd
import artifactfs as afs
store, versions, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
st = afs.open_store(store)
with afs.init(project="bench", job_type="build", store=st) as run:
    for i in range(versions):
        a = afs.Artifact("many", type="dataset")
        with a.new_file("x.txt") as f:
            f.write(str(i))
        run.log_artifact(a)
    rng = np.random.default_rng(0)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    df = pd.DataFrame({
        "id": np.arange(rows, dtype="int64"),
        "value": rng.random(rows),
        "word": pd.array(words[rng.integers(0, 5, rows)], dtype="string[pyarrow]"),
    })
    t = afs.Artifact("big-table", type="dataset")
    t.add(afs.Table(dataframe=df), "rows")
    run.log_artifact(t)
"""


async def measure(store: str) -> list[tuple[str, float]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from textual.widgets import DataTable

    from tui.app import BrowserApp
    from tui.screens.lists import VersionsScreen
    from tui.screens.table import TableScreen
    from tui.screens.version import VersionScreen
    from tui.widgets.grid import ParquetGrid

    async def until(pilot: object, check: object, timeout: float = 120) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            await pilot.pause(0.01)  # type: ignore[attr-defined]
            try:
                if check():  # type: ignore[operator]
                    return
            except Exception:
                pass
        raise TimeoutError

    out = []
    t0 = time.perf_counter()
    app = BrowserApp(store)
    async with app.run_test(size=(140, 45)) as pilot:
        await until(pilot, lambda: app.screen.query_one("#list", DataTable).row_count > 0)
        out.append(("projects listed (start to first paint)", time.perf_counter() - t0))
        t = time.perf_counter()
        app.push_screen(VersionsScreen("bench", "many"))
        await until(
            pilot,
            lambda: (
                app.screen.query_one("#list", DataTable).row_count == 1000
                or app.screen.query_one("#list", DataTable).row_count >= 1000
            ),
        )
        out.append(("1,000 versions listed", time.perf_counter() - t))
        t = time.perf_counter()
        app.push_screen(VersionScreen("bench/big-table:v0"))
        await until(pilot, lambda: app.screen.query_one("#entries", DataTable).row_count == 1)
        out.append(("table version shown", time.perf_counter() - t))
        t = time.perf_counter()
        await pilot.press("enter")
        await until(
            pilot,
            lambda: isinstance(app.screen, TableScreen) and app.screen.query_one(ParquetGrid).source.row(0) is not None,
        )
        out.append(("10M-row table: first rows painted", time.perf_counter() - t))
        grid = app.screen.query_one(ParquetGrid)
        t = time.perf_counter()
        await pilot.press("end")
        await until(pilot, lambda: grid.source.row(grid.source.num_rows - 1) is not None)
        out.append(("jump to the last row", time.perf_counter() - t))
        t = time.perf_counter()
        for _ in range(40):
            await pilot.press("pageup")
        await until(pilot, lambda: grid.source.row(grid.cursor_row) is not None)
        out.append(("40 pages up", time.perf_counter() - t))
        out.append((f"row groups read: {grid.source.loads} of {len(grid.source.groups)}", 0.0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--versions", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--store", type=Path, default=None)
    args = ap.parse_args()
    store = args.store or Path(tempfile.mkdtemp(prefix="afs-tui-bench-")) / "store"
    if not store.exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", BUILD, str(store), str(args.versions), str(args.rows)], check=True)
        print(f"built the store in {time.perf_counter() - t:.1f} s: {store}")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results = asyncio.run(measure(str(store)))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{'step':44} {'seconds':>8}")
    for label, secs in results:
        print(f"{label:44} {secs:>8.3f}" if secs else label)
    print(f"\npeak RSS of the app process: {rss:.0f} MiB (before the app started: {rss0:.0f} MiB)")


if __name__ == "__main__":
    main()
