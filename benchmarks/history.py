"""H1 and L40: history at scale, and what a user waits for on a bucket 40 ms away.

H1  For each backend (a local folder, and moto, fake-gcs-server and Azurite on 127.0.0.1):
    two stores of one artifact, one with 10 versions and one with 10,000 (1,000 events of the
    alias ``best``, 100 tombstones, the two newest versions deleted); on a fresh Store of each,
    resolving ``:latest``, ``:v0`` and ``:best``, reading the newest page of 50 versions (as
    ``artifactfs ls`` and the browser do; at the emulator's own speed) and logging a one-file
    version. The requests
    each operation sends (counted at the HTTP client; for the local folder, the keys asked of
    the backend) and its rounds (calls into the backend, each one round of concurrent
    requests: the sequential steps) are the figures; the cloud times are taken behind the
    latency proxy below, so they are what a bucket 40 ms away would cost.

L40 Behind a TCP proxy that delays every chunk the client sends by 40 ms (connection set-up
    included), each emulator: the example pipeline (init, log a 50,000-row table, use it, log
    a 1 MiB model referencing it, query) and every query the browser and the CLI make:
    projects, artifacts of a project, a page of 50 of 10,000 versions, one version, runs,
    lineage to depth 3. Times are in-process, per call.

The histories are made quickly: one version is logged, the other records are written as their
writers would have written them, and the last writers' steps (hints included) go through the
API. What readers see is the same as after 10,000 real commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import cloud
from .harness import REPO, Measurement, Results, Target

sys.path.insert(0, str(REPO))
from tests.history import grow

DELAY = 0.040
SIZES = {"10 versions": (10, 10, 2), "10,000 versions": (10_000, 1_000, 100)}


class LatencyProxy:
    """A TCP proxy on 127.0.0.1 that delays each chunk the client sends by ``delay`` seconds
    (connecting upstream too), keeping their order; replies pass at once."""

    def __init__(self, target: tuple[str, int], delay: float) -> None:
        self.target, self.delay = target, delay
        self.tasks: set[asyncio.Task[None]] = set()
        self.options: dict[str, str] = {}
        self.loop = asyncio.new_event_loop()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait()

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        # Connections the client leaves open are cut when the proxy closes: not worth a report.
        self.loop.set_exception_handler(lambda loop, context: None)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        ready.set()
        with contextlib.suppress(Exception):
            self.loop.run_forever()
        server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        if me is not None:  # held until done: a task only the loop refers to may be collected
            self.tasks.add(me)
            me.add_done_callback(self.tasks.discard)
        await asyncio.sleep(self.delay)
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def receive() -> None:
            while data := await reader.read(1 << 16):
                queue.put_nowait((time.monotonic() + self.delay, data))
            queue.put_nowait((time.monotonic() + self.delay, b""))

        async def send() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    with contextlib.suppress(OSError):
                        up_w.write_eof()
                    return
                up_w.write(data)
                await up_w.drain()

        async def reply() -> None:
            while data := await up_r.read(1 << 16):
                writer.write(data)
                await writer.drain()
            writer.close()

        with contextlib.suppress(OSError, ConnectionError, asyncio.CancelledError):  # cancelled: closing
            await asyncio.gather(receive(), send(), reply())
        up_w.close()
        writer.close()

    def close(self) -> None:
        async def shutdown() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop)
        self.thread.join(5)


def proxied(options: dict[str, Any], port: int, proxy: int) -> dict[str, Any]:
    """``options`` with the emulator's port replaced by the proxy's, wherever it appears."""
    return json.loads(json.dumps(options).replace(f"127.0.0.1:{port}", f"127.0.0.1:{proxy}"))


# ---------------------------------------------------------------------------------- counting
def measure(fn: Callable[[], object], store: Any, *, local: bool) -> Measurement:
    """Time ``fn`` and count what it asks of ``store``'s backend: requests (at the HTTP
    client; for a local folder, the keys asked of the backend) and rounds (calls)."""
    from tests.history import counting

    counted = counting(store.backend)
    before = cloud.requests_sent()
    t = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t
    requests = len(counted.keys) if local else cloud.requests_sent() - before
    return Measurement(seconds, extra={"requests": requests, "rounds": counted.rounds})


def fresh_store(afs: Any, url: str) -> Any:
    """A Store as a new process opens it (descriptor read; nothing kept in memory)."""
    from artifactfs.catalog_manifests import forget_kept

    forget_kept()
    return afs.open_store(url)


@contextlib.contextmanager
def backend_env(name: str, work: Path) -> Iterator[tuple[Callable[[], str], Any]]:
    """(a function making a new store URL behind the proxy, the proxy or None) for ``name``."""
    if name == "local":
        n = iter(range(10**6))
        yield (lambda: str(work / f"h1-local-{os.getpid()}-{next(n)}")), None
        return
    from tests import emulators

    emu = emulators.start(name, work / f"h1-emu-{name}")
    port = int(emu.endpoint.split(":")[2].split("/")[0])
    proxy = LatencyProxy(("127.0.0.1", port), DELAY)
    proxy.options = {  # what stores opened by URL use: through the proxy, or straight
        "proxied": json.dumps({emu.scheme: proxied(emu.options, port, proxy.port)}),
        "direct": json.dumps({emu.scheme: emu.options}),
    }
    os.environ["ARTIFACTFS_STORAGE_OPTIONS"] = proxy.options["proxied"]
    try:
        yield emu.new_root, proxy
    finally:
        proxy.close()
        emu.stop()


def h1(results: Results, afs: Any, name: str, new_root: Callable[[], str], proxy: Any, work: Path) -> None:
    local = proxy is None
    where = "local folder" if local else f"{name} emulator, 40 ms per request"
    urls = {}
    saved = proxy.delay if proxy else 0.0
    if proxy:  # the histories are made at full speed, straight to the emulator
        os.environ["ARTIFACTFS_STORAGE_OPTIONS"] = proxy.options["direct"]
    for label, size in SIZES.items():
        urls[label] = new_root()
        grow(urls[label], work / "h1-cache", size, work / "h1-weights.bin")
    if proxy:
        os.environ["ARTIFACTFS_STORAGE_OPTIONS"] = proxy.options["proxied"]
    ops = {"latest": ":latest", "v0": ":v0", "best": ":best"}
    for op, ref in ops.items():
        results.workload(f"H1 {name} {op}", f"resolve `ckpt{ref}` on a fresh Store, {where}", "10 versions")
    results.workload(f"H1 {name} log", f"log_artifact of one 8-byte file, {where}", "10 versions")
    # Every resolve first: a commit would end the deleted tail the histories end with.
    for r in range(2):
        for label, url in urls.items() if r % 2 == 0 else reversed(urls.items()):
            for op, ref in ops.items():
                store = fresh_store(afs, url)
                done = measure(lambda s=store, x=ref: s.artifact(f"p/ckpt{x}"), store, local=local)
                results.add(f"H1 {name} {op}", label, done)
    # A page of 50 versions as `artifactfs ls` and the browser read it (the runs that logged
    # them too), on the emulator itself: the proxy is set aside for this one.
    results.workload(f"H1 {name} page", "the newest 50 versions and their runs, no proxy", "10 versions")
    if proxy:
        proxy.delay = 0.0
    for r in range(2):
        for label, url in urls.items() if r % 2 == 0 else reversed(urls.items()):
            store = fresh_store(afs, url)

            def page(s: Any = store) -> None:
                s.logging_runs(s.versions("p", "ckpt", limit=50))

            results.add(f"H1 {name} page", label, measure(page, store, local=local))
    if proxy:
        proxy.delay = saved
    for r in range(2):
        for label, url in urls.items() if r % 2 == 0 else reversed(urls.items()):
            store = fresh_store(afs, url)
            source = work / "h1-new.bin"
            source.write_bytes(f"r{r} {label}".encode()[:8])  # new content each round: a new version
            with afs.init(project="p", store=store) as run:
                art = afs.Artifact("ckpt", type="model")
                art.add_file(str(source))
                results.add(f"H1 {name} log", label, measure(lambda: run.log_artifact(art), store, local=local))
    if proxy:
        l40(results, afs, name, new_root, urls[list(SIZES)[-1]], work)


def l40(results: Results, afs: Any, name: str, new_root: Callable[[], str], history: str, work: Path) -> None:
    import numpy as np
    import pandas as pd

    url = new_root()
    df = pd.DataFrame({"a": np.arange(50_000), "b": np.random.default_rng(0).random(50_000)})
    model = work / "l40-model.bin"
    model.write_bytes(os.urandom(1 << 20))
    steps: dict[str, Measurement] = {}
    store = afs.open_store(url)
    big = afs.open_store(history)

    def timed(step: str, fn: Callable[[], Any], on: Any = store) -> Any:
        out: list[Any] = []
        steps[step] = measure(lambda: out.append(fn()), on, local=False)
        return out[0]

    run = timed("init", lambda: afs.init(project="demo", job_type="prepare", store=store))
    ds = afs.Artifact("dataset", type="dataset")
    ds.add(afs.Table(dataframe=df), "rows")
    timed("log the dataset (50,000-row table)", lambda: run.log_artifact(ds))
    run.finish()
    train = afs.init(project="demo", job_type="train", store=store)
    used = timed("use_artifact", lambda: train.use_artifact("dataset:latest"))
    m = afs.Artifact("model", type="model")
    m.add_file(str(model))
    m.add_reference(used)
    timed("log the model (1 MiB, a reference)", lambda: train.log_artifact(m))
    train.finish()
    timed("artifacts(project)", lambda: store.artifacts("demo"))
    timed("lineage (depth 3)", lambda: store.lineage("demo/model:latest", depth=3))
    timed("projects()", lambda: store.projects())
    timed("runs(project)", lambda: store.runs("demo"))
    versions, _, stones = list(SIZES.values())[-1]
    step = max(1, versions // stones)
    middle = versions // 2 // step * step  # tombstones are at 1, 1 + step, ...: this one is live
    timed("a page of 50 versions", lambda: big.versions("p", "ckpt", limit=50), big)
    other = afs.open_store(history)
    timed("one version", lambda: other.artifact(f"p/ckpt:v{middle}"), other)
    for step, m_ in steps.items():
        key = f"L40 {name} {step}"
        results.workload(key, f"{step}, {name} emulator behind the 40 ms proxy", "artifactfs")
        results.add(key, "artifactfs", m_)


def targets(backends: list[str], big: str) -> list[Target]:
    """The issue's goals, for each backend, at the longer history ``big``."""
    out = []
    for b in ["local", *backends]:
        for op in ("latest", "v0", "best"):
            key = f"H1 {b} {op}"
            out.append(Target(f"H1 {b} `{op}` ≤ 6 requests at {big}", key, big, "abs:requests", 6))
            out.append(Target(f"H1 {b} `{op}` ≤ 3 rounds at {big}", key, big, "abs:rounds", 3))
        # 12 before the search index, whose record a commit now also writes
        out.append(Target(f"H1 {b} log ≤ 13 requests at {big}", f"H1 {b} log", big, "abs:requests", 13))
        out.append(Target(f"H1 {b} first 50 of {big} ≤ 0.5 s (no proxy)", f"H1 {b} page", big, "seconds", 0.5))
    for b in backends:
        out.append(Target(f"L40 {b} use_artifact ≤ 0.2 s", f"L40 {b} use_artifact", "artifactfs", "seconds", 0.2))
        out.append(Target(f"L40 {b} one-file commit ≤ 0.5 s", f"H1 {b} log", big, "seconds", 0.5))
        for q in ("projects()", "artifacts(project)", "a page of 50 versions", "one version", "runs(project)"):
            out.append(Target(f"L40 {b} {q} ≤ 0.5 s", f"L40 {b} {q}", "artifactfs", "seconds", 0.5))
        out.append(
            Target(f"L40 {b} lineage to depth 3 ≤ 0.5 s", f"L40 {b} lineage (depth 3)", "artifactfs", "seconds", 0.5)
        )
    return out


def run(results: Results, work: Path, backends: list[str]) -> None:
    """Record H1 (and L40 for each emulator) into ``results``."""
    sys.path.insert(0, str(REPO))
    import artifactfs as afs

    cloud.count_requests()
    os.environ["ARTIFACTFS_CACHE_DIR"] = str(work / "h1-cache")
    for name in ["local", *backends]:
        with backend_env(name, work) as (new_root, proxy):
            h1(results, afs, name, new_root, proxy, work)
        print(f"H1 {name} done", file=sys.stderr)
