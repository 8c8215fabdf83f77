"""Several writers, one version (W&B's distributed artifacts): processes on any machines each
add a part (``run.upsert_artifact``), and one finishes the version (``run.finish_artifact``).

A part is an ordinary manifest of what one writer added, its blobs sent, named by a part
record under ``parts/<project>/<name>/<distributed id>/``; nothing is a version until the
finish merges every part into one manifest and commits it. A part is named by its content, so
the same part added twice is one part. While a writer sends its part it holds a ``writing-``
marker there: a finish refuses to run past a live one, and names it. Part records keep their
blobs from gc until the finish, which then removes them.
"""

from __future__ import annotations

import datetime as dt
import heapq
import os
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

from . import codec, layout
from .artifact import Artifact
from .artifact import upstream as draft_upstream
from .commit import check_type, publish
from .errors import ArtifactStateError, InvalidInputError
from .fields import load
from .ingest import ingest
from .leases import NODE, commit_lease, gone
from .manifest import Entry, Manifest
from .records import PartRecord, VersionRecord
from .refs import check_name

if TYPE_CHECKING:
    from .store import Store

__all__ = ["PartRecord", "finish", "parts", "upsert"]


def _distributed_id(art: Artifact, given: str | None) -> str:
    d = given if given is not None else art.distributed_id
    if d is None:
        raise InvalidInputError(
            f"artifact {art.name!r} has no distributed_id: give Artifact(..., distributed_id=...) or "
            "distributed_id= to upsert_artifact/finish_artifact, the same in every writer"
        )
    return check_name(d, "distributed_id")


def _check_open(store: Store, project: str, name: str, dist: str) -> None:
    key = layout.part_finished(project, name, dist)
    data = store.backend.read_many([key]).get(key)
    if data is not None:
        version = codec.get_int(load(data, "finished parts", "part"), "version", "finished parts")
        raise ArtifactStateError(
            f"{project}/{name} with distributed_id {dist!r} was finished as v{version}: a new version takes a "
            "new distributed_id"
        )


def upsert(store: Store, art: Artifact, *, project: str, run_id: str | None, distributed_id: str | None) -> PartRecord:
    """Send the files of ``art`` as a part of the version ``distributed_id`` names."""
    dist = _distributed_id(art, distributed_id)
    catalog, backend = store.catalog, store.backend
    catalog.ensure_store()
    _check_open(store, project, art.name, dist)
    marker = layout.part_writing(project, art.name, dist, uuid.uuid4().hex)
    mark = {"format": 1, "kind": "part", "host": NODE, "pid": os.getpid(), "time": time.time(), "run": run_id}
    backend.create(marker, codec.encode(mark))
    try:
        with commit_lease(backend, store.lease_ttl) as lease:  # its blobs stay until its record exists
            total, entries, reused = ingest(store, art, None)
            empty = Manifest(
                art.name, art.type, (), art.description, art.metadata, draft_upstream(art), store.algorithm,
                loader=catalog.shard,
            )  # fmt: skip
            manifest, enc = empty.streamed(entries, total, catalog.put_shards)
            digest = catalog.put_manifest(manifest, enc)
            reused.touch(store)
            lease.check()
            part = PartRecord(dist, digest, enc.content, manifest.count, codec.utcnow(), run_id, NODE)
            backend.create(layout.part(project, art.name, dist, enc.content), part.to_bytes())
    finally:
        backend.delete(marker)
    return part


def parts(store: Store, project: str, name: str, dist: str) -> tuple[list[PartRecord], list[str]]:
    """The parts added so far, and the writers still sending one (each described)."""
    backend = store.backend
    folder = layout.parts_dir(project, name, dist)
    names = backend.listdir(folder)
    got = backend.read_many([f"{folder}/{n}" for n in names if n.endswith(".msgpack") and n != "finished.msgpack"])
    found, busy = [], []
    for key, data in sorted(got.items()):
        if data is None:
            continue  # a writer finished (its marker went) since the listing
        if key.rsplit("/", 1)[-1].startswith("writing-"):
            d = codec.decode(data, key, max_bytes=4 << 10)
            host, pid, started = d.get("host"), d.get("pid"), d.get("time")
            if not isinstance(started, int | float):
                continue  # not a marker this release wrote: no writer to wait for
            fresh = time.time() - started < store.lease_ttl
            if fresh and not gone(host if isinstance(host, str) else None, pid if isinstance(pid, int) else None):
                since = dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds")
                busy.append(f"{host} pid {pid} (run {d.get('run') or '-'}), since {since}")
            continue
        found.append(PartRecord.from_bytes(data, f"part {key}"))
    return found, busy


def finish(
    store: Store, art: Artifact, *, project: str, run_id: str | None, distributed_id: str | None, aliases: list[str]
) -> tuple[VersionRecord, bool]:
    """Merge every part of ``distributed_id`` (and the files of ``art``, as one more part) into
    one version of ``project/art.name`` and commit it."""
    dist = _distributed_id(art, distributed_id)
    name, catalog = art.name, store.catalog
    if art.staged_any():
        upsert(store, art, project=project, run_id=run_id, distributed_id=dist)
    catalog.ensure_store()
    _check_open(store, project, name, dist)
    number = check_type(catalog, project, name, art.type)
    with commit_lease(store.backend, store.lease_ttl) as lease:
        found, busy = parts(store, project, name, dist)
        if busy:
            raise ArtifactStateError(
                f"{project}/{name} ({dist}): a part is still being written by {'; '.join(busy)}: finish once it is done"
            )
        if not found:
            raise InvalidInputError(f"{project}/{name} ({dist}) has no part: add one with run.upsert_artifact")
        manifests = [catalog.manifest(p.manifest) for p in found]
        for m in manifests:
            if m.type != art.type:
                raise InvalidInputError(f"a part of {project}/{name} ({dist}) has type {m.type!r}, not {art.type!r}")
        total = sum(1 for _ in _merged(manifests))  # a first pass: the count, and clashes
        upstream = tuple(dict.fromkeys(u for m in manifests for u in m.upstream))
        empty = Manifest(
            name, art.type, (), art.description, art.metadata, upstream, store.algorithm, loader=catalog.shard
        )
        manifest, enc = empty.streamed(_merged(manifests), total, catalog.put_shards)
        record, is_new = publish(
            store, manifest, enc, project=project, run_project=project if run_id else None, run_id=run_id,
            aliases=aliases, lease=lease, number=number,
        )  # fmt: skip
    done = {"format": 1, "kind": "part", "version": record.version, "finished_at": codec.utcnow()}
    store.backend.create(layout.part_finished(project, name, dist), codec.encode(done))
    for p in found:
        store.backend.delete(layout.part(project, name, dist, p.content))
    return record, is_new


def _merged(manifests: list[Manifest]) -> Iterator[Entry]:
    """The entries of every part in path order; a path two parts hold must hold the same."""
    last: Entry | None = None
    for e in heapq.merge(*(m.iter_entries() for m in manifests), key=lambda e: e.path):
        if last is not None and e.path == last.path:
            if (e.digest, e.size, e.kind) != (last.digest, last.size, last.kind):
                raise InvalidInputError(
                    f"two parts hold different files at {e.path!r}: each path must come from one part"
                )
            continue
        last = e
        yield e
