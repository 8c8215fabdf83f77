"""Canonical msgpack encoding shared by manifests and records (no I/O)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import msgpack

from .errors import FormatError, InvalidInputError

__all__ = [
    "FORMAT_VERSION",
    "READ_FORMAT",
    "STORE_FORMAT",
    "WRITE_FORMAT",
    "Canonical",
    "canonical",
    "check_format",
    "decode",
    "encode",
    "parse_time",
    "plain",
    "timestamp",
    "utcnow",
]

FORMAT_VERSION = 1  # of the records and manifests this version writes (unchanged since format 1)
STORE_FORMAT = 2  # of the store descriptor it writes: 2 = blobs in one level of folders (docs/format.md)
READ_FORMAT = 3  # the newest format it reads (3: sharded manifests)
WRITE_FORMAT = 3  # the newest store format it makes a store when it writes what needs it


def encode(obj: Mapping[str, Any]) -> bytes:
    """Encode with map keys sorted, so equal values always give equal bytes."""
    return msgpack.packb(_sorted(obj), use_bin_type=True)  # type: ignore[no-any-return]


class _TooMany(Exception):
    pass


def decode(data: bytes, what: str, *, max_bytes: int | None = None, max_items: int | None = None) -> dict[str, Any]:
    """Decode a msgpack map; raise :class:`FormatError` naming ``what`` when that fails.

    ``max_bytes`` refuses larger input before decoding it. ``max_items`` bounds the number of
    values held in lists and maps all together (each empty list costs a byte to encode and
    ~56 to hold, so without it a few MB of input could take GBs to decode).
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise FormatError(f"cannot decode {what}: {len(data):,} bytes, more than the {max_bytes:,} allowed")
    hooks: dict[str, Any] = {}
    if max_items is not None:
        count = [0]

        def counted(container: Any) -> Any:
            count[0] += len(container) + 1
            if count[0] > max_items:
                raise _TooMany
            return container

        hooks = {"list_hook": counted, "object_hook": counted}
    try:
        obj = msgpack.unpackb(data, raw=False, strict_map_key=True, **hooks)
    except _TooMany:
        raise FormatError(f"cannot decode {what}: more than {max_items:,} values in its lists and maps") from None
    except Exception as e:  # msgpack raises several unrelated exception types
        raise FormatError(f"cannot decode {what}: {e}") from e
    if not isinstance(obj, dict):
        raise FormatError(f"cannot decode {what}: expected a map, got {type(obj).__name__}")
    return obj


def check_format(obj: Mapping[str, Any], what: str) -> None:
    fmt = obj.get("format")
    if not isinstance(fmt, int) or fmt < 1:
        raise FormatError(f"{what} has no valid format version")
    if fmt > READ_FORMAT:
        raise FormatError(
            f"{what} uses format {fmt}, but this artifactfs reads format {READ_FORMAT} at most: "
            f"upgrade artifactfs to a release that supports format {fmt}"
        )


_LEAVES = (str, int, float, bool, bytes, type(None))


class Canonical:
    """A value already put in canonical form by :func:`canonical`, passed through as it is."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def canonical(obj: Any) -> Any:
    """``obj`` with every map's keys sorted: encoding it twice then sorts it only once."""
    return _sorted(obj)


def _sorted(obj: Any) -> Any:
    # Leaves are checked inline: manifests hold hundreds of thousands of them.
    if type(obj) is Canonical:
        return obj.value
    if isinstance(obj, Mapping):
        return {k: (v if type(v) in _LEAVES else _sorted(v)) for k in sorted(obj) for v in (obj[k],)}
    if isinstance(obj, list | tuple):
        return [v if type(v) in _LEAVES else _sorted(v) for v in obj]
    return obj


def plain(value: Any, where: str = "metadata") -> Any:
    """Convert user metadata/config to msgpack-safe plain values, or raise naming the field.

    Accepts None, bool, int, float, str, bytes, date/datetime (as ISO strings), lists, tuples
    and string-keyed mappings; numpy scalars are converted through ``.item()``.
    """
    if value is None or isinstance(value, bool | str | bytes):
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**64:
            raise InvalidInputError(f"{where}: integer {value} does not fit in 64 bits")
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidInputError(f"{where}: keys must be strings, got {k!r}")
            out[k] = plain(v, f"{where}.{k}")
        return out
    if isinstance(value, list | tuple):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return plain(item(), where)
    raise InvalidInputError(f"{where}: value of type {type(value).__name__} cannot be stored ({value!r:.60})")


def utcnow() -> str:
    """Current time as an ISO 8601 UTC string with microseconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def parse_time(text: str, what: str) -> dt.datetime:
    """An ISO 8601 time from a record, timezone-aware (UTC if it names none); else FormatError."""
    try:
        t = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise FormatError(f"{what}: {text!r:.40} is not an ISO 8601 time") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def timestamp(text: str) -> float:
    """Epoch seconds of a time already checked by :func:`parse_time` (or -inf)."""
    try:
        return parse_time(text, "time").timestamp()
    except FormatError:
        return float("-inf")


# ---------------------------------------------------------------------- defensive field access
# Everything read from a store is untrusted: these return the field with the right type or
# raise FormatError naming the record and the field.
MAX_INT = 2**62


def get_str(d: Mapping[str, Any], key: str, what: str, *, optional: bool = False) -> Any:
    v = d.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str):
        raise FormatError(f"{what}: field {key!r} must be a string, got {type(v).__name__}")
    return v


def get_int(d: Mapping[str, Any], key: str, what: str, *, optional: bool = False) -> Any:
    v = d.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < MAX_INT:
        raise FormatError(f"{what}: field {key!r} must be an integer in [0, 2**62), got {v!r:.40}")
    return v


def get_map(d: Mapping[str, Any], key: str, what: str) -> dict[str, Any]:
    v = d.get(key)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise FormatError(f"{what}: field {key!r} must be a map, got {type(v).__name__}")
    return v


def get_list(d: Mapping[str, Any], key: str, what: str) -> list[Any]:
    v = d.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise FormatError(f"{what}: field {key!r} must be a list, got {type(v).__name__}")
    return v
