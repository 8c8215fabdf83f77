"""Store maintenance: verify what a store holds, and collect garbage safely."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import layout
from .errors import ArtifactFSError, FormatError, StoreError
from .hashing import Digest, hash_bytes, hash_stream
from .leases import gc_lock, live_leases
from .manifest import Manifest
from .records import AliasEvent, RunRecord, VersionRecord
from .storage import KeyNotFoundError

if TYPE_CHECKING:
    from .store import Store

__all__ = ["GcReport", "Problem", "gc", "verify"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a store: ``kind`` is missing, size, digest, undecodable or dangling."""

    kind: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.key}: {self.message}"


@dataclass(slots=True)
class GcReport:
    """What garbage collection freed (or, in a dry run, would free)."""

    dry_run: bool
    blobs: int = 0
    manifests: int = 0
    temp_files: int = 0
    bytes: int = 0
    kept_young: int = 0  # unreferenced but younger than the grace period
    deferred: int = 0  # commits still in flight after gc waited for them: nothing was deleted
    keys: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.blobs + self.manifests + self.temp_files


def _live_versions(
    store: Store, projects: list[str], skip: set[str] | frozenset[str] = frozenset()
) -> Iterator[tuple[str, bytes | None]]:
    """(version record key, bytes or None) of every version that is not deleted (but ``skip``)."""
    for project in projects:
        for name in store.backend.listdir(layout.artifacts_dir(project)):
            numbers, _ = store._live_numbers(project, name)
            keys = [k for n in numbers if (k := layout.version_record(project, name, n)) not in skip]
            yield from store.backend.read_many(keys).items()


def verify(store: Store, project: str | None = None, deep: bool = False) -> list[Problem]:
    """Check every live version: record, manifest and blobs (re-hashed when ``deep``)."""
    backend = store.backend
    problems: list[Problem] = []
    projects = [project] if project else store.projects()
    blobs = backend.walk("blobs")
    hashed: dict[Digest, bool] = {}
    for key, data in _live_versions(store, projects):
        if data is None:
            problems.append(Problem("missing", key, "version record vanished while verifying"))
            continue
        try:
            rec = VersionRecord.from_bytes(data, f"version record {key}")
        except FormatError as e:
            problems.append(Problem("undecodable", key, str(e)))
            continue
        mkey = layout.manifest(rec.manifest)
        try:
            mdata = backend.read(mkey)
        except KeyNotFoundError:
            problems.append(Problem("missing", mkey, f"manifest of {rec.project}/{rec.name}:v{rec.version}"))
            continue
        if hash_bytes(mdata, rec.manifest.algorithm) != rec.manifest:
            problems.append(Problem("digest", mkey, f"manifest of {rec.project}/{rec.name}:v{rec.version} is corrupt"))
            continue
        try:
            manifest = Manifest.from_bytes(mdata, f"manifest {mkey}")
        except FormatError as e:
            problems.append(Problem("undecodable", mkey, str(e)))
            continue
        for entry in manifest.entries:
            if entry.digest is None:
                continue  # external reference: checked when downloaded
            bkey = layout.blob(entry.digest)
            where = f"{rec.project}/{rec.name}:v{rec.version} entry {entry.path!r}"
            if bkey not in blobs:
                problems.append(Problem("missing", bkey, f"blob of {where}"))
            elif blobs[bkey][0] != entry.size:
                problems.append(
                    Problem("size", bkey, f"blob of {where} has {blobs[bkey][0]} bytes, expected {entry.size}")
                )
            elif deep:
                if entry.digest not in hashed:
                    with backend.open(bkey) as f:
                        hashed[entry.digest] = hash_stream(f, entry.digest.algorithm)[0] == entry.digest
                if not hashed[entry.digest]:
                    problems.append(Problem("digest", bkey, f"blob of {where} does not match its digest"))
    for p in projects:
        problems.extend(_verify_aliases_and_runs(store, p))
    return problems


