"""The commit protocol of ``log_artifact``: blobs, then manifest, then one version record.

See docs/format.md. Every step before the version record is idempotent and invisible to
readers, so a writer that dies at any point leaves no visible version.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from fsspec.callbacks import Callback

from . import codec
from .artifact import Artifact
from .artifact import upstream as draft_upstream
from .hashing import Digest
from .ingest import ingest
from .leases import Held, commit_lease
from .manifest import Encoded, Manifest
from .records import VersionRecord
from .search import index_version
from .versioning import allocate_version, check_type, claim_content, legacy_version

if TYPE_CHECKING:
    from .catalog import Catalog
    from .store import Store

__all__ = ["check_type", "commit", "publish"]


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
    existing = legacy_version(catalog, project, name, enc.legacy) if enc.legacy is not None else None
    if existing is None:
        existing, seq = claim_content(catalog, project, name, content, store.claim_lease)
    if existing is not None:
        record = catalog.version(project, name, existing)
        is_new = False
    else:
        if before_new is not None:
            before_new()

        def make(n: int) -> VersionRecord:
            return VersionRecord(
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

        record = allocate_version(catalog, project, name, make, number)
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
