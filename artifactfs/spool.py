"""Offline runs: logged into a local spool beside the cache, published to their store later.

``afs.init(..., mode="offline")`` (the default while ``$ARTIFACTFS_OFFLINE`` is set) writes the
run, its versions and their blobs into ``spool/<key>/store``, an ordinary local store kept per
target store in the cache folder, and reads inputs from the target as this machine last saw it
(:mod:`artifactfs.offline`). A spooled version has its content digest but no number yet: it
prints as ``project/name:spooled-<12 hex>``, which is also an alias in the spool, so later
steps of the same offline pipeline use it by that name, by ``name:latest``, or by passing the
artifact itself.

:func:`sync` publishes each spool to its store: runs in the order they started, each run's
versions in the order they were logged (getting their real numbers then), their aliases,
then the run record with its inputs and outputs named by those numbers. A run is marked
synced in the spool once it is all in the store, so a second sync sends nothing and an
interrupted one goes on where it stopped (a version sent twice is found by its content).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .artifact import Artifact
from .backend import open_backend
from .cache import BlobCache
from .copy import CopyReport, copy_version
from .errors import ArtifactNotFoundError, NotFoundError, StoreNotFoundError
from .records import ArtifactVersionId
from .refs import LATEST
from .settings import default_cache_dir
from .store import Store, open_store

__all__ = ["SPOOLED", "SyncReport", "pending", "spool_for", "spooled_alias", "sync"]

SPOOLED = "spooled-"  # the prefix of the alias naming a spooled version


def spooled_alias(art: Artifact) -> str:
    """``spooled-<12 hex of its content digest>``: how a spooled version is named."""
    return f"{SPOOLED}{art.digest.rsplit(':', 1)[-1][:12]}"


def _folder(cache_root: Path, url: str) -> Path:
    return cache_root / "spool" / hashlib.sha256(url.encode()).hexdigest()[:16]


def spool_for(target: Store) -> Store:
    """The spool of ``target``: a local store in its cache folder, made on first use."""
    folder = _folder(target.cache.root, target.url)
    folder.mkdir(parents=True, exist_ok=True)
    info = folder / "target.json"
    if not info.exists():
        info.write_text(json.dumps({"url": target.url}))
    spool = Store(open_backend(os.fspath(folder / "store")), cache=target.cache)
    spool.catalog.ensure_store()
    spool.spooled = True
    return spool


@dataclass
class SyncReport:
    """What a sync published: per target store, the runs and versions (target names)."""

    stores: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    new_versions: int = 0
    already: int = 0  # runs synced before

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def sync(store: str | Store | None = None, cache: BlobCache | None = None) -> SyncReport:
    """Publish the spooled runs of ``store`` (every spool of this machine when None)."""
    target = store if isinstance(store, Store) else (open_store(store) if store is not None else None)
    cache = target.cache if target is not None else (cache or BlobCache(default_cache_dir()))
    report = SyncReport()
    for folder in sorted((cache.root / "spool").glob("*/target.json")):
        url = json.loads(folder.read_text())["url"]
        if target is not None and url != target.url:
            continue
        dst = target if target is not None else open_store(url)
        _sync_one(Store(open_backend(os.fspath(folder.parent / "store")), cache=cache), dst, folder.parent, report)
        report.stores.append(url)
    return report


def pending(cache: BlobCache) -> dict[str, int]:
    """Runs logged offline and not yet synced, by the URL of their store."""
    out: dict[str, int] = {}
    for info in sorted((cache.root / "spool").glob("*/target.json")):
        spool = Store(open_backend(os.fspath(info.parent / "store")), cache=cache)
        runs = [r for p in _projects(spool) for r in spool.runs(p)]
        left = sum(not (info.parent / "synced" / r.id).exists() for r in runs)
        if left:
            out[json.loads(info.read_text())["url"]] = left
    return out


def _sync_one(spool: Store, dst: Store, folder: Path, report: SyncReport) -> None:
    done_dir = folder / "synced"
    done_dir.mkdir(exist_ok=True)
    runs = sorted((r for p in _projects(spool) for r in spool.runs(p)), key=lambda r: (r.started_at, r.id))
    mapped: dict[ArtifactVersionId, ArtifactVersionId] = {}
    dst.catalog.ensure_store()

    def publish(ident: ArtifactVersionId, copied: CopyReport) -> None:
        """Publish a spooled version (its spooled upstream first); a version of the store
        (an input read from it) is left as it is."""
        if ident in mapped:
            return
        try:
            art = spool.resolve(ident)
        except ArtifactNotFoundError:
            return  # not in the spool: the store's own
        if art.version_id != ident:
            return  # (another version with those bytes)
        for up in art.manifest.upstream:
            publish(up, copied)
        rec = copy_version(spool, dst, art, copied, None, origin=False, renamed=mapped)
        mapped[ident] = rec.version_id
        for alias in art.aliases:
            if alias != LATEST and not alias.startswith(SPOOLED):
                dst.set_alias(rec.qualified_name, alias)

    for run in runs:
        marker = done_dir / run.id
        if marker.exists():  # synced before: what its versions became, for later runs
            report.already += 1
            for a, b in json.loads(marker.read_text() or "[]"):
                mapped[ArtifactVersionId.from_dict(a)] = ArtifactVersionId.from_dict(b)
            continue
        before = set(mapped)
        copied = CopyReport()
        for ident in (*run.inputs, *run.outputs):
            publish(ident, copied)
        record = dataclasses.replace(
            run,
            inputs=tuple(mapped.get(i, i) for i in run.inputs),
            outputs=tuple(mapped.get(o, o) for o in run.outputs),
        )
        dst.catalog.add_run(record)
        for used in record.inputs:
            number = dst.catalog.find_version(used)
            if number is not None:
                dst.catalog.mark_used(used.project, used.name, number, record.project, record.id)
        pairs = [[k.to_dict(), v.to_dict()] for k, v in mapped.items() if k not in before]
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(pairs, default=str))
        tmp.replace(marker)  # whole or absent: a run half synced is synced again
        report.runs.append(f"{run.project}/{run.id}")
        report.versions += copied.versions
        report.new_versions += copied.new_versions


def _projects(spool: Store) -> list[str]:
    try:
        return spool.projects()
    except (StoreNotFoundError, NotFoundError):
        return []
