"""The commit protocol of ``log_artifact``: blobs, then manifest, then one version record.

See docs/format.md. Every step before the version record is idempotent and invisible to
readers, so a writer that dies at any point leaves no visible version.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from fsspec.callbacks import Callback

from . import codec
from .artifact import Artifact
from .artifact import upstream as draft_upstream
from .errors import (
    ArtifactTypeError,
    StoreError,
)
from .hashing import Digest
from .ingest import ingest
from .leases import NODE, Held, commit_lease, gone
from .manifest import Encoded, Manifest
from .markers import ContentClaim
from .records import (
    VersionRecord,
)
from .search import index_version

if TYPE_CHECKING:
    from .catalog import Catalog
    from .store import Store

__all__ = ["commit"]

_POLL = 0.05


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


def _legacy_version(store: Store, project: str, name: str, legacy: Digest) -> int | None:
    """The live version logged with these entries as one manifest, by a release before shards
    (its content digest is ``legacy``): the same content, so no new version is made."""
    catalog = store.catalog
    resolved = catalog.claims(project, name, legacy).resolved
    for seq in reversed(resolved):
        version = catalog.resolution(project, name, legacy, seq)
        if catalog.tombstone(project, name, version) is None:
            return version
    return None


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
        total, entries, reused = ingest(store, draft, callback)
        empty = Manifest(
            name=draft.name,
            type=draft.type,
            description=draft.description,
            metadata=draft.metadata,
            upstream=draft_upstream(draft),
            algorithm=store.algorithm,
            loader=store.catalog.shard,
        )
        # Shards are stored as they fill, under the lease: a large version is never held whole.
        manifest, enc = empty.streamed(entries, total, store.catalog.put_shards)
        return publish(
            store,
            manifest,
            enc,
            project=project,
            run_project=run_project,
            run_id=run_id,
            aliases=aliases,
            lease=lease,
            number=number,
            before_new=lambda: reused.touch(store),
        )


def publish(
    store: Store,
    manifest: Manifest,
    enc: Encoded,
    *,
    project: str,
    run_project: str | None,
    run_id: str | None,
    aliases: list[str],
    origin: dict[str, object] | None = None,
    content: Digest | None = None,
    lease: Held,
    number: int | None = None,
    before_new: Callable[[], None] | None = None,
) -> tuple[VersionRecord, bool]:
    """Make a version of a manifest whose blobs are already in the store.

    Writes the manifest, claims its content digest, allocates the version record, then moves
    the aliases. Returns the record and whether it is new. ``lease`` is the commit lease held
    since the blobs were found or sent; it is checked before the version is made. ``number``
    is the version number to try first (from :func:`check_type`); ``before_new`` runs once the
    content is known to be new, before its version is made (re-used blobs are touched then).
    """
    catalog = store.catalog
    name = manifest.name
    manifest_digest = catalog.put_manifest(manifest, enc)
    if content is None:
        content = enc.content

    lease.check()
    seq = -1
    existing = _legacy_version(store, project, name, enc.legacy) if enc.legacy is not None else None
    if existing is None:
        existing, seq = _claim_content(store, project, name, content)
    if existing is not None:
        record = catalog.version(project, name, existing)
        is_new = False
    else:
        if before_new is not None:
            before_new()
        record = _allocate_version(
            store, project, manifest, manifest_digest, content, run_project, run_id, origin, number
        )
        # After the version record, the hint, the search index's record and the claim's
        # resolution are independent: sent together.
        with ThreadPoolExecutor(2) as pool:
            hinted = pool.submit(catalog.committed, record)
            indexed = pool.submit(index_version, store.backend, record, manifest.description, manifest.metadata)
            catalog.resolve_claim(project, name, content, seq, record.version)
            hinted.result()
            indexed.result()
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
            file_count=manifest.count,
            created_at=codec.utcnow(),
            run_project=run_project,
            run_id=run_id,
            origin=origin,
        )
        if store.catalog.create_version(record):
            return record
        n = store.catalog.next_number(project, name, after=n)[0]
    raise StoreError(f"could not allocate a version of {project}/{name} in store {store.url}")
