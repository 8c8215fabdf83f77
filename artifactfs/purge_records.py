"""Purge records in a store (``purged/<alg>/<hex>.msgpack``): which blobs were purged on
purpose. They are read only when asked for (one listing) or once a blob is found missing, so
a healthy store pays no request for them (the record itself is :mod:`artifactfs.markers`)."""

from __future__ import annotations

from collections.abc import Iterable

from . import layout
from .backend import Backend
from .entry import Entry
from .errors import FormatError, PurgedError, PurgedWarning
from .hashing import Digest
from .markers import PurgeRecord

__all__ = ["purged_digests", "purged_entries", "purged_error", "purged_warning", "read_purges"]


def purged_digests(backend: Backend, algorithm: str) -> set[Digest]:
    """The digests of ``algorithm`` the store has purge records for (one listing)."""
    out = set()
    for name in backend.listdir(layout.purged_dir(algorithm)):
        if not name.endswith(".msgpack"):
            continue
        try:
            out.add(Digest(algorithm, name.removesuffix(".msgpack")))
        except FormatError:
            continue  # not a record's name: nothing of ours
    return out


def read_purges(
    backend: Backend, digests: Iterable[Digest]
) -> tuple[dict[Digest, PurgeRecord], dict[str, FormatError]]:
    """The purge records of those of ``digests`` that have one, and the keys of records
    that do not decode (with why), in one round of reads."""
    keys = {layout.purge_record(d): d for d in digests}
    found: dict[Digest, PurgeRecord] = {}
    bad: dict[str, FormatError] = {}
    for key, data in (backend.read_many(keys) if keys else {}).items():
        if data is None:
            continue
        try:
            found[keys[key]] = PurgeRecord.from_bytes(data, f"purge record {key}", digest=keys[key])
        except FormatError as e:
            bad[key] = e
    return found, bad


def purged_entries(backend: Backend, entries: Iterable[Entry], algorithm: str) -> dict[str, PurgeRecord]:
    """Which of ``entries`` (a version's, of digest ``algorithm``) were purged: path -> purge
    record. One listing of the purge records; ``entries`` is not read if there are none."""
    gone = purged_digests(backend, algorithm)
    if not gone:
        return {}
    # (a reference's bytes are outside the store: nothing of it was purged)
    hit = {e.path: e.digest for e in entries if e.kind != "reference" and e.digest in gone}
    found, _ = read_purges(backend, {d for d in hit.values() if d is not None})
    return {p: found[d] for p, d in hit.items() if d in found}


def _when(record: PurgeRecord) -> str:
    by = f" by {record.user}" if record.user else ""
    why = f" ({record.reason})" if record.reason else ""
    return f"on {record.purged_at}{by}{why}"


def purged_error(record: PurgeRecord, qualified: str, path: str, url: str) -> PurgedError:
    """The error a read of the purged file ``path`` of ``qualified`` raises."""
    return PurgedError(
        f"{qualified} entry {path!r} was purged from store {url} {_when(record)}: its bytes are gone",
        path,
        record.purged_at,
        record.user,
        record.reason,
    )


def purged_warning(qualified: str, purged: dict[str, PurgeRecord]) -> PurgedWarning:
    """The warning of a download that left out the purged files ``purged`` (path -> record)."""
    paths = sorted(purged)
    shown = "; ".join(f"{p!r}, purged {_when(purged[p])}" for p in paths[:10])
    more = f"; and {len(paths) - 10:,} more" if len(paths) > 10 else ""
    return PurgedWarning(
        f"{qualified}: {len(paths):,} file(s) not downloaded, their bytes were purged from the store: {shown}{more}",
        tuple(paths),
    )