def _verify_aliases_and_runs(store: Store, project: str) -> list[Problem]:
    backend = store.backend
    problems = []
    for name in backend.listdir(layout.artifacts_dir(project)):
        numbers = set(store._version_numbers(project, name))
        adir = layout.aliases_dir(project, name)
        keys = [f"{adir}/{a}/{e}" for a in backend.listdir(adir) for e in backend.listdir(f"{adir}/{a}")]
        for key, data in backend.read_many(keys).items():
            try:
                ev = AliasEvent.from_bytes(data or b"", f"alias event {key}")
            except FormatError as e:
                problems.append(Problem("undecodable", key, str(e)))
                continue
            if ev.version is not None and ev.version not in numbers:
                problems.append(Problem("dangling", key, f"alias {ev.alias!r} points at missing v{ev.version}"))
    rdir = layout.runs_dir(project)
    for key, data in backend.read_many(f"{rdir}/{n}" for n in backend.listdir(rdir)).items():
        try:
            RunRecord.from_bytes(data or b"", f"run record {key}")
        except FormatError as e:
            problems.append(Problem("undecodable", key, str(e)))
    return problems


def _mark(store: Store, skip: set[str]) -> tuple[set[str], set[str]]:
    """(keys reachable from the live versions not in ``skip``, the version record keys read)."""
    reachable: set[str] = set()
    manifests: dict[str, Digest] = {}
    seen: set[str] = set()
    for key, data in _live_versions(store, store.projects(), skip):
        seen.add(key)
        if data is None:
            continue
        try:
            rec = VersionRecord.from_bytes(data, f"version record {key}")
        except FormatError as e:
            raise StoreError(f"gc stopped: cannot decode {key} ({e}); fix or remove it, then run gc again") from e
        manifests[layout.manifest(rec.manifest)] = rec.manifest
    for mkey, digest in manifests.items():
        reachable.add(mkey)
        try:
            manifest = store._manifest(digest)
        except ArtifactFSError as e:
            # Without the manifest we cannot know which blobs it needs: sweep nothing.
            raise StoreError(f"gc stopped: manifest {mkey} is unreadable ({e}); run verify") from e
        reachable.update(layout.blob(e.digest) for e in manifest.entries if e.digest is not None)
    return reachable, seen


def _drain(store: Store, wait: float) -> int:
    """Wait up to ``wait`` seconds for in-flight commits to finish; how many are left."""
    deadline = time.monotonic() + wait
    pause = 0.05
    while live := live_leases(store.backend, layout.commit_leases_dir()):
        if time.monotonic() >= deadline:
            return len(live)
        time.sleep(pause)
        pause = min(pause * 2, 1.0)
    return 0


def gc(store: Store, grace: dt.timedelta, dry_run: bool, wait: float = 60.0) -> GcReport:
    """Free blobs and manifests that no live version references and that are older than ``grace``.

    Candidates are listed first and references marked after, so a version committed meanwhile
    keeps its blobs; blobs younger than ``grace`` survive. Before deleting, gc takes the store's
    gc lock, waits (up to ``wait`` seconds) for the commits in flight to finish (their leases:
    see :mod:`artifactfs.leases`), marks again the versions they made, and on a local store
    checks each file's age again; commits that start meanwhile wait for gc. If commits are
    still in flight after ``wait``, nothing is deleted and the report says how many.
    """
    backend = store.backend
    report = GcReport(dry_run=dry_run)
    cutoff = time.time() - grace.total_seconds()
    candidates = {**backend.walk("blobs"), **backend.walk("manifests"), **backend.walk("tmp")}
    reachable, seen = _mark(store, set())
    doomed: list[tuple[str, int]] = []
    for key, (size, mtime) in sorted(candidates.items()):
        if key in reachable:
            continue
        if mtime > cutoff:
            report.kept_young += 1
            continue
        doomed.append((key, size))
    if dry_run or not doomed:
        for key, size in doomed:
            _count(report, key, size)
        return report
    with gc_lock(backend, store.lease_ttl) as held:
        report.deferred = _drain(store, wait)
        if report.deferred:
            return report
        more, _ = _mark(store, seen)  # versions committed while gc marked the first time
        for key, size in doomed:
            if key in more:
                continue
            if backend.is_local:
                now = backend.modified(key)
                if now is None:
                    continue  # gone meanwhile
                if now > cutoff:
                    report.kept_young += 1  # re-used (refreshed) or written again since it was listed
                    continue
            held.check()
            backend.delete(key)
            _count(report, key, size)
    return report


def _count(report: GcReport, key: str, size: int) -> None:
    if key.startswith("blobs/"):
        report.blobs += 1
    elif key.startswith("manifests/"):
        report.manifests += 1
    else:
        report.temp_files += 1
    report.bytes += size
    report.keys.append(key)
