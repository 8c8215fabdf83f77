"""gc racing commits in other processes never deletes what a committed version needs."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import codec, layout
from artifactfs.errors import StoreError
from artifactfs.leases import NODE
from artifactfs.markers import Lease

CONTENTS = 6
DAY = dt.timedelta(days=1)

COMMITTER = """
import sys, artifactfs as afs
store, folder, n = afs.open_store(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for round in range(2):
    for i in range(n):
        with afs.init(project="p", store=store) as run:
            art = afs.Artifact("seed" if (i + round) % 2 else f"copy{i}", type="dataset")
            art.add_dir(f"{folder}/c{i}")
            run.log_artifact(art)
"""

COLLECTOR = """
import datetime as dt, os, sys, artifactfs as afs
store, stop, grace = afs.open_store(sys.argv[1]), sys.argv[2], float(sys.argv[3])
runs = 0
while not os.path.exists(stop) or runs < 3:
    store.gc(grace=dt.timedelta(seconds=grace), dry_run=False)
    runs += 1
print(runs)
"""


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(afs.__file__).parent.parent)}


def seed_garbage(store: afs.Store, root: Path) -> None:
    """Log every content once and delete it: its blobs and manifest are garbage, to be re-used."""
    for i in range(CONTENTS):
        folder = root / f"c{i}"
        folder.mkdir(parents=True)
        for j in range(20):
            (folder / f"f{j}.txt").write_text(f"content {i} file {j}\n" * (j + 1))
        with afs.init(project="p", store=store) as run:
            art = afs.Artifact("seed", type="dataset")
            art.add_dir(folder)
            logged = run.log_artifact(art)
        store.delete_version(logged.qualified_name, force=True)


def test_gc_racing_commits_that_reuse_garbage(shared_store_url: str, tmp_path: Path) -> None:
    store = afs.open_store(shared_store_url)
    seed_garbage(store, tmp_path / "data")
    if store.backend.local_files:
        # Garbage older than the grace period: only its re-use by a commit keeps it young.
        old = time.time() - 2 * DAY.total_seconds()
        for key in [*store.backend.walk("blobs"), *store.backend.walk("manifests"), *store.backend.walk("packs")]:
            os.utime(store.backend.path(key), (old, old))
        grace = DAY.total_seconds()
    else:
        grace = 0.0  # on an object store every unreferenced object is fair game at once
    stop = tmp_path / "stop"
    collector = subprocess.Popen(
        [sys.executable, "-c", COLLECTOR, shared_store_url, str(stop), str(grace)],
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    committer = subprocess.run(
        [sys.executable, "-c", COMMITTER, shared_store_url, str(tmp_path / "data"), str(CONTENTS)],
        env=child_env(),
        capture_output=True,
        text=True,
    )
    stop.touch()
    out, _ = collector.communicate()
    assert committer.returncode == 0, committer.stderr[-3000:]
    assert collector.returncode == 0 and int(out) >= 3

    fresh = afs.open_store(shared_store_url)
    assert fresh.verify(deep=True) == []
    live = [v for name in ("seed", *(f"copy{i}" for i in range(CONTENTS))) for v in fresh.versions("p", name)]
    assert len(live) == 2 * CONTENTS
    for art in live:
        art.download(tmp_path / "out" / art.name / art.version)
    assert fresh.backend.listdir(layout.commit_leases_dir()) == []
    assert fresh.backend.listdir(layout.gc_locks_dir()) == []


def test_a_commit_made_while_gc_marks_keeps_what_it_reuses(
    store: afs.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: the commit lands after gc listed the versions, before it deletes."""
    seed_garbage(store, tmp_path / "data")
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("other", type="dataset")
        art.add_dir(tmp_path / "data" / "c0")
        run.log_artifact(art)  # a live version, so gc reads a manifest while it marks
    if store.backend.local_files:
        old = time.time() - 2 * DAY.total_seconds()
        for key in [*store.backend.walk("blobs"), *store.backend.walk("manifests"), *store.backend.walk("packs")]:
            os.utime(store.backend.path(key), (old, old))
    grace = DAY if store.backend.local_files else dt.timedelta(0)
    elsewhere = afs.Store(afs.open_store(store.url).backend, cache=store.cache)  # another writer
    marking = store.catalog.manifest
    made: list[afs.Artifact] = []

    def commit_while_marking(digest: object) -> object:
        if not made:
            with afs.init(project="p", store=elsewhere) as run:
                again = afs.Artifact("seed", type="dataset")
                again.add_dir(tmp_path / "data" / "c3")  # content of a deleted version: all garbage
                made.append(run.log_artifact(again))
        return marking(digest)  # type: ignore[arg-type]

    monkeypatch.setattr(store.catalog, "manifest", commit_while_marking)
    store.gc(grace=grace, dry_run=False)
    assert made and afs.open_store(store.url).verify(deep=True) == []
    made[0].download(tmp_path / "out")


def write_lease(store: afs.Store, key: str, role: str, *, renewed: float, ttl: float, host: str = "elsewhere") -> None:
    lease = Lease(role, key.rsplit("/", 1)[-1].removesuffix(".msgpack"), host, 4242, codec.utcnow(), renewed, ttl)
    store.backend.write(key, lease.to_bytes())


def orphan(store: afs.Store, files: Path) -> None:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(files)
        logged = run.log_artifact(art)
    store.delete_version(logged.qualified_name)


def test_gc_waits_for_a_live_commit_on_another_machine_then_defers(store: afs.Store, files: Path) -> None:
    orphan(store, files)
    write_lease(store, layout.commit_lease("c1"), "commit", renewed=time.time(), ttl=300)
    report = store.gc(grace=dt.timedelta(0), dry_run=False, wait=0.3)
    assert report.deferred == 1 and report.count == 0
    assert store.gc(grace=dt.timedelta(0)).count == 4  # still there, all of it
    # A lease not renewed within its ttl is dead: its holder stopped long ago.
    write_lease(store, layout.commit_lease("c1"), "commit", renewed=time.time() - 301, ttl=300)
    report = store.gc(grace=dt.timedelta(0), dry_run=False, wait=0.3)
    assert report.deferred == 0 and report.count == 4
    assert store.backend.listdir(layout.gc_locks_dir()) == []


def test_a_commit_waits_for_a_gc_that_is_deleting(store: afs.Store, files: Path) -> None:
    ttl = 1.5
    write_lease(store, layout.gc_lock("g1"), "gc", renewed=time.time(), ttl=ttl)
    started = time.monotonic()
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(files)
        run.log_artifact(art)
    assert time.monotonic() - started >= ttl * 0.5  # it waited for the lock to lapse


def test_one_gc_deletes_at_a_time(store: afs.Store, files: Path) -> None:
    orphan(store, files)
    write_lease(store, layout.gc_lock("g2"), "gc", renewed=time.time(), ttl=300)
    with pytest.raises(StoreError, match="another gc is deleting"):
        store.gc(grace=dt.timedelta(0), dry_run=False)
    assert store.gc(grace=dt.timedelta(0)).count == 4  # nothing was deleted
    store.backend.delete(layout.gc_lock("g2"))
    assert store.gc(grace=dt.timedelta(0), dry_run=False).count == 4


HOLDER = """
import os, signal, sys, artifactfs as afs
from artifactfs import commit
store = afs.open_store(sys.argv[1])
original = commit.claim_content
def die(*a, **k):
    os.kill(os.getpid(), signal.SIGKILL)
commit.claim_content = die
with afs.init(project="p", store=store) as run:
    art = afs.Artifact("ds", type="dataset")
    art.add_dir(sys.argv[2])
    run.log_artifact(art)
"""


def test_a_killed_commit_on_this_machine_does_not_block_gc(shared_store_url: str, files: Path) -> None:
    store = afs.open_store(shared_store_url)
    orphan(store, files)
    killed = subprocess.run([sys.executable, "-c", HOLDER, shared_store_url, str(files)], env=child_env())
    assert killed.returncode == -signal.SIGKILL
    leases = store.backend.listdir(layout.commit_leases_dir())
    assert len(leases) == 1  # left behind, naming a process that is gone
    lease = Lease.from_bytes(store.backend.read(f"{layout.commit_leases_dir()}/{leases[0]}"), "lease")
    assert lease.host == NODE
    report = store.gc(grace=dt.timedelta(0), dry_run=False, wait=30)
    assert report.deferred == 0 and report.count >= 4


def test_a_commit_whose_lease_lapsed_makes_no_version(
    store: afs.Store, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renewals fail (the store unreachable for them) while the commit works: it stops
    before relying on blobs a gc may have taken for garbage."""
    from artifactfs import commit as commit_mod

    store.lease_ttl = 0.4
    write = store.backend.write

    def no_renewals(key: str, data: bytes) -> None:
        if key.startswith("locks/") and store.backend.exists(key):
            raise StoreError("injected: the store cannot be reached")
        write(key, data)

    ingest = commit_mod.ingest

    def slow_ingest(*args: object, **kw: object) -> object:
        time.sleep(0.6)
        return ingest(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(store.backend, "write", no_renewals)
    monkeypatch.setattr(commit_mod, "ingest", slow_ingest)
    with afs.init(project="p", store=store) as run, pytest.raises(StoreError, match="could not renew its lease"):
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(files)
        run.log_artifact(art)
    assert store.backend.listdir(layout.versions_dir("p", "ds")) == []
