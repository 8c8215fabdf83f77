"""S: content at scale. Versions of 10,000 to 1,000,000 small files on a local store.

For each size: ``cp -r`` of the folder (the baseline), log, re-log unchanged, open the version
(resolve it and count its files), ``get_path`` of one file, a download with a cold cache and
one with a warm cache, each a whole process in the warm state (nothing flushed between the
data being written and the run); plus the peak memory of each, and the bytes of manifest
(root and shards) the version is stored as.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .harness import Measurement, Results, Target, child, fresh

HERE = Path(__file__).resolve().parent
PY = sys.executable
FILE_BYTES = 64


def make_files(root: Path, n: int) -> None:
    """``n`` files of 64 bytes (each distinct) in folders of 1,000."""
    for i in range(n):
        d = root / f"d{i // 1000:04d}"
        if i % 1000 == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:07d}.bin").write_bytes(i.to_bytes(8, "little") * (FILE_BYTES // 8))


def files_of(work: Path, n: int) -> Path:
    """The folder of ``n`` files under ``work``, made once and kept for later runs."""
    src = work / f"scale-{n}"
    stamp = work / f"scale-{n}.ok"
    if not stamp.exists():
        fresh(src)
        print(f"generating {n:,} files ...", file=sys.stderr)
        make_files(src, n)
        stamp.write_text("")
    return src


def _ops(*args: str) -> list[str]:
    return [PY, str(HERE / "afs_ops.py"), *args]


def manifest_bytes(store: Path) -> int:
    return sum(p.stat().st_size for p in (store / "manifests").rglob("*") if p.is_file())


def run(results: Results, work: Path, sizes: list[int], rounds: int) -> list[Target]:
    targets = []
    for n in sizes:
        key = f"S{n:,}"
        src = files_of(work, n)
        results.workload(key, f"{n:,} files of {FILE_BYTES} B: each operation a whole process", "cp -r")
        relog = f"{key}r"
        results.workload(relog, f"{n:,} files of {FILE_BYTES} B: re-log unchanged, against the log", "log")
        env = {"ARTIFACTFS_CACHE_DIR": str(work / "scale-cache")}
        one = f"d{(n // 2) // 1000:04d}/f{n // 2:07d}.bin"
        for r in range(rounds):
            store, cache = fresh(work / "scale-store"), fresh(work / "scale-cache")

            def add(tool: str, m: Measurement) -> None:
                results.add(key, tool, m)

            steps = [
                ("cp -r", lambda: child(["cp", "-r", str(src), str(fresh(work / "scale-cp"))])),
                ("log", lambda: child(_ops("log", str(store), str(src)), env=env)),
                ("re-log", lambda: child(_ops("log", str(store), str(src)), env=env)),
                ("open version", lambda: child(_ops("open", str(store)), env=env)),
                (
                    "get_path of one file",
                    lambda: child(_ops("get", str(store), one, str(fresh(work / "s-one"))), env=env),
                ),
                (
                    "download, cold cache",
                    lambda: child(_ops("download", str(store), str(fresh(work / "s-dl1"))), env=env),
                ),
                (
                    "download, warm cache",
                    lambda: child(_ops("download", str(store), str(fresh(work / "s-dl2"))), env=env),
                ),
            ]
            for tool, step in steps:
                if tool == "download, cold cache":
                    fresh(cache)
                m = step()
                if tool == "log":
                    m.extra["manifest_mb"] = manifest_bytes(store) / 1e6
                add(tool, m)
                if tool in ("log", "re-log"):
                    results.add(relog, tool, m)
            for p in ("scale-cp", "s-one", "s-dl1", "s-dl2"):
                fresh(work / p)
            print(f"{key}: round {r + 1}/{rounds} done", file=sys.stderr)
        fresh(work / "scale-store")
        fresh(work / "scale-cache")
        if n >= 1_000_000:
            targets += [
                Target(f"{key}: log ≤ 1.5× cp -r", key, "log", "ratio", 1.5),
                Target(f"{key}: log peak memory ≤ 300 MiB", key, "log", "rss_mib", 300),
                Target(f"{key}: re-log ≤ 0.15× log", relog, "re-log", "ratio", 0.15),
                Target(f"{key}: warm download ≤ 0.3× cp -r", key, "download, warm cache", "ratio", 0.3),
            ]
    return targets
