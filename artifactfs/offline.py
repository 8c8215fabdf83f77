"""Versions answered while their store cannot be reached, from what this machine saw of it.

``name:vN`` resolves as it did online (a version record never changes, a manifest is named by
its digest); ``latest`` and custom aliases resolve to where they pointed when last seen, with
an :class:`~artifactfs.errors.OfflineWarning` naming the store and when. The blobs come from
the local cache: a version downloaded or read here before downloads again offline.
"""

from __future__ import annotations

import time

from .artifact import Artifact, logged
from .blobs import BlobReader
from .catalog import Catalog, Located
from .errors import ArtifactNotFoundError, IntegrityError, OfflineWarning, StoreError, warn
from .reach import mark_offline, offline_reason
from .refs import ArtifactRef
from .seen import SeenRecords

__all__ = ["go_offline", "remember", "resolve_seen"]


def remember(catalog: Catalog, located: Located, ref: ArtifactRef) -> None:
    """Keep what resolving ``ref`` read (the record, and where its tag pointed)."""
    if catalog.seen is not None and catalog.store_id is not None:
        catalog.seen.version_seen(catalog.store_id, located.record, ref.tag if ref.version is None else None)


def go_offline(seen: SeenRecords | None, url: str, error: StoreError) -> bool:
    """Whether a failure to reach ``url`` should be answered from what was seen of it (this
    machine knows the store); then the store is offline for the rest of the process."""
    if seen is None or seen.store_id(url) is None:
        return False
    mark_offline(url, str(error))
    warn(
        OfflineWarning(
            f"store {url} cannot be reached ({' '.join(str(error).split())[:300]}): it is offline for the rest "
            "of this process, answered from what this machine saw of it"
        )
    )
    return True


def resolve_seen(catalog: Catalog, blobs: BlobReader, seen: SeenRecords | None, url: str, ref: ArtifactRef) -> Artifact:
    """The version ``ref`` names, as this machine last saw it in the store at ``url``."""
    assert ref.project is not None
    project, name = ref.project, ref.name
    reason = offline_reason(url) or "unreachable"
    known = seen.store_id(url) if seen is not None else None
    if seen is None or known is None:
        raise ArtifactNotFoundError(f"store {url} is offline ({reason}) and this machine has never read from it")
    store_id = known[0]
    if ref.version is not None:
        number = ref.version
    else:
        tagged = seen.tag(store_id, project, name, ref.tag)
        if tagged is None:
            raise _not_seen(seen, store_id, url, reason, ref)
        number, tag_seen_at = tagged
        warn(
            OfflineWarning(
                f"store {url} is offline ({reason}): {project}/{name}:{ref.tag} is v{number}, as this machine "
                f"last saw it at {_when(tag_seen_at)}"
            )
        )
    rec = seen.version(store_id, project, name, number)
    if rec is None:
        raise _not_seen(seen, store_id, url, reason, ref)
    try:
        manifest = catalog.version_manifest(rec)  # from what was seen: nothing is sent
    except (IntegrityError, StoreError):
        raise _not_seen(seen, store_id, url, reason, ref) from None
    catalog.store_id = store_id
    aliases = [ref.tag] if ref.version is None else []
    return logged(catalog, blobs, rec, manifest, aliases)


def _not_seen(seen: SeenRecords, store_id: str, url: str, reason: str, ref: ArtifactRef) -> ArtifactNotFoundError:
    assert ref.project is not None
    numbers = seen.numbers(store_id, ref.project, ref.name)
    have = ", ".join(f"v{n}" for n in numbers) or "none"
    return ArtifactNotFoundError(
        f"store {url} is offline ({reason}): {ref} was not read on this machine before; "
        f"cached versions of {ref.project}/{ref.name}: {have}"
    )


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))
