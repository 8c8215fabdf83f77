"""Making a version number: claiming a content digest (so identical content makes one version),
and creating the next version record with create-if-absent.

Shared by :mod:`artifactfs.commit` (logged and copied versions) and
:mod:`artifactfs.registry` (links). See docs/format.md, *The commit protocol*.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import codec
from .errors import ArtifactTypeError, StoreError
from .hashing import Digest
from .leases import NODE, gone
from .markers import ContentClaim
from .records import VersionRecord

if TYPE_CHECKING:
    from .catalog import Catalog

__all__ = ["allocate_version", "check_type", "claim_content", "legacy_version"]

_POLL = 0.05


def _claim_alive(claim: ContentClaim, lease: float) -> bool:
    """Whether a content claim's writer may still be committing.

    A claim made on this machine by a process that no longer exists is dead at once; otherwise
    a claim is presumed alive for ``lease`` seconds after it was made.
    """
    return not gone(claim.host, claim.pid) and time.time() - claim.time < lease


def claim_content(catalog: Catalog, project: str, name: str, content: Digest, lease: float) -> tuple[int | None, int]:
    """Claim the right to make a version with this content.

    Returns ``(existing_version, seq)``: the version that already holds this content (and the
    claim seq it came from), or ``(None, seq)`` once this writer holds claim ``seq``.
    A claim left by a writer that died (older than ``lease`` seconds, never resolved) is
    superseded by claiming the next sequence number.
    """
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
            if _claim_alive(claim, lease):
                # Another writer is committing this content right now: wait for its version.
                if deadline is None:
                    deadline = time.monotonic() + lease
                if time.monotonic() < deadline:
                    time.sleep(_POLL)
                    continue
            made = _version_with_content(catalog, project, name, content, claim.time)
            if made is not None:
                # The writer died after creating its version but before recording it here.
                catalog.resolve_claim(project, name, content, top, made)
                return made, top
            seq = top + 1
        else:
            seq = 0
        if catalog.claim(project, name, content, seq, ContentClaim(token, time.time(), NODE, os.getpid())):
            return None, seq


def legacy_version(catalog: Catalog, project: str, name: str, legacy: Digest) -> int | None:
    """The live version logged with these entries as one manifest, by a release before shards
    (its content digest is ``legacy``): the same content, so no new version is made."""
    resolved = catalog.claims(project, name, legacy).resolved
    for seq in reversed(resolved):
        version = catalog.resolution(project, name, legacy, seq)
        if catalog.tombstone(project, name, version) is None:
            return version
    return None


def _version_with_content(catalog: Catalog, project: str, name: str, content: Digest, since: float) -> int | None:
    """A live version with this content created after ``since`` (epoch seconds), newest first."""
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


def check_type(catalog: Catalog, project: str, name: str, type_: str) -> int:
    """Refuse a version of another type than the artifact's (:class:`ArtifactTypeError`);
    return the number a new version should try (every version has the type of the first)."""
    number, below = catalog.next_number(project, name)
    if below is not None and below.type != type_:
        raise ArtifactTypeError(f"{project}/{name} has type {below.type!r}; cannot log a version of type {type_!r}")
    return number


def allocate_version(
    catalog: Catalog, project: str, name: str, make: Callable[[int], VersionRecord], number: int | None = None
) -> VersionRecord:
    """Create ``versions/<N>`` (the record ``make(N)``) with create-if-absent, trying
    ``number`` first (else the next free one); after a conflict, find the new end."""
    n = number if number is not None else catalog.next_number(project, name)[0]
    for _ in range(10_000):
        record = make(n)
        if catalog.create_version(record):
            return record
        n = catalog.next_number(project, name, after=n)[0]
    raise StoreError(f"could not allocate a version of {project}/{name} in store {catalog.url}")
