"""W6: transfers against the cloud emulators, artifactfs against plain fsspec put/get.

For each emulator (moto, fake-gcs-server, Azurite; started on 127.0.0.1) and each workload
(many small files, one large file), runs alternately, in this process:

  put   fs.put(local files, bucket)        vs  log_artifact (hash, plan, upload, commit)
  get   fs.get(bucket, local folder)       vs  download() with a cold cache (fetch, verify)

and records the time and the HTTP requests each side made (counted at the aiohttp client,
which s3fs, gcsfs and adlfs all use). Each side runs on an emulator emptied of the other's
data: Azurite slows down as it holds more blobs.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .harness import REPO, Measurement, Results, Target, fresh

_requests = 0


def count_requests() -> None:
    """Count every request the aiohttp client sends (s3fs, gcsfs and adlfs all use it)."""
    import aiohttp

    original = aiohttp.ClientSession._request
    if getattr(original, "_counting", False):
        return

    async def counting(self: aiohttp.ClientSession, *args: object, **kw: object) -> object:
        global _requests
        _requests += 1
        return await original(self, *args, **kw)

    counting._counting = True  # type: ignore[attr-defined]
    aiohttp.ClientSession._request = counting  # type: ignore[method-assign]


def requests_sent() -> int:
    """Requests sent since :func:`count_requests` (or the last :func:`measure`)."""
    return _requests


def measure(fn: Callable[[], object]) -> Measurement:
    global _requests
    _requests = 0
    t = time.perf_counter()
    fn()
    return Measurement(time.perf_counter() - t, extra={"requests": _requests})


def targets(backends: list[str]) -> list[Target]:
    out = []
    for b in backends:
        out += [
            Target(f"W6 {b} small put (packs) ≤ 0.1× fsspec", f"W6 {b} small put", "artifactfs", "ratio", 0.1),
            Target(f"W6 {b} small put ≤ 50 requests", f"W6 {b} small put", "artifactfs", "abs:requests", 50),
            Target(f"W6 {b} small get (packs) ≤ 0.2× fsspec", f"W6 {b} small get", "artifactfs", "ratio", 0.2),
            Target(f"W6 {b} small get ≤ 50 requests", f"W6 {b} small get", "artifactfs", "abs:requests", 50),
        ]
        for op in ("put", "get"):
            key = f"W6 {b} big {op}"
            out.append(Target(f"{key} ≤ 1.3× fsspec", key, "artifactfs", "ratio", 1.3))
    return out


def run(
    results: Results,
    work: Path,
    files: int,
    big_mib: int,
    rounds: int,
    backends: list[str],
    workloads: tuple[str, ...] = ("small", "big"),
) -> None:
    """Record W6 for every backend in ``backends`` into ``results``."""
    sys.path.insert(0, str(REPO))
    import artifactfs as afs
    from tests import emulators

    from .workloads import make_big, make_small

    count_requests()
    small, big = work / f"cloud-small-{files}", work / f"cloud-big-{big_mib}"
    if not small.exists():
        make_small(small, files)
    if not (big / "big.bin").exists() or (big / "big.bin").stat().st_size != big_mib << 20:
        fresh(big).mkdir()
        make_big(big / "big.bin", big_mib)
    os.environ["ARTIFACTFS_CACHE_DIR"] = str(work / "cloud-cache")

    for name in backends:
        emu = emulators.start(name, work / f"emu-{name}")
        os.environ["ARTIFACTFS_STORAGE_OPTIONS"] = json.dumps({emu.scheme: emu.options})
        try:
            for wname, folder, label in (
                ("small", small, f"{files:,} × 4 KiB files"),
                ("big", big, f"one {big_mib:,} MiB file"),
            ):
                if wname not in workloads:
                    continue
                paths = sorted(str(p) for p in folder.rglob("*") if p.is_file())
                rel = [os.path.relpath(p, folder) for p in paths]
                for op in ("put", "get"):
                    results.workload(f"W6 {name} {wname} {op}", f"{label}, {name} emulator", "fsspec")
                for r in range(rounds):
                    fs = emu.filesystem()

                    def plain() -> None:
                        root = emu.new_root().split("://", 1)[1]
                        results.add(
                            f"W6 {name} {wname} put",
                            "fsspec",
                            measure(lambda: fs.put(paths, [f"{root}/{x}" for x in rel])),
                        )
                        out = fresh(work / "plain-out")
                        results.add(
                            f"W6 {name} {wname} get",
                            "fsspec",
                            measure(lambda: fs.get([f"{root}/{x}" for x in rel], [str(out / x) for x in rel])),
                        )
                        fs.rm(root.split("/", 1)[0], recursive=True)
                        fresh(out)

                    def ours() -> None:
                        url = emu.new_root()
                        store = afs.open_store(url)
                        logged: list[afs.Artifact] = []

                        def log() -> None:
                            with afs.init(project="bench", store=store) as run:
                                art = afs.Artifact("data", type="dataset")
                                art.add_dir(folder)
                                logged.append(run.log_artifact(art))

                        results.add(f"W6 {name} {wname} put", "artifactfs", measure(log))
                        shutil.rmtree(store.cache.root, ignore_errors=True)
                        out = fresh(work / "afs-out")
                        results.add(f"W6 {name} {wname} get", "artifactfs", measure(lambda: logged[0].download(out)))
                        fs.rm(url.split("://", 1)[1].split("/", 1)[0], recursive=True)
                        fresh(out)

                    for fn in (plain, ours) if r % 2 == 0 else (ours, plain):
                        fn()
        finally:
            emu.stop()
