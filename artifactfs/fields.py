"""Decoding record fields from untrusted bytes: size bounds, names, times, digests, numbers,
and a record's agreement with the key it was read from (no I/O)."""

from __future__ import annotations

from typing import Any

from . import codec
from .errors import FormatError, InvalidInputError, InvalidNameError, MisplacedRecordError
from .hashing import Digest
from .refs import check_name

__all__ = [
    "MAX_BYTES",
    "MAX_ITEMS",
    "agree",
    "check_size",
    "digest_field",
    "load",
    "name_field",
    "number_field",
    "time_field",
]

# The largest record of each kind a reader accepts (and a writer writes). Runs hold the user's
# config and every version a run used or logged; the rest are a few hundred bytes.
MAX_BYTES = {
    "store": 64 << 10,
    "version": 64 << 10,
    "alias": 4 << 10,
    "annotation": 1 << 20,  # metadata set after logging may be as large as a manifest's
    "index": 1 << 20,  # a version's state, for search
    "index-segment": 64 << 20,  # the names of the index records a segment holds
    "tombstone": 16 << 10,
    "retention": 16 << 10,  # a retention policy: two numbers and a few aliases
    "part": 4 << 10,  # a part of a version several writers make: two digests and a count
    "purge": 32 << 10,  # a path of up to 1,024 characters and a reason of up to 4,000
    "claim": 4 << 10,
    "resolution": 4 << 10,
    "used-by": 4 << 10,
    "referenced-by": 4 << 10,
    "lease": 4 << 10,
    "hint": 4 << 10,
    "tail": 4 << 10,
    "run": 16 << 20,
    "manifest": 1 << 30,  # one manifest written before shards existed could be this large
    "shard": 1 << 28,
    "pack-index": 64 << 20,
    "pack-moved": 64 << 20,  # ~1 MiB, but one entry (a huge table's block digests) may pass that
}
MAX_ITEMS = 1_000_000  # values in all the lists and maps of one run record (see codec.decode)


def check_size(kind: str, data: bytes, what: str) -> bytes:
    """Refuse to write a record that readers would refuse: :class:`InvalidInputError`."""
    if len(data) > MAX_BYTES[kind]:
        raise InvalidInputError(
            f"{what} would take {len(data):,} bytes, more than the {MAX_BYTES[kind]:,} a {kind} record may hold"
        )
    return data


def load(data: bytes, what: str, kind: str) -> dict[str, Any]:
    d = codec.decode(data, what, max_bytes=MAX_BYTES[kind], max_items=MAX_ITEMS if kind == "run" else None)
    codec.check_format(d, what)
    found = d.get("kind")
    if found is not None and found != kind:
        raise FormatError(f"{what}: is a {found!r} record, not a {kind!r} record")
    return d


def name_field(d: dict[str, Any], key: str, what: str, *, optional: bool = False) -> Any:
    """A field that must be a valid name (it becomes part of store keys)."""
    v = codec.get_str(d, key, what, optional=optional)
    if v is None:
        return None
    try:
        return check_name(v, key)
    except InvalidNameError as e:
        raise FormatError(f"{what}: {e}") from None


def time_field(d: dict[str, Any], key: str, what: str, *, optional: bool = False) -> Any:
    """A field that must be an ISO 8601 time (kept as the string it is)."""
    v = codec.get_str(d, key, what, optional=optional)
    if v is not None:
        codec.parse_time(v, f"{what}: field {key!r}")
    return v


def digest_field(d: dict[str, Any], key: str, what: str) -> Digest:
    return Digest.parse(codec.get_str(d, key, what))


def number_field(d: dict[str, Any], key: str, what: str, *, positive: bool = False) -> float:
    v = d.get(key)
    if not isinstance(v, int | float) or isinstance(v, bool) or v != v or abs(v) == float("inf"):
        raise FormatError(f"{what}: field {key!r} must be a finite number, got {v!r:.40}")
    if positive and not 0 < v < 2**31:
        raise FormatError(f"{what}: field {key!r} must be a positive number of seconds, got {v!r:.40}")
    return float(v)


def agree(what: str, found: object, expected: object, field_name: str) -> None:
    if found != expected:
        raise MisplacedRecordError(f"{what}: says its {field_name} is {found!r}, but its key says {expected!r}")
