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
from .draft import base_of, set_base
from .errors import ArtifactNotFoundError, ArtifactStateError, InvalidInputError
from .hashing import Digest
from .incremental import Base
from .ingest import ingest
from .leases import Held, commit_lease
from .manifest import Encoded, Manifest
from .records import ArtifactVersionId, VersionRecord
from .refs import LATEST, parse_ref
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
        base = _drafted_from(store, draft, project)  # under the lease: its blobs stay while it is live
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
            drafted_from=base.version if base is not None else None,
        )


def _drafted_from(store: Store, draft: Artifact, project: str) -> Base | None:
    """The live version of this store that ``draft`` is made from: its ``new_draft`` base, or
    for an ``incremental`` draft the newest version of ``project/name`` (None if none yet)."""
    catalog = store.catalog
    base = base_of(draft)
    if base is None and draft.incremental:
        try:
            found = catalog.locate(parse_ref(f"{project}/{draft.name}:{LATEST}"))
        except ArtifactNotFoundError:
            return None
        base = set_base(draft, Base(found.record.version_id, found.manifest, store.url, catalog.store_id))
    if base is None:
        return None
    ident = base.version
    same = base.store_id == catalog.store_id if base.store_id and catalog.store_id else base.store_url == store.url
    if not same:
        raise InvalidInputError(
            f"this draft was made from {ident.qualified_name} of store {base.store_url}: log it to that store "
            f"(or copy that version to {store.url} and draft from the copy)"
        )
    if catalog.tombstone(ident.project, ident.name, ident.version) is not None:
        raise ArtifactStateError(
            f"{ident.qualified_name}, which this draft was made from, was deleted: its files may be gone; "
            "make the draft again from a live version"
        )
    return base


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
    drafted_from: ArtifactVersionId | None = None,
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
                drafted_from=drafted_from,
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
