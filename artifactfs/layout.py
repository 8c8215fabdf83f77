"""Every key of the on-store layout (format 1), relative to the store root.

This is the only module that builds store keys; see ``docs/format.md``.
"""

from __future__ import annotations

import re

from .errors import FormatError
from .hashing import Digest

__all__ = [
    "DESCRIPTOR",
    "alias_dir",
    "alias_event",
    "annotation_event",
    "annotations_dir",
    "artifact_dir",
    "artifacts_dir",
    "blob",
    "blob_shard",
    "blobs_dir",
    "claim",
    "claim_dir",
    "claim_marker",
    "commit_lease",
    "commit_leases_dir",
    "gc_lock",
    "gc_locks_dir",
    "manifest",
    "parse_marker_digest",
    "parse_seq",
    "place",
    "project_dir",
    "purge_record",
    "purged_dir",
    "referenced_by_dir",
    "referenced_by_marker",
    "retention_dir",
    "retention_event",
    "run_record",
    "tombstone",
    "tombstones_dir",
    "unplace",
    "runs_dir",
    "used_by_dir",
    "used_by_marker",
    "version_record",
    "version_hint",
    "versions_dir",
    "alias_hint",
    "deleted_tail",
    "event",
    "part",
    "part_finished",
    "part_writing",
    "parts_dir",
]

DESCRIPTOR = "artifactfs.msgpack"
SEQ_WIDTH = 10


def _seq(n: int) -> str:
    return f"{n:0{SEQ_WIDTH}d}"


def event(folder: str, seq: int) -> str:
    """Event ``seq`` of an append-only folder of events (annotations, retention policies)."""
    return f"{folder}/{_seq(seq)}.msgpack"


def parse_seq(basename: str) -> int | None:
    """``0000000003.msgpack`` -> 3; None for names that are not sequence records."""
    stem = basename.removesuffix(".msgpack")
    return int(stem) if len(stem) == SEQ_WIDTH and stem.isdigit() else None


def blob(d: Digest) -> str:
    return f"blobs/{d.algorithm}/{d.hex[:2]}/{d.hex[2:4]}/{d.hex}"


