"""Retention policies kept in the store (no I/O here): ``keep_last``, ``older_than`` and
protected aliases, set on a project or on one artifact as append-only events (the newest
wins; an event with nothing set clears the policy), each naming who set it and when."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from . import codec
from .errors import FormatError, InvalidInputError
from .fields import load, time_field
from .refs import check_alias
from .settings import parse_duration

__all__ = ["RetentionPolicy", "policy_fields"]


@dataclass(frozen=True)
class RetentionPolicy:
    """What retention keeps of each artifact it applies to: the newest ``keep_last`` versions,
    versions younger than ``older_than`` (a duration such as ``"30d"``), and versions an alias
    of ``protect`` points at (never deleted, whatever ``force`` says). ``scope`` is where it
    was set: ``"project"`` or ``"artifact"``."""

    keep_last: int | None = None
    older_than: str | None = None
    protect: tuple[str, ...] = ()
    set_at: str | None = None
    user: str | None = None
    scope: str = "project"

    def __post_init__(self) -> None:
        keep = self.keep_last
        if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 1):
            raise InvalidInputError(f"keep_last must be an integer >= 1, got {keep!r}")
        if self.older_than is not None:
            if not isinstance(self.older_than, str):
                raise InvalidInputError(f"older_than must be a duration such as '30d', got {self.older_than!r}")
            parse_duration(self.older_than, "older_than")
        if isinstance(self.protect, str) or not all(isinstance(a, str) for a in self.protect):
            raise InvalidInputError(f"protect must be a list of aliases, got {self.protect!r}")
        object.__setattr__(self, "protect", tuple(dict.fromkeys(check_alias(a) for a in self.protect)))

    @property
    def empty(self) -> bool:
        """Nothing set: a cleared policy."""
        return self.keep_last is None and self.older_than is None and not self.protect

    def cut_off(self, now: dt.datetime | None = None) -> dt.datetime | None:
        """Versions created before this time are old enough to delete (None: any age)."""
        if self.older_than is None:
            return None
        return (now or dt.datetime.now(dt.UTC)) - parse_duration(self.older_than, "older_than")

    def describe(self) -> str:
        parts = []
        if self.keep_last is not None:
            parts.append(f"keep the last {self.keep_last}")
        if self.older_than is not None:
            parts.append(f"delete only versions older than {self.older_than}")
        if self.protect:
            parts.append(f"never delete versions aliased {', '.join(self.protect)}")
        return "; ".join(parts) or "no policy"

    def to_bytes(self) -> bytes:
        return codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "kind": "retention",
                "keep_last": self.keep_last,
                "older_than": self.older_than,
                "protect": list(self.protect),
                "set_at": self.set_at,
                "user": self.user,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, what: str, *, scope: str) -> RetentionPolicy:
        d = load(data, what, "retention")
        protect = d.get("protect", [])
        if not isinstance(protect, list):
            raise FormatError(f"{what}: field 'protect' must be a list, got {type(protect).__name__}")
        try:
            return cls(
                codec.get_int(d, "keep_last", what, optional=True),
                codec.get_str(d, "older_than", what, optional=True),
                tuple(protect),
                time_field(d, "set_at", what, optional=True),
                codec.get_str(d, "user", what, optional=True),
                scope,
            )
        except InvalidInputError as e:
            raise FormatError(f"{what}: {e}") from None


def policy_fields(policy: RetentionPolicy) -> dict[str, Any]:
    """What a policy says, for output (``--json``)."""
    return {
        "scope": policy.scope,
        "keep_last": policy.keep_last,
        "older_than": policy.older_than,
        "protect": list(policy.protect),
        "set_at": policy.set_at,
        "user": policy.user,
    }
