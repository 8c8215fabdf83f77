"""The commit protocol of ``log_artifact``: blobs, then manifest, then one version record.

See docs/format.md. Every step before the version record is idempotent and invisible to
readers, so a writer that dies at any point leaves no visible version.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fsspec.callbacks import Callback

from . import codec, layout
from .artifact import Artifact, Staged
from .artifact import staged as staged_items
from .artifact import upstream as draft_upstream
from .errors import (
    ArtifactFSError,
    ArtifactTypeError,
    JobError,
    LocalPathNotFoundError,
    StoreError,
    local_file_error,
)
from .hashing import Digest, hash_bytes, hash_file
from .leases import NODE, Held, commit_lease, gone
from .manifest import Entry, Manifest
from .markers import ContentClaim
from .records import (
    VersionRecord,
)
from .statcache import StatKey, stat_key
from .transfer import SMALL_BLOB, Source, copy_into_store, upload_blobs

if TYPE_CHECKING:
    from .catalog import Catalog
    from .store import Store

__all__ = ["commit"]

_POLL = 0.05


KEEP_BYTES = 64 << 20  # bytes of small files kept from hashing to upload (beyond: read again, checked)


def _entry_for(
    store: Store, path: str, staged: Staged, sources: dict[Digest, Source], known: Known, learned: Learned
) -> Entry:
    """Hash one staged file; on a local store also write its blob in the same pass.

    ``known`` holds the remembered digests of unchanged files (see statcache), which are not
    read again unless the store lacks their blob; digests computed here are added to ``learned``.
    """
    if staged.entry is not None:
        e = staged.entry
        return Entry(path, e.digest, e.size, e.kind, e.extra)
    assert staged.local is not None
    backend, algorithm = store.backend, store.algorithm
    local = staged.local
    stat = known.stats.get(local) if staged.user_file else None
    remembered = known.trusted.get(local) if staged.user_file else None
    if stat is not None and remembered is not None:
        digest, size = remembered, stat[2]
        if not backend.local_files:
            sources[digest] = Source(local, size)
            return Entry(path, digest, size, staged.kind, staged.extra)
        if backend.refresh(layout.blob(digest), size):
            return Entry(path, digest, size, staged.kind, staged.extra)
    try:
        large = os.path.getsize(local) > SMALL_BLOB
        if large and backend.local_files:
            digest, size = copy_into_store(backend, local, algorithm)
        elif large:
            # Hashed in bounded memory here; hashed again as it is streamed to the store, and
            # the upload abandoned if the two differ (transfer.upload_blobs).
            digest, size = hash_file(local, algorithm)
            sources[digest] = Source(local, size)
        else:
            with open(local, "rb") as f:
                data = f.read()
            digest, size = hash_bytes(data, algorithm), len(data)
            if backend.local_files:
                key = layout.blob(digest)
                if not backend.refresh(key, size):
                    backend.write(key, data)
            else:
                # The very bytes hashed are the ones uploaded, while the budget lasts.
                keep = known.kept + size <= KEEP_BYTES
                known.kept += size if keep else 0
                sources[digest] = Source(local, size, data if keep else None)
    except FileNotFoundError as e:
        raise LocalPathNotFoundError(f"{local} was removed before it could be logged") from e
    except ArtifactFSError:
        raise
    except OSError as e:  # the user's file cannot be read (the store's own errors are StoreError)
        raise local_file_error(e, "read", local) from e
    if stat is not None and stat[2] == size:
        learned.append((local, stat, digest))
    return Entry(path, digest, size, staged.kind, staged.extra)


@dataclass
class Known:
    """Stat keys of the user's files, taken before any of them is read, and trusted digests."""

    stats: dict[str, StatKey] = field(default_factory=dict)
    trusted: dict[str, Digest] = field(default_factory=dict)
    kept: int = 0  # bytes of small files held for upload (see KEEP_BYTES)


Learned = list[tuple[str, StatKey, Digest]]


def _known(store: Store, items: list[tuple[str, Staged]]) -> Known:
    known = Known()
    for _, staged in items:
        if staged.user_file and staged.local is not None:
            try:
                known.stats[staged.local] = stat_key(os.stat(staged.local))
            except FileNotFoundError as e:
                raise LocalPathNotFoundError(f"{staged.local} was removed before it could be logged") from e
    absolute = {p: os.path.abspath(p) for p in known.stats}
    found = store.stat_cache.lookup(((absolute[p], k) for p, k in known.stats.items()), store.algorithm)
    known.trusted = {p: found[a] for p, a in absolute.items() if a in found}
    return known