_TWO_LEVELS = re.compile(r"blobs/([a-z0-9]+)/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_ONE_LEVEL = re.compile(r"blobs/([a-z0-9]+)/([0-9a-f]{2})/([0-9a-f]{64})")


def place(key: str, levels: int) -> str:
    """Where the blob ``key`` (as :func:`blob` builds it) sits in a store whose blobs have
    ``levels`` folder levels: ``blobs/<alg>/<ab>/<hex>`` for one (stores made by this release,
    and the local blob cache), the key itself for two. Every module but this one is blind
    to the layout, so copies between stores of either layout just work."""
    if levels == 1 and (m := _TWO_LEVELS.fullmatch(key)):
        return f"blobs/{m[1]}/{m[2]}/{m[4]}"
    return key


def unplace(relative: str, levels: int) -> str:
    """The key of the blob file found at ``relative`` (the inverse of :func:`place`)."""
    if levels == 1 and (m := _ONE_LEVEL.fullmatch(relative)):
        return f"blobs/{m[1]}/{m[2]}/{m[3][2:4]}/{m[3]}"
    return relative


def blobs_dir(algorithm: str) -> str:
    """The folder of every blob of ``algorithm`` (its listing names the non-empty shards)."""
    return f"blobs/{algorithm}"


def blob_shard(d: Digest) -> str:
    """The folder of blobs sharing ``d``'s first two hex digits (one listing holds them)."""
    return f"blobs/{d.algorithm}/{d.hex[:2]}"


def manifest(d: Digest) -> str:
    return f"manifests/{d.algorithm}/{d.hex[:2]}/{d.hex}.msgpack"


def packs_dir(algorithm: str) -> str:
    """The folder of every pack and pack index of ``algorithm`` (one listing names them all)."""
    return f"packs/{algorithm}"


def pack(d: Digest) -> str:
    return f"packs/{d.algorithm}/{d.hex}.pack"


def pack_index(d: Digest) -> str:
    """The index of the pack ``d``: which blobs it holds, where."""
    return f"packs/{d.algorithm}/{d.hex}.index"


def pack_moved(d: Digest) -> str:
    """Where the blobs of the pack ``d`` went when it was repacked or copied without it."""
    return f"packs/{d.algorithm}/{d.hex}.moved"


def purged_dir(algorithm: str) -> str:
    """The folder of every purge record of ``algorithm`` (one listing names them all)."""
    return f"purged/{algorithm}"


def purge_record(d: Digest) -> str:
    """Says the blob ``d`` was purged on purpose: what, when, by whom and why."""
    return f"{purged_dir(d.algorithm)}/{d.hex}.msgpack"


def projects_dir() -> str:
    return "projects"


def project_dir(project: str) -> str:
    return f"projects/{project}"


def artifacts_dir(project: str) -> str:
    return f"projects/{project}/artifacts"


def artifact_dir(project: str, name: str) -> str:
    return f"projects/{project}/artifacts/{name}"


def versions_dir(project: str, name: str) -> str:
    return f"{artifact_dir(project, name)}/versions"


def version_record(project: str, name: str, number: int) -> str:
    return f"{versions_dir(project, name)}/{_seq(number)}.msgpack"


def version_hint(project: str, name: str) -> str:
    """The newest version number its writer saw: a hint, overwritten, never trusted (hints.py)."""
    return f"{artifact_dir(project, name)}/hints/latest.msgpack"


def tombstones_dir(project: str, name: str) -> str:
    return f"{artifact_dir(project, name)}/tombstones"


def tombstone(project: str, name: str, number: int) -> str:
    """Marks version ``number`` deleted; the version record itself is never rewritten."""
    return f"{tombstones_dir(project, name)}/{_seq(number)}.msgpack"


def deleted_tail(project: str, name: str, number: int) -> str:
    """Says which versions up to ``number`` are all deleted (hints.DeletedTail)."""
    return f"{artifact_dir(project, name)}/hints/tail-{_seq(number)}.msgpack"


def claim_dir(project: str, name: str, content: Digest) -> str:
    """Dedup claims for one content digest (see docs/format.md, commit protocol)."""
    return f"{artifact_dir(project, name)}/digests/{content.algorithm}-{content.hex}"


def claim(project: str, name: str, content: Digest, seq: int) -> str:
    """The resolution of claim ``seq``: which version it became."""
    return f"{claim_dir(project, name, content)}/{_seq(seq)}.msgpack"


def claim_marker(project: str, name: str, content: Digest, seq: int) -> str:
    """Claim ``seq``: a writer is making a version with this content."""
    return f"{claim_dir(project, name, content)}/{_seq(seq)}.claim"


def alias_dir(project: str, name: str, alias: str) -> str:
    return f"{artifact_dir(project, name)}/aliases/{alias}"


def aliases_dir(project: str, name: str) -> str:
    return f"{artifact_dir(project, name)}/aliases"


def alias_event(project: str, name: str, alias: str, seq: int) -> str:
    return f"{alias_dir(project, name, alias)}/{_seq(seq)}.msgpack"


def annotations_dir(project: str, name: str, number: int) -> str:
    """Annotation events of version ``number``: tags, description and metadata set later."""
    return f"{artifact_dir(project, name)}/annotations/{_seq(number)}"


def annotation_event(project: str, name: str, number: int, seq: int) -> str:
    return f"{annotations_dir(project, name, number)}/{_seq(seq)}.msgpack"


def alias_hint(project: str, name: str, alias: str) -> str:
    """The alias's newest event its writer saw: a hint, overwritten, never trusted (hints.py)."""
    return f"{artifact_dir(project, name)}/hints/alias-{alias}.msgpack"


def retention_dir(project: str, name: str | None = None) -> str:
    """Retention policy events of a project (``name`` None) or of one artifact."""
    return f"{artifact_dir(project, name) if name is not None else project_dir(project)}/retention"


def retention_event(project: str, name: str | None, seq: int) -> str:
    return f"{retention_dir(project, name)}/{_seq(seq)}.msgpack"


def parts_dir(project: str, name: str, distributed_id: str) -> str:
    """The parts of one version being written by several writers (distributed.py)."""
    return f"parts/{project}/{name}/{distributed_id}"


def part(project: str, name: str, distributed_id: str, content: Digest) -> str:
    return f"{parts_dir(project, name, distributed_id)}/{content.algorithm}-{content.hex}.msgpack"


def part_writing(project: str, name: str, distributed_id: str, token: str) -> str:
    """Held by a writer while it sends its part."""
    return f"{parts_dir(project, name, distributed_id)}/writing-{token}.msgpack"


def part_finished(project: str, name: str, distributed_id: str) -> str:
    return f"{parts_dir(project, name, distributed_id)}/finished.msgpack"


def runs_dir(project: str) -> str:
    return f"projects/{project}/runs"


def run_record(project: str, run_id: str) -> str:
    return f"{runs_dir(project)}/{run_id}.msgpack"


def used_by_dir(project: str, name: str, number: int) -> str:
    return f"projects/{project}/used-by/{name}/{_seq(number)}"


def referenced_by_dir(project: str, name: str, number: int) -> str:
    return f"projects/{project}/referenced-by/{name}/{_seq(number)}"


def referenced_by_marker(project: str, name: str, number: int, by: Digest) -> str:
    """Marks that the version whose manifest is ``by`` references ``project/name:vN``."""
    return f"{referenced_by_dir(project, name, number)}/{by.algorithm}-{by.hex}"


def parse_marker_digest(basename: str, what: str) -> Digest:
    """``blake3-<hex>`` (the name of a referenced-by marker) -> its digest."""
    algorithm, sep, hex_ = basename.partition("-")
    if not sep:
        raise FormatError(f"{what}: the name {basename!r} is not <algorithm>-<hex>")
    return Digest(algorithm, hex_)


def used_by_marker(project: str, name: str, number: int, run_id: str) -> str:
    return f"{used_by_dir(project, name, number)}/{run_id}"


def commit_leases_dir() -> str:
    return "locks/commits"


def commit_lease(lease_id: str) -> str:
    """Held by one commit while it relies on blobs and manifests already in the store."""
    return f"{commit_leases_dir()}/{lease_id}.msgpack"


def gc_locks_dir() -> str:
    return "locks/gc"


def gc_lock(lease_id: str) -> str:
    """Held by a gc while it deletes; a gc deletes only while it holds the only live one."""
    return f"{gc_locks_dir()}/{lease_id}.msgpack"
