"""Transfers against the cloud emulators: artifactfs vs plain fsspec put/get of the same data.

    python benchmarks/cloud.py [--rounds 2] [--files 10000] [--big-mib 1024] [--backends s3,gcs,azure]

For each emulator (moto, fake-gcs-server, Azurite; started here on 127.0.0.1) and each
workload (many small files, one large file), runs alternately:
  put   fs.put(local files, bucket)                vs  log_artifact (hash, plan, upload, commit)
  get   fs.get(bucket, local folder)               vs  download() with a cold cache (fetch, verify)
and reports the median and min-max of the time ratio artifactfs/fsspec, and the HTTP requests
each side made (counted at the aiohttp client, which s3fs, gcsfs and adlfs all use).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from workloads import make_big, make_small

from tests import emulators

REQUESTS = 0
_original_request = aiohttp.ClientSession._request


async def _counting_request(self: aiohttp.ClientSession, *args: object, **kw: object) -> object:
    global REQUESTS
    REQUESTS += 1
    return await _original_request(self, *args, **kw)


aiohttp.ClientSession._request = _counting_request  # type: ignore[method-assign]


def measure(fn: Callable[[], object]) -> tuple[float, int]:
    global REQUESTS
    REQUESTS = 0
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t, REQUESTS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--backends", default="s3,gcs,azure")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="afs-cloud-bench-"))
    small, big = work / "small", work / "big"
    make_small(small, args.files)
    big.mkdir()
    make_big(big / "big.bin", args.big_mib)
    small_files = sorted(str(p) for p in small.rglob("*") if p.is_file())

    import artifactfs as afs

    rows = []
    for name in args.backends.split(","):
        emu = emulators.start(name, work / f"emu-{name}")
        os.environ["ARTIFACTFS_STORAGE_OPTIONS"] = json.dumps({emu.scheme: emu.options})
        try:
            for label, folder, files in (
                (f"{args.files:,} x 4 KiB", small, small_files),
                (f"1 x {args.big_mib:,} MiB", big, [str(big / "big.bin")]),
            ):
                samples: dict[str, list[tuple[float, int, float, int]]] = {"put": [], "get": []}
                for _ in range(args.rounds):
                    fs = emu.filesystem()
                    plain_root = emu.new_root().split("://", 1)[1]
                    rel = [os.path.relpath(f, folder) for f in files]
                    b_put = measure(lambda: fs.put(files, [f"{plain_root}/{r}" for r in rel]))
                    out = work / "plain-out"
                    shutil.rmtree(out, ignore_errors=True)
                    b_get = measure(lambda: fs.get([f"{plain_root}/{r}" for r in rel], [str(out / r) for r in rel]))

                    url = emu.new_root()
                    store = afs.open_store(url)
                    holder: list[afs.Artifact] = []

                    def log() -> None:
                        with afs.init(project="bench", store=store) as run:
                            art = afs.Artifact("data", type="dataset")
                            art.add_dir(folder)
                            holder.append(run.log_artifact(art))

                    a_put = measure(log)
                    shutil.rmtree(store.cache.root, ignore_errors=True)
                    shutil.rmtree(work / "afs-out", ignore_errors=True)
                    a_get = measure(lambda: holder[0].download(work / "afs-out"))
                    samples["put"].append((a_put[0], a_put[1], b_put[0], b_put[1]))
                    samples["get"].append((a_get[0], a_get[1], b_get[0], b_get[1]))
                    # emulators keep everything in memory: empty both buckets between rounds
                    for root in (plain_root, url.split("://", 1)[1]):
                        fs.rm(root.split("/", 1)[0], recursive=True)
                for op, ss in samples.items():
                    ratios = [a / b for a, _, b, _ in ss]
                    rows.append(
                        (
                            name,
                            label,
                            op,
                            statistics.median(b for _, _, b, _ in ss),
                            ss[-1][3],
                            statistics.median(a for a, _, _, _ in ss),
                            ss[-1][1],
                            statistics.median(ratios),
                            min(ratios),
                            max(ratios),
                        )
                    )
                    print(rows[-1], file=sys.stderr)
        finally:
            emu.stop()
    print(
        f"\n{'backend':7} {'workload':18} {'op':4} {'fsspec s':>9} {'fsspec req':>10} {'afs s':>8} "
        f"{'afs req':>8} {'ratio':>6} {'min-max':>11}"
    )
    for r in rows:
        print(
            f"{r[0]:7} {r[1]:18} {r[2]:4} {r[3]:>9.2f} {r[4]:>10,} {r[5]:>8.2f} {r[6]:>8,} {r[7]:>6.2f} "
            f"{r[8]:>5.2f}-{r[9]:<5.2f}"
        )
    print(
        f"\n{args.rounds} rounds; artifactfs cache cold for every download; cache dir "
        f"{os.environ.get('ARTIFACTFS_CACHE_DIR', 'default')}"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("ARTIFACTFS_CACHE_DIR", tempfile.mkdtemp(prefix="afs-cloud-cache-"))
    main()
