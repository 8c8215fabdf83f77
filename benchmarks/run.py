"""Logging benchmarks: artifactfs against `cp` of the same data, run alternately.

    python benchmarks/run.py [--rounds 5] [--files 10000] [--big-mib 1024] [--workdir DIR]

Workloads (generated deterministically, nothing is downloaded):
  small   10,000 files of 4 KiB in 100 folders, logged to a fresh local store  vs  cp -r
  again   the same folder logged again, unchanged                             vs  the small log
  big     one large file, logged to a fresh local store                        vs  cp

Every measurement is a whole process (interpreter start and imports included). The machine is
noisy, so A and B run alternately and the table reports the median and min-max of the per-round
ratio A/B, never a lone absolute time. Dirty pages are flushed (sync) between runs, untimed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workloads import make_big, make_small

LOG = """
import sys, artifactfs as afs
store, path, kind = sys.argv[1:4]
with afs.init(project="bench", job_type="bench", store=store) as run:
    art = afs.Artifact("data", type="dataset")
    (art.add_dir if kind == "dir" else art.add_file)(path)
    run.log_artifact(art)
"""


def timed(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    subprocess.run(["sync"], check=True)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, "ARTIFACTFS_CACHE_DIR": str(WORK / "cache")})
    _, status, usage = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t
    if status != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    return dt, usage.ru_maxrss


def fresh(path: Path) -> Path:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temp folder)")
    args = ap.parse_args()

    global WORK
    WORK = args.workdir or Path(tempfile.mkdtemp(prefix="afs-bench-"))
    WORK.mkdir(parents=True, exist_ok=True)
    small, big, script = WORK / "small", WORK / "big.bin", WORK / "log.py"
    script.write_text(LOG)
    if not small.exists():
        make_small(small, args.files)
    if not big.exists() or big.stat().st_size != args.big_mib << 20:
        make_big(big, args.big_mib)
    py = sys.executable
    rows: dict[str, list[tuple[float, float, int]]] = {"small": [], "again": [], "big": []}
    for r in range(args.rounds):
        cp_small, _ = timed(["cp", "-r", str(small), str(fresh(WORK / "cp-small"))])
        afs_small, mem_small = timed([py, str(script), str(fresh(WORK / "store")), str(small), "dir"])
        afs_again, mem_again = timed([py, str(script), str(WORK / "store"), str(small), "dir"])
        fresh(WORK / "store")
        cp_big, _ = timed(["cp", str(big), str(fresh(WORK / "cp-big.bin"))])
        afs_big, mem_big = timed([py, str(script), str(fresh(WORK / "store")), str(big), "file"])
        fresh(WORK / "store")
        fresh(WORK / "cp-small")
        fresh(WORK / "cp-big.bin")
        rows["small"].append((afs_small, cp_small, mem_small))
        rows["again"].append((afs_again, afs_small, mem_again))
        rows["big"].append((afs_big, cp_big, mem_big))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    labels = {
        "small": (f"log {args.files:,} x 4 KiB files", "cp -r"),
        "again": ("log them again, unchanged", "first log"),
        "big": (f"log one {args.big_mib:,} MiB file", "cp"),
    }
    print(
        f"\n{'workload':34} {'baseline':>10} {'B median s':>11} {'A median s':>11} {'A/B median':>11} "
        f"{'A/B min-max':>13} {'A peak RSS':>11}"
    )
    for key, samples in rows.items():
        ratios = [a / b for a, b, _ in samples]
        label, base = labels[key]
        print(
            f"{label:34} {base:>10} {statistics.median(b for _, b, _ in samples):>11.2f} "
            f"{statistics.median(a for a, _, _ in samples):>11.2f} {statistics.median(ratios):>11.2f} "
            f"{min(ratios):>6.2f}-{max(ratios):<6.2f} {max(m for _, _, m in samples) / 1024:>8.0f} MiB"
        )
    print(f"\n{args.rounds} rounds, A = artifactfs, B = baseline; data in {WORK}")


WORK = Path()

if __name__ == "__main__":
    main()
