"""Deleting versions in bulk by age and count (``apply_retention``), and the history of an
alias (who moved it where, when)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .errors import InvalidInputError
from .refs import LATEST
from .settings import parse_duration

if TYPE_CHECKING:
    from .artifact import Artifact

__all__ = ["AliasChange", "apply_retention"]


@dataclass(frozen=True)
class AliasChange:
    """One event of an alias: it pointed at ``version`` (None: removed) from ``created_at``."""

    alias: str
    version: str | None
    created_at: str
    run_id: str | None


class Versions(Protocol):
    """What retention needs of a store."""

    def versions(
        self, project: str, name: str, limit: int | None = None, before: int | None = None
    ) -> list[Artifact]: ...

    def dependents(self, ref: str) -> list[str]: ...

    def delete_version(self, ref: str, *, force: bool = False, reason: str | None = None) -> str: ...


def apply_retention(
    store: Versions,
    project: str,
    name: str,
    *,
    keep_last: int | None = None,
    older_than: dt.datetime | dt.timedelta | str | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> list[str]:
    """See :meth:`artifactfs.Store.apply_retention`."""
    if isinstance(older_than, str):
        older_than = parse_duration(older_than, "older_than")
    if isinstance(older_than, dt.timedelta):
        older_than = dt.datetime.now(dt.UTC) - older_than
    if keep_last is None and older_than is None:
        raise InvalidInputError("apply_retention needs keep_last and/or older_than")
    if keep_last is not None and (not isinstance(keep_last, int) or keep_last < 1):
        raise InvalidInputError(f"keep_last must be an integer >= 1, got {keep_last!r}")
    if older_than is not None and (not isinstance(older_than, dt.datetime) or older_than.tzinfo is None):
        raise InvalidInputError(
            f"older_than must be a timezone-aware datetime (a cut-off), a timedelta or a duration "
            f"such as '30d', got {older_than!r}"
        )
    versions = store.versions(project, name)
    candidates = versions[: -(keep_last or 1)]
    chosen = []
    for art in candidates:
        if older_than is not None and dt.datetime.fromisoformat(art.created_at) >= older_than:
            continue
        if not force and (any(a != LATEST for a in art.aliases) or store.dependents(art.qualified_name)):
            continue
        chosen.append(art.qualified_name)
    if not dry_run:
        for qn in chosen:
            store.delete_version(qn, force=force, reason="retention")
    return chosen
