"""Copy artifact versions between stores (any two fsspec filesystems), with their lineage."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from fsspec.callbacks import Callback

from . import layout
from .annotation import AnnotationEvent, changes, fold
from .artifact import Artifact
from .commit import check_type, publish
from .errors import ArtifactNotFoundError, IntegrityError, RunNotFoundError
from .hashing import Digest
from .leases import commit_lease
from .manifest import Encoded, Location, Manifest
from .markers import PurgeRecord
from .packing import Packing
from .purge_records import purged_entries
from .records import ArtifactVersionId, RunRecord, VersionRecord
from .refs import LATEST
from .search import index_version
from .store import Store, open_store
from .transfer import copy_blobs, missing_blobs

__all__ = ["CopyReport", "copy", "copy_version"]


@dataclass(slots=True)
class CopyReport:
    """What a copy did: versions made or found in the destination, and what it transferred."""

    versions: list[str] = field(default_factory=list)  # destination qualified names
    new_versions: int = 0
    # Lineage that could not be copied: versions deleted in the source (their runs are still
    # copied, naming them), or that it does not hold. Destination lineage shows them as
    # "(not in this store)".
    deleted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    blobs: int = 0
    bytes: int = 0
    runs: int = 0
    # Files whose bytes were purged from the source ("project/name:vN: path"): not copied,
    # their purge records are, so the destination shows them purged too.
    purged: list[str] = field(default_factory=list)


def _store(s: Store | str) -> Store:
    return s if isinstance(s, Store) else open_store(s)


def copy_version(
    src: Store,
    dst: Store,
    art: Artifact,
    report: CopyReport,
    callback: Callback | None,
    *,
    origin: bool = True,
    renamed: Mapping[ArtifactVersionId, ArtifactVersionId] | None = None,
) -> VersionRecord:
    """Copy one version's blobs, manifest and record (naming where it came from, unless not
    ``origin``); returns the destination's record. ``renamed`` gives upstream versions their
    names in the destination (a synced spool's): the manifest is then written anew with them,
    its entries and shards as they are."""
    ident = art.version_id
    what = f"copy of {art.qualified_name}"
    manifest = art.manifest  # decoded from the bytes sent, and checked to be this version's
    rec = src.catalog.version(ident.project, ident.name, ident.version)
    try:  # the same bytes, root and shards, so the destination names it by the same digest
        data = src.catalog.manifest_bytes(ident.manifest)
        newer = manifest.sharded or any(e.where is not None for e in manifest.entries)
        enc = Encoded(data, rec.content, src.catalog.shard_objects(manifest), format=3 if newer else 1)
    except IntegrityError as e:
        raise IntegrityError(f"{what}: {e}") from None
    if renamed and any(u in renamed for u in manifest.upstream):
        manifest, enc = _renamed(manifest, enc, renamed)
    sizes: dict[Digest, int] = {}
    where: dict[Digest, Location] = {}
    for entry in manifest.iter_entries():
        if entry.kind != "reference" and entry.digest is not None:
            sizes[entry.digest] = entry.size
            if entry.where is not None:
                where[entry.digest] = entry.where
    check_type(dst.catalog, ident.project, ident.name, manifest.type)
    came_from = {
        "store": src.url,
        "project": ident.project,
        "name": ident.name,
        "version": ident.version,
        "manifest": str(ident.manifest),
    }
    with commit_lease(dst.backend, dst.lease_ttl) as lease:  # the blobs found in dst stay until published
        gone = _purged(src, dst, manifest, sizes, where)
        report.purged += [f"{art.qualified_name}: {p}" for p in sorted(gone)]
        packed = dst.catalog.require_store().format >= 3
        present = set(dst.packs.find(src.algorithm, sizes)) if packed else set()
        packing = Packing(dst.packs, packed, lambda: dst.catalog.require_format(3))
        n, nbytes = copy_blobs(src.backend, dst.backend, sizes, what, callback, where, present, packing)
        report.blobs += n
        report.bytes += nbytes
        new, is_new = publish(
            dst,
            manifest,
            enc,
            project=ident.project,
            run_project=rec.run_project,
            run_id=rec.run_id,
            aliases=[],
            origin=came_from if origin else None,
            content=enc.content,
            lease=lease,
            drafted_from=rec.drafted_from,
        )
    _copy_annotations(src, dst, manifest, rec, new)
    report.versions.append(new.qualified_name)
    report.new_versions += int(is_new)
    return new


def _purged(
    src: Store, dst: Store, manifest: Manifest, sizes: dict[Digest, int], where: dict[Digest, Location]
) -> dict[str, PurgeRecord]:
    """The files of ``manifest`` purged from ``src`` (path -> record), taken out of ``sizes``
    and ``where``: their bytes are not copied (those of an unfinished purge neither). Their
    purge records are, where ``dst`` lacks the bytes, before the version is published: its
    verify is then clean, and its readers say the files were purged."""
    gone = purged_entries(src.backend, manifest.iter_entries(), manifest.algorithm)
    records = {r.digest: r for r in gone.values()}
    if not records:
        return gone
    lacking = missing_blobs(dst.backend, {d: sizes[d] for d in records if d in sizes})
    if lacking and dst.catalog.require_store().format >= 3:
        lacking -= set(dst.packs.find(src.algorithm, lacking))
    for d in records:
        sizes.pop(d, None)
        where.pop(d, None)
    for d in lacking:
        dst.backend.create(layout.purge_record(d), records[d].to_bytes())  # (there already: kept)
    return gone


def _copy_annotations(src: Store, dst: Store, manifest: Manifest, rec: VersionRecord, new: VersionRecord) -> None:
    """Make what is said of ``new`` in ``dst`` what is said of ``rec`` in ``src`` (tags,
    description, metadata), in one event naming the source's newest; nothing when they agree."""
    events = src.catalog.annotations(rec.project, rec.name, rec.version)
    if not events:
        return
    want = fold(manifest.description, manifest.metadata, events)
    have = fold(manifest.description, manifest.metadata, dst.catalog.annotations(new.project, new.name, new.version))
    last = events[-1]
    wanted = {"description": want.description, "metadata": want.metadata, "tags": want.tags}
    event = AnnotationEvent(new.version, last.created_at, last.run_id, last.user, **changes(have, wanted))
    if not event.empty:
        seq = dst.catalog.annotate(new.project, new.name, new.version, event)
        index_version(dst.backend, new, want.description, want.metadata, events=seq + 1, tags=want.tags)


def _copy_link(src: Store, dst: Store, art: Artifact, report: CopyReport) -> None:
    """Link in ``dst`` the copy of the version ``art`` links to, into the same collection,
    with ``art``'s aliases and annotations; nothing when the source could not be copied."""
    source = art.linked_from
    assert source is not None
    number = dst.catalog.find_version(source)
    if number is None:
        return  # deleted or missing in the source store: the report says so already
    aliases = [a for a in art.aliases if a != LATEST]
    new = dst.link(f"{source.project}/{source.name}:v{number}", art.name, aliases=aliases)
    rec = src.catalog.version(art.project, art.name, art.version_number)
    made = dst.catalog.version(new.project, new.name, new.version_number)
    _copy_annotations(src, dst, art.manifest, rec, made)
    report.versions.append(new.qualified_name)
    report.new_versions += int(new.is_new)


def _renamed(
    manifest: Manifest, enc: Encoded, renamed: Mapping[ArtifactVersionId, ArtifactVersionId]
) -> tuple[Manifest, Encoded]:
    """``manifest`` naming its upstream versions by ``renamed``: new bytes and content digest."""
    up = tuple(renamed.get(u, u) for u in manifest.upstream)
    m = manifest
    if m.sharded:
        new = Manifest(m.name, m.type, (), m.description, dict(m.metadata), up, m.algorithm, shards=m.shards)
    else:
        new = Manifest(m.name, m.type, m.entries, m.description, dict(m.metadata), up, m.algorithm)
    fresh = new.encode()
    return new, dataclasses.replace(fresh, shards=fresh.shards or enc.shards, format=max(fresh.format, enc.format))


def _copy_run(src: Store, dst: Store, run: RunRecord, report: CopyReport) -> None:
    if dst.catalog.add_run(run):
        report.runs += 1
    for used in run.inputs:
        target = dst.catalog.find_version(used)
        if target is not None:
            dst.catalog.mark_used(used.project, used.name, target, run.project, run.id)


def copy(
    ref: str,
    src: Store | str,
    dst: Store | str,
    *,
    with_lineage: bool = False,
    all_versions: bool = False,
    callback: Callback | None = None,
) -> CopyReport:
    """Copy ``project/name:tag`` from ``src`` to ``dst`` (stores or URLs).

    Only the blobs the destination lacks are sent, each verified against its digest on the
    way; the destination gets the same manifest (the identity of a version) and a version
    record naming its origin. Copying a version twice makes nothing new the second time.
    ``with_lineage`` brings the upstream closure too (referenced versions, and the runs that
    logged them with their inputs), so lineage queries in ``dst`` show the same graph;
    ``all_versions`` copies every version of the artifact.
    """
    s, d = _store(src), _store(dst)
    d.catalog.ensure_store()
    first = s.artifact(ref)
    todo = s.versions(first.project, first.name) if all_versions else [first]
    report = CopyReport()
    seen: set[ArtifactVersionId] = set()
    runs: dict[str, RunRecord] = {}

    def visit_id(ident: ArtifactVersionId) -> None:
        try:
            art = s.resolve(ident)
        except ArtifactNotFoundError:
            if ident.qualified_name not in report.missing:
                report.missing.append(ident.qualified_name)
            return
        visit(art)

    def visit(art: Artifact) -> None:
        ident = art.version_id
        if ident in seen:
            return
        seen.add(ident)
        if art.deleted:  # deletion is supported: copy what still exists, say what does not
            report.deleted.append(art.qualified_name)
            return
        if art.linked_from is not None:  # a registry version: its source first, then the link
            visit_id(art.linked_from)
            _copy_link(s, d, art, report)
            return
        if with_lineage:
            for up in [*art.manifest.upstream, *([art.drafted_from] if art.drafted_from else [])]:
                visit_id(up)
            run = None
            with contextlib.suppress(RunNotFoundError):
                run = art.logged_by()
            if run is not None and run.id not in runs:
                runs[run.id] = run
                for used in run.inputs:
                    visit_id(used)
        copy_version(s, d, art, report, callback)

    for art in todo:
        visit(art)
    for run in runs.values():
        _copy_run(s, d, run, report)
    return report