def _ingest(store: Store, draft: Artifact, callback: Callback | None) -> list[Entry]:
    """Entries for every staged item, with every blob the store lacks uploaded."""
    items = staged_items(draft)
    sources: dict[Digest, Source] = {}
    started = time.time_ns()
    known = _known(store, items)
    learned: Learned = []
    built = [e for p, s in items if s.build is not None for e in s.build(store.backend, store.algorithm, p)]
    small: list[tuple[str, Staged]] = []
    large: list[tuple[str, Staged]] = []
    for p, s in items:
        if s.build is None:
            (large if s.local is not None and _size(s.local, known) > SMALL_BLOB else small).append((p, s))
    # Small files in this thread alone: each is a handful of short system calls, and threads
    # contending for the GIL made logging 10,000 of them 4x slower with 8 threads (3.4 s)
    # than with one (0.8 s). Large files, where the time is in copying and hashing outside
    # the GIL, go to the pool.
    entries = [_entry_for(store, p, s, sources, known, learned) for p, s in small]
    with ThreadPoolExecutor(store.workers) as pool:
        entries += pool.map(lambda item: _entry_for(store, item[0], item[1], sources, known, learned), large)
    upload_blobs(store.backend, sources, callback)
    store.stat_cache.record(((os.path.abspath(p), k, d) for p, k, d in learned), started)
    if built:
        _check_built(store, built)
    return sorted(entries + built, key=lambda e: e.path)


def _size(local: str, known: Known) -> int:
    stat = known.stats.get(local)
    if stat is not None:
        return stat[2]
    try:
        return os.path.getsize(local)
    except FileNotFoundError as e:
        raise LocalPathNotFoundError(f"{local} was removed before it could be logged") from e


def _check_built(store: Store, entries: list[Entry]) -> None:
    """Entries written elsewhere (by Dask workers) must have their blobs in this store."""
    keys = {layout.blob(e.digest) for e in entries if e.digest is not None}
    missing = keys - store.backend.existing(sorted(keys))
    if missing:
        raise JobError(
            f"{len(missing)} table parts written by workers are missing from store {store.url} "
            f"(e.g. {sorted(missing)[0]}): do the workers reach the same store? (memory:// is per process)"
        )


def _claim_alive(claim: ContentClaim, lease: float) -> bool:
    """Whether a content claim's writer may still be committing.

    A claim made on this machine by a process that no longer exists is dead at once; otherwise
    a claim is presumed alive for ``lease`` seconds after it was made.
    """
    return not gone(claim.host, claim.pid) and time.time() - claim.time < lease


def _claim_content(store: Store, project: str, name: str, content: Digest) -> tuple[int | None, int]:
    """Claim the right to make a version with this content.

    Returns ``(existing_version, seq)``: the version that already holds this content (and the
    claim seq it came from), or ``(None, seq)`` once this writer holds claim ``seq``.
    A claim left by a writer that died (older than the lease, never resolved) is superseded by
    claiming the next sequence number.
    """
    catalog = store.catalog
    deadline: float | None = None
    token = uuid.uuid4().hex
    # Every version is made under a claim, and claims are numbered from 0: if claim 0 is free,
    # no writer ever committed this content, and taking it spares listing the claims.
    if catalog.claim(project, name, content, 0, ContentClaim(token, time.time(), NODE, os.getpid())):
        return None, 0
    while True:
        found = catalog.claims(project, name, content)
        claims, done = found.claimed, found.resolved
        if done and (not claims or done[-1] >= claims[-1]):
            version = catalog.resolution(project, name, content, done[-1])
            if catalog.tombstone(project, name, version) is None:
                return version, done[-1]
            # That version was deleted: logging the content again makes a new version.
            seq = done[-1] + 1
        elif claims:
            top = claims[-1]
            claim = catalog.read_claim(project, name, content, top)
            if _claim_alive(claim, store.claim_lease):
                # Another writer is committing this content right now: wait for its version.
                if deadline is None:
                    deadline = time.monotonic() + store.claim_lease
                if time.monotonic() < deadline:
                    time.sleep(_POLL)
                    continue
            made = _version_with_content(store, project, name, content, claim.time)
            if made is not None:
                # The writer died after creating its version but before recording it here.
                catalog.resolve_claim(project, name, content, top, made)
                return made, top
            seq = top + 1
        else:
            seq = 0
        if catalog.claim(project, name, content, seq, ContentClaim(token, time.time(), NODE, os.getpid())):
            return None, seq


def _version_with_content(store: Store, project: str, name: str, content: Digest, since: float) -> int | None:
    """A live version with this content created after ``since`` (epoch seconds), newest first."""
    catalog = store.catalog
    top = catalog.newest(project, name).version
    for hi in range(top, -1, -64):
        numbers = list(range(hi, max(hi - 64, -1), -1))
        recs = catalog.versions(project, name, numbers)
        deleted = catalog.deleted(project, name, numbers)
        for n in numbers:
            if (rec := recs.get(n)) is None:
                continue
            if rec.content == content and n not in deleted:
                return n
            if codec.timestamp(rec.created_at) < since - 1:
                return None
    return None


