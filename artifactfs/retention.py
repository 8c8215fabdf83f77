"""Deleting versions: one (``delete_version``), in bulk by age and count (``apply_retention``)
under policies kept in the store (``set_retention``), and the history of an alias.

Never deleted, whatever ``force`` says: a version a live registry version links to, and one
an alias of the applying policy's ``protect`` points at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import codec
from .annotation import current_user
from .errors import ArtifactNotFoundError, ArtifactStateError, InvalidInputError
from .policy import RetentionPolicy
from .records import ArtifactVersionId, Tombstone
from .refs import LATEST, REGISTRY, check_alias, check_name
from .registry import Linked, linked_versions
from .search import DELETED_SEQ, index_version
from .settings import parse_duration

if TYPE_CHECKING:
    from .artifact import Artifact
    from .backend import Backend
    from .catalog import Catalog

__all__ = ["AliasChange", "Retaining", "RetentionPolicy"]


@dataclass(frozen=True)
class AliasChange:
    """One event of an alias: it pointed at ``version`` (None: removed) from ``created_at``."""

    alias: str
    version: str | None
    created_at: str
    run_id: str | None


class Retaining:
    """The deletion and retention methods of :class:`~artifactfs.Store`."""

    backend: Backend
    catalog: Catalog

    if TYPE_CHECKING:

        def artifact(self, ref: str, type: str | None = None, *, project: str | None = None) -> Artifact: ...

        def resolve(self, ident: ArtifactVersionId) -> Artifact: ...

        def versions(
            self, project: str, name: str, limit: int | None = None, before: int | None = None
        ) -> list[Artifact]: ...

    def dependents(self, ref: str) -> list[str]:
        """The live versions that depend on the version ``ref`` names, each with how: versions
        that reference it (``add_reference``), and versions logged by runs that used it."""
        art = self.artifact(ref)
        me = art.version_id
        out: dict[str, str] = {}
        for down in self.catalog.referenced_by(me.project, me.name, me.version):
            other = self._live(down)
            if other is not None:
                out.setdefault(other, f"{other} (references it)")
        for run in art.used_by():
            for made in run.outputs:
                other = self._live(made)
                if other is not None and other != art.qualified_name:
                    out.setdefault(other, f"{other} (logged by run {run.id}, which used it)")
        return [out[k] for k in sorted(out)]

    def _live(self, ident: ArtifactVersionId) -> str | None:
        """The qualified name of the live version ``ident`` names here, else None."""
        try:
            found = self.resolve(ident)
        except ArtifactNotFoundError:
            return None
        return None if found.deleted else found.qualified_name

    def delete_version(self, ref: str, *, force: bool = False, reason: str | None = None) -> str:
        """Delete one version and return its qualified name (``name:latest`` resolves first).

        It stops resolving, and ``latest`` moves to the newest one left. Refused, naming why,
        unless ``force`` (``--force`` on the command line): a version that a custom alias
        points at (``force`` removes those aliases too), and one that live versions depend on
        (:meth:`dependents`: they reference it, or were made by runs that used it; their
        lineage will show it as deleted, and ``reproduce`` of them will fail). Refused even
        with ``force``: a version a registry version links to (unlink that first). The version
        record stays, with a tombstone beside it; its number is never reused. Its blobs are
        freed by :meth:`gc`.
        """
        art = self.artifact(ref)
        return self._delete(art, force, reason, linked_versions(self.catalog))

    def _delete(self, art: Artifact, force: bool, reason: str | None, linked: Linked) -> str:
        me = art.version_id
        links = linked.get((me.project, me.name, me.version))
        if links and art.project != REGISTRY:
            raise ArtifactStateError(
                f"{art.qualified_name} is in the registry as {', '.join(sorted(links))}: a version a registry "
                "link points at is never deleted; unlink it first (store.unlink, artifactfs unlink)"
            )
        custom = [a for a in art.aliases if a != LATEST]
        if custom and not force:
            raise ArtifactStateError(
                f"{art.qualified_name} has the alias(es) {', '.join(custom)}: move them first, or delete it "
                "anyway with force=True"
            )
        needed = [] if force else self.dependents(art.qualified_name)
        if needed:
            raise ArtifactStateError(
                f"{art.qualified_name} is needed by {len(needed)} live version(s): {'; '.join(needed)}; deleting "
                "it would break their lineage and reproduce: delete it anyway with force=True"
            )
        self.catalog.ensure_store()
        for alias in custom:
            self.catalog.set_alias(art.project, art.name, alias, None, None)
        self.catalog.add_tombstone(art.project, art.name, Tombstone(art.version_number, codec.utcnow(), reason))
        rec = self.catalog.version(art.project, art.name, art.version_number)  # cached: read by artifact()
        index_version(self.backend, rec, None, {}, events=DELETED_SEQ, deleted=True)
        return art.qualified_name

    # ------------------------------------------------------------------ policies
    def set_retention(
        self,
        project: str,
        name: str | None = None,
        *,
        keep_last: int | None = None,
        older_than: str | dt.timedelta | None = None,
        protect: Iterable[str] = (),
    ) -> RetentionPolicy:
        """Keep a retention policy in the store for ``project`` (every artifact without a policy
        of its own) or for ``project/name``; it replaces the one set there before, and one with
        nothing set clears it. ``older_than`` is an age: ``"30d"``, ``"12h"`` or a timedelta."""
        check_name(project, "project")
        if name is not None:
            check_name(name, "artifact name")
        if isinstance(older_than, dt.timedelta):
            older_than = f"{older_than.total_seconds() / 3600:g}h"
        if isinstance(protect, str):
            protect = [protect]
        scope = "project" if name is None else "artifact"
        policy = RetentionPolicy(keep_last, older_than, tuple(protect), codec.utcnow(), current_user(), scope)
        self.catalog.ensure_store()
        self.catalog.set_policy(project, name, policy)
        return policy

    def retention_policy(self, project: str, name: str | None = None) -> RetentionPolicy | None:
        """The policy that applies to ``project/name`` (its own, else its project's; ``scope``
        says which), or with ``name`` None the project's; None when there is none."""
        check_name(project, "project")
        self.catalog.require_store()
        own = self.catalog.policy(project, name) if name is not None else None
        return own or self.catalog.policy(project)

    def apply_retention(
        self,
        project: str,
        name: str | None = None,
        *,
        keep_last: int | None = None,
        older_than: dt.datetime | dt.timedelta | str | None = None,
        force: bool = False,
        dry_run: bool = False,
    ) -> list[str]:
        """Delete versions in bulk; return the qualified names deleted (or, with ``dry_run``,
        that would be: report them before deleting).

        A version is deleted when it is not among the newest ``keep_last`` and (if given) was
        created before ``older_than`` (a cut-off datetime, or an age: ``"30d"``, a timedelta).
        Without either, the policy kept in the store applies (:meth:`set_retention`); with
        ``name`` None, each artifact of the project under its own policy (artifacts with none
        are left alone). The newest version is always kept, and so are versions with a custom
        alias or that live versions depend on (:meth:`dependents`), unless ``force``; versions
        an alias of the policy's ``protect`` points at, and versions a registry version links
        to, are kept whatever ``force`` says.
        """
        explicit = keep_last is not None or older_than is not None
        cut_off = _cut_off(older_than)
        if keep_last is not None and (not isinstance(keep_last, int) or isinstance(keep_last, bool) or keep_last < 1):
            raise InvalidInputError(f"keep_last must be an integer >= 1, got {keep_last!r}")
        check_name(project, "project")
        self.catalog.require_store()
        names = [name] if name is not None else self.catalog.artifact_names(project)
        shared = self.catalog.policy(project)  # the project's, read once for all its artifacts
        plans: list[tuple[str, int | None, dt.datetime | None, tuple[str, ...]]] = []
        for n in names:
            check_name(n, "artifact name")
            policy = self.catalog.policy(project, n) or shared
            protect = policy.protect if policy is not None else ()
            if explicit:
                plans.append((n, keep_last, cut_off, protect))
            elif policy is not None:
                plans.append((n, policy.keep_last, policy.cut_off(), protect))
            elif name is not None:
                raise InvalidInputError(
                    f"apply_retention needs keep_last and/or older_than: {project}/{name} has no retention policy "
                    "(set one with store.set_retention or artifactfs retention set)"
                )
        linked = linked_versions(self.catalog)
        chosen: list[Artifact] = []
        for n, keep, cut, protect in plans:
            chosen += self._choose(project, n, keep, cut, protect, force, linked)
        if not dry_run:
            for art in chosen:
                self._delete(art, force, "retention", linked)
        return [a.qualified_name for a in chosen]

    def _choose(
        self,
        project: str,
        name: str,
        keep_last: int | None,
        cut_off: dt.datetime | None,
        protect: tuple[str, ...],
        force: bool,
        linked: Linked,
    ) -> list[Artifact]:
        out = []
        for art in self.versions(project, name)[: -(keep_last or 1)]:
            if cut_off is not None and dt.datetime.fromisoformat(art.created_at) >= cut_off:
                continue
            me = art.version_id
            if (me.project, me.name, me.version) in linked or any(a in protect for a in art.aliases):
                continue
            if not force and (any(a != LATEST for a in art.aliases) or self.dependents(art.qualified_name)):
                continue
            out.append(art)
        return out

    def alias_history(self, ref: str, alias: str) -> list[AliasChange]:
        """Every move of ``alias`` on the artifact ``ref`` names, oldest first: which version
        (None: removed), when, and which run moved it."""
        check_alias(alias)
        art = self.artifact(ref)
        events = self.catalog.alias_history(art.project, art.name, alias)
        return [
            AliasChange(alias, None if e.version is None else f"v{e.version}", e.created_at, e.run_id)
            for _, e in events
        ]


def _cut_off(older_than: dt.datetime | dt.timedelta | str | None) -> dt.datetime | None:
    if isinstance(older_than, str):
        older_than = parse_duration(older_than, "older_than")
    if isinstance(older_than, dt.timedelta):
        return dt.datetime.now(dt.UTC) - older_than
    if older_than is not None and (not isinstance(older_than, dt.datetime) or older_than.tzinfo is None):
        raise InvalidInputError(
            f"older_than must be a timezone-aware datetime (a cut-off), a timedelta or a duration "
            f"such as '30d', got {older_than!r}"
        )
    return older_than
