"""Annotations of a version: tags, and a description and metadata that can change after it
was logged, as append-only events beside it (no I/O here: the event record and how events
fold into the current state).

An annotation never touches the manifest or the content digest: the version is the same
version, whatever is said about it later. The state is the manifest's description and
metadata, then each event in order: ``description`` and ``metadata`` replace what was there
when the event holds them, ``add_tags`` and ``remove_tags`` change the set of tags.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import codec
from .errors import FormatError, InvalidInputError, InvalidNameError
from .fields import agree, load, time_field
from .frozen import freeze
from .refs import check_name

__all__ = ["AnnotationEvent", "AnnotationState", "changes", "check_tags", "current_user", "fold"]


def check_tags(tags: Iterable[str] | str, what: str = "tag") -> tuple[str, ...]:
    """Tags as given, checked as names (each becomes part of index records), without repeats."""
    if isinstance(tags, str):
        tags = [tags]
    out: list[str] = []
    for t in tags:
        if not isinstance(t, str):
            raise InvalidInputError(f"a {what} must be a string, got {type(t).__name__}")
        check_name(t, what)
        if t not in out:
            out.append(t)
    return tuple(out)


def current_user() -> str | None:
    """Who is annotating, as the operating system names them (None when it cannot say)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


_UNSET: Any = object()


@dataclass(frozen=True)
class AnnotationEvent:
    """``annotations/<N>/<seq>``: what was said of version N, when, and by which run or user."""

    version: int
    created_at: str
    run_id: str | None = None
    user: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    description: Any = _UNSET  # str | None when set (None clears it)
    metadata: Mapping[str, Any] | None = None  # replaces the metadata when set

    @property
    def sets_description(self) -> bool:
        return self.description is not _UNSET

    @property
    def empty(self) -> bool:
        return not (self.add_tags or self.remove_tags or self.sets_description or self.metadata is not None)

    def to_bytes(self) -> bytes:
        d: dict[str, Any] = {
            "format": codec.FORMAT_VERSION,
            "kind": "annotation",
            "version": self.version,
            "created_at": self.created_at,
            "run": self.run_id,
            "user": self.user,
            "add_tags": list(self.add_tags),
            "remove_tags": list(self.remove_tags),
        }
        if self.sets_description:
            d["description"] = self.description
        if self.metadata is not None:
            d["metadata"] = codec.plain(dict(self.metadata), "metadata")
        return codec.encode(d)

    @classmethod
    def from_bytes(cls, data: bytes, what: str, *, version: int) -> AnnotationEvent:
        """Decode an event read from the folder of ``version``."""
        d = load(data, what, "annotation")
        try:
            add = check_tags(_list(d, "add_tags", what))
            remove = check_tags(_list(d, "remove_tags", what))
        except (InvalidNameError, InvalidInputError) as e:
            raise FormatError(f"{what}: {e}") from None
        ev = cls(
            codec.get_int(d, "version", what),
            time_field(d, "created_at", what),
            codec.get_str(d, "run", what, optional=True),
            codec.get_str(d, "user", what, optional=True),
            add,
            remove,
            codec.get_str(d, "description", what, optional=True) if "description" in d else _UNSET,
            codec.get_map(d, "metadata", what) if "metadata" in d else None,
        )
        agree(what, ev.version, version, "version")
        return ev


def _list(d: dict[str, Any], key: str, what: str) -> list[Any]:
    v = d.get(key, [])
    if not isinstance(v, list):
        raise FormatError(f"{what}: field {key!r} must be a list, got {type(v).__name__}")
    return v


@dataclass(frozen=True)
class AnnotationState:
    """What is said of a version now: its tags, description and metadata."""

    description: str | None
    metadata: dict[str, Any]  # frozen
    tags: tuple[str, ...] = ()
    events: tuple[AnnotationEvent, ...] = field(default=(), repr=False)


def fold(description: str | None, metadata: Mapping[str, Any], events: Iterable[AnnotationEvent]) -> AnnotationState:
    """The state after ``events`` (in order) over what the manifest says."""
    tags: list[str] = []
    seen = []
    for ev in events:
        seen.append(ev)
        if ev.sets_description:
            description = ev.description
        if ev.metadata is not None:
            metadata = ev.metadata
        tags = [t for t in tags if t not in ev.remove_tags]
        tags += [t for t in ev.add_tags if t not in tags]
    return AnnotationState(description, freeze(dict(metadata)), tuple(sorted(tags)), tuple(seen))


def changes(now: AnnotationState, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The event fields taking ``now`` to ``wanted`` (any of ``description``, ``metadata``,
    ``tags``); only what differs."""
    out: dict[str, Any] = {}
    if "description" in wanted and wanted["description"] != now.description:
        out["description"] = wanted["description"]
    if "metadata" in wanted and dict(wanted["metadata"]) != dict(now.metadata):
        out["metadata"] = wanted["metadata"]
    if "tags" in wanted:
        out["add_tags"] = tuple(t for t in wanted["tags"] if t not in now.tags)
        out["remove_tags"] = tuple(t for t in now.tags if t not in wanted["tags"])
    return out