def commit(
    store: Store,
    draft: Artifact,
    *,
    project: str,
    run_project: str | None,
    run_id: str | None,
    aliases: list[str],
    callback: Callback | None = None,
) -> tuple[VersionRecord, bool]:
    """Log ``draft`` as the next version of ``project/draft.name``.

    Returns the version record and whether it is new (False when identical content already
    had a version, which is then returned).
    """
    store.catalog.ensure_store()
    # The newest version (its type, the number to try) is read while the lease is taken: two
    # rounds of requests each, independent; no blob is sent before both are done.
    with contextlib.ExitStack() as held:
        with ThreadPoolExecutor(1) as pool:
            checked = pool.submit(check_type, store.catalog, project, draft.name, draft.type)
            # Held from before the first look at what the store has until the version exists,
            # so a gc never deletes a blob or manifest this commit re-uses (leases.py).
            lease = held.enter_context(commit_lease(store.backend, store.lease_ttl))
            number = checked.result()
        entries = _ingest(store, draft, callback)
        manifest = Manifest(
            name=draft.name,
            type=draft.type,
            entries=tuple(entries),
            description=draft.description,
            metadata=draft.metadata,
            upstream=draft_upstream(draft),
            algorithm=store.algorithm,
        )
        manifest_bytes, content = manifest.encoded()
        return publish(
            store,
            manifest,
            manifest_bytes,
            project=project,
            run_project=run_project,
            run_id=run_id,
            aliases=aliases,
            content=content,
            lease=lease,
            number=number,
        )


def publish(
    store: Store,
    manifest: Manifest,
    manifest_bytes: bytes,
    *,
    project: str,
    run_project: str | None,
    run_id: str | None,
    aliases: list[str],
    origin: dict[str, object] | None = None,
    content: Digest | None = None,
    lease: Held,
    number: int | None = None,
) -> tuple[VersionRecord, bool]:
    """Make a version of a manifest whose blobs are already in the store.

    Writes the manifest, claims its content digest, allocates the version record, then moves
    the aliases. Returns the record and whether it is new. ``lease`` is the commit lease held
    since the blobs were found or sent; it is checked before the version is made. ``number``
    is the version number to try first (from :func:`check_type`).
    """
    catalog = store.catalog
    name = manifest.name
    manifest_digest = catalog.put_manifest(manifest, manifest_bytes)
    if content is None:
        content = manifest.content_digest

    lease.check()
    existing, seq = _claim_content(store, project, name, content)
    if existing is not None:
        record = catalog.version(project, name, existing)
        is_new = False
    else:
        record = _allocate_version(
            store, project, manifest, manifest_digest, content, run_project, run_id, origin, number
        )
        # After the version record, the hint and the claim's resolution are independent: sent together.
        with ThreadPoolExecutor(1) as pool:
            hinted = pool.submit(catalog.committed, record)
            catalog.resolve_claim(project, name, content, seq, record.version)
            hinted.result()
        is_new = True
        _index_references(catalog, manifest, record)
    for alias in aliases:
        catalog.set_alias(project, name, alias, record.version, run_id)
    return record, is_new


def _index_references(catalog: Catalog, manifest: Manifest, record: VersionRecord) -> None:
    """Reverse index of add_reference edges, so downstream lineage is one listing per version."""
    for up in manifest.upstream:
        target = catalog.find_version(up)
        if target is not None:
            catalog.mark_referenced(up.project, up.name, target, record.version_id)


def check_type(catalog: Catalog, project: str, name: str, type_: str) -> int:
    """Refuse a version of another type than the artifact's (:class:`ArtifactTypeError`);
    return the number a new version should try (every version has the type of the first)."""
    number, below = catalog.next_number(project, name)
    if below is not None and below.type != type_:
        raise ArtifactTypeError(f"{project}/{name} has type {below.type!r}; cannot log a version of type {type_!r}")
    return number


def _allocate_version(
    store: Store,
    project: str,
    manifest: Manifest,
    manifest_digest: Digest,
    content: Digest,
    run_project: str | None,
    run_id: str | None,
    origin: dict[str, object] | None,
    number: int | None = None,
) -> VersionRecord:
    """Create ``versions/<N+1>`` with create-if-absent; after a conflict, find the new end."""
    name = manifest.name
    n = number if number is not None else store.catalog.next_number(project, name)[0]
    for _ in range(10_000):
        record = VersionRecord(
            project=project,
            name=name,
            version=n,
            type=manifest.type,
            manifest=manifest_digest,
            content=content,
            size=manifest.size,
            file_count=len(manifest.entries),
            created_at=codec.utcnow(),
            run_project=run_project,
            run_id=run_id,
            origin=origin,
        )
        if store.catalog.create_version(record):
            return record
        n = store.catalog.next_number(project, name, after=n)[0]
    raise StoreError(f"could not allocate a version of {project}/{name} in store {store.url}")
