"""The commit protocol of ``log_artifact``: blobs, then manifest, then one version record.

See docs/format.md. Every step before the version record is idempotent and invisible to
readers, so a writer that dies at any point leaves no visible version.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from . import codec, layout
from .artifact import Artifact, Staged
from .errors import ArtifactTypeError, LocalPathNotFoundError, StoreError
from .hashing import Digest, hash_stream
from .manifest import Entry, Manifest
from .records import AliasEvent, VersionRecord

if TYPE_CHECKING:
    from .store import Store

__all__ = ["commit"]

_POLL = 0.05


def _hash_entries(store: Store, draft: Artifact) -> tuple[list[Entry], dict[Digest, str]]:
    """Hash staged files in parallel; return entries and digest -> a local source path."""
    algorithm = store.algorithm
    sources: dict[Digest, str] = {}

    def one(item: tuple[str, object]) -> Entry:
        path, staged = item
        assert isinstance(staged, Staged)
        if staged.entry is not None:
            return Entry(path, staged.entry.digest, staged.entry.size, staged.entry.kind, staged.entry.extra)
        assert staged.local is not None
        try:
            with open(staged.local, "rb") as f:
                digest, size = hash_stream(f, algorithm)
        except FileNotFoundError as e:
            raise LocalPathNotFoundError(f"{staged.local} was removed before it could be logged") from e
        return Entry(path, digest, size, staged.kind, staged.extra)

    with ThreadPoolExecutor(store.workers) as pool:
        entries = list(pool.map(one, sorted(draft._staged.items())))
    for (_, staged), entry in zip(sorted(draft._staged.items()), entries, strict=True):
        if staged.local is not None and entry.digest is not None:
            sources.setdefault(entry.digest, str(staged.local))
    return entries, sources


def _upload_missing(store: Store, sources: dict[Digest, str]) -> int:
    """Upload the blobs the store lacks; return how many were uploaded."""
    backend = store.backend
    keys = {d: layout.blob(d) for d in sources}
    with ThreadPoolExecutor(store.workers) as pool:
        present = dict(zip(keys, pool.map(backend.exists, keys.values()), strict=True))
        missing = [d for d, ok in present.items() if not ok]
        list(pool.map(lambda d: backend.put_file(sources[d], keys[d]), missing))
    return len(missing)


def _claim_content(store: Store, project: str, name: str, content: Digest) -> tuple[int | None, int]:
    """Claim the right to make a version with this content.

    Returns ``(existing_version, seq)``: the version that already holds this content (and the
    claim seq it came from), or ``(None, seq)`` once this writer holds claim ``seq``.
    A claim left by a writer that died (older than the lease, never resolved) is superseded by
    claiming the next sequence number.
    """
    backend = store.backend
    cdir = layout.claim_dir(project, name, content)
    deadline: float | None = None
    token = uuid.uuid4().hex
    while True:
        names = backend.listdir(cdir)
        claims = sorted(int(n[:-6]) for n in names if n.endswith(".claim") and n[:-6].isdigit())
        done = sorted(s for n in names if (s := layout.parse_seq(n)) is not None)
        if done:
            rec = codec.decode(backend.read(f"{cdir}/{done[-1]:010d}.msgpack"), "content claim")
            return int(rec["version"]), done[-1]
        if claims:
            top = claims[-1]
            claim = codec.decode(backend.read(f"{cdir}/{top:010d}.claim"), "content claim")
            age = time.time() - float(claim.get("time", 0))
            if age < store.claim_lease:
                # Another writer is committing this content right now: wait for its version.
                if deadline is None:
                    deadline = time.monotonic() + store.claim_lease
                if time.monotonic() < deadline:
                    time.sleep(_POLL)
                    continue
            seq = top + 1
        else:
            seq = 0
        claim_bytes = codec.encode({"format": codec.FORMAT_VERSION, "token": token, "time": time.time()})
        if backend.create(f"{cdir}/{seq:010d}.claim", claim_bytes):
            return None, seq


def commit(
    store: Store,
    draft: Artifact,
    *,
    project: str,
    run_project: str | None,
    run_id: str | None,
    aliases: list[str],
) -> tuple[VersionRecord, bool]:
    """Log ``draft`` as the next version of ``project/draft.name``.

    Returns the version record and whether it is new (False when identical content already
    had a version, which is then returned).
    """
    backend = store.backend
    store._ensure_writable()
    entries, sources = _hash_entries(store, draft)
    manifest = Manifest(
        name=draft.name,
        type=draft.type,
        entries=tuple(entries),
        description=draft.description,
        metadata=draft.metadata,
        upstream=tuple(draft._upstream),
        algorithm=store.algorithm,
    )
    _check_type(store, project, draft.name, draft.type)
    _upload_missing(store, sources)
    manifest_bytes = manifest.to_bytes()
    manifest_digest = manifest.digest()
    mkey = layout.manifest(manifest_digest)
    if not backend.exists(mkey):
        backend.write(mkey, manifest_bytes)
    content = manifest.content_digest

    existing, seq = _claim_content(store, project, draft.name, content)
    if existing is not None:
        record = store._version_record(project, draft.name, existing)
        is_new = False
    else:
        record = _allocate_version(
            store, project, draft.name, draft.type, manifest, manifest_digest, run_project, run_id
        )
        resolution = codec.encode({"format": codec.FORMAT_VERSION, "version": record.version})
        backend.create(f"{layout.claim_dir(project, draft.name, content)}/{seq:010d}.msgpack", resolution)
        is_new = True
    for alias in aliases:
        set_alias(store, project, draft.name, alias, record.version, run_id)
    return record, is_new


def _check_type(store: Store, project: str, name: str, type_: str) -> None:
    numbers = store._version_numbers(project, name)
    if numbers:
        existing = store._version_record(project, name, numbers[-1]).type
        if existing != type_:
            raise ArtifactTypeError(f"{project}/{name} has type {existing!r}; cannot log a version of type {type_!r}")


def _allocate_version(
    store: Store,
    project: str,
    name: str,
    type_: str,
    manifest: Manifest,
    manifest_digest: Digest,
    run_project: str | None,
    run_id: str | None,
) -> VersionRecord:
    """Create ``versions/<N+1>`` with create-if-absent, retrying on conflict."""
    backend = store.backend
    numbers = store._version_numbers(project, name)
    n = numbers[-1] + 1 if numbers else 0
    for _ in range(10_000):
        record = VersionRecord(
            project=project,
            name=name,
            version=n,
            type=type_,
            manifest=manifest_digest,
            content=manifest.content_digest,
            size=manifest.size,
            file_count=len(manifest.entries),
            created_at=codec.utcnow(),
            run_project=run_project,
            run_id=run_id,
        )
        if backend.create(layout.version_record(project, name, n), record.to_bytes()):
            return record
        n += 1
    raise StoreError(f"could not allocate a version of {project}/{name} in store {store.url}")


def set_alias(store: Store, project: str, name: str, alias: str, version: int | None, run_id: str | None) -> None:
    """Append an alias event pointing ``alias`` at ``version`` (None removes the alias)."""
    backend = store.backend
    adir = layout.alias_dir(project, name, alias)
    seqs = [s for n in backend.listdir(adir) if (s := layout.parse_seq(n)) is not None]
    seq = max(seqs) + 1 if seqs else 0
    while True:
        event = AliasEvent(alias, version, codec.utcnow(), run_id)
        if backend.create(layout.alias_event(project, name, alias, seq), event.to_bytes()):
            return
        seq += 1
