"""The registry: collections in the reserved project ``registry`` whose versions link to
versions logged elsewhere (W&B's Registry, MLflow's registered models).

A link is a version record of ``registry/<collection>`` that names the version it links to
(``linked``) and shares its manifest: the same content, nothing copied. A collection has its
own version numbers and aliases (``production``, ``staging``), so
``registry/classifier:production`` resolves wherever a reference is taken, and a promotion is
an alias move, kept in the alias history. Linking the same content twice gives the version it
already has. Versions a live link points at are never deleted (:func:`linked_versions`).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from . import codec
from .errors import InvalidInputError
from .leases import commit_lease
from .records import VersionRecord
from .refs import REGISTRY, check_alias, check_name, parse_ref
from .search import index_version
from .versioning import allocate_version, check_type, claim_content

if TYPE_CHECKING:
    from .artifact import Artifact
    from .backend import Backend
    from .catalog import Catalog

__all__ = ["REGISTRY", "Registering", "linked_versions"]

Linked = dict[tuple[str, str, int], list[str]]


def linked_versions(catalog: Catalog) -> Linked:
    """(project, name, number) of every version a live registry version links to -> the
    qualified names of those links. One listing when there is no registry; else a listing of
    collections and, for all of them at once, their live versions' records (cached)."""
    if not catalog.has_project(REGISTRY):
        return {}

    def links(collection: str) -> list[VersionRecord]:
        numbers, _ = catalog.live_numbers(REGISTRY, collection)
        return list(catalog.versions(REGISTRY, collection, numbers).values())

    out: Linked = {}
    names = catalog.artifact_names(REGISTRY)
    with ThreadPoolExecutor(max(1, min(16, len(names)))) as pool:
        for records in pool.map(links, names):
            for rec in records:
                if rec.linked is not None:
                    key = (rec.linked.project, rec.linked.name, rec.linked.version)
                    out.setdefault(key, []).append(rec.qualified_name)
    return out


class Registering:
    """The registry methods of :class:`~artifactfs.Store`."""

    backend: Backend
    catalog: Catalog
    claim_lease: float
    lease_ttl: float

    if TYPE_CHECKING:

        def artifact(self, ref: str, type: str | None = None, *, project: str | None = None) -> Artifact: ...

        def logged_version(self, record: VersionRecord, *, is_new: bool = False) -> Artifact: ...

        def delete_version(self, ref: str, *, force: bool = False, reason: str | None = None) -> str: ...

    def link(
        self,
        ref: str,
        collection: str,
        *,
        aliases: Iterable[str] = (),
        run: tuple[str, str] | None = None,
    ) -> Artifact:
        """Link the version ``ref`` names into the registry collection ``collection`` (made on
        first use; ``"registry/name"`` is accepted too) and return the registry version,
        ``registry/<collection>:vN``; ``aliases`` are then moved to it (a promotion).

        The collection takes the type of the first version linked, and refuses others. Linking
        content the collection already holds returns that version (``is_new`` False). A
        registry version given as ``ref`` links the version it links to. ``run`` (project, id)
        names the run that linked it, as its alias events do.
        """
        collection = _collection(collection)
        wanted = [check_alias(a) for a in ([aliases] if isinstance(aliases, str) else aliases)]
        src = self.artifact(ref)
        source = src.linked_from or src.version_id
        catalog = self.catalog
        catalog.ensure_store()
        rec = catalog.version(source.project, source.name, source.version)
        number = check_type(catalog, REGISTRY, collection, rec.type)
        run_project, run_id = run if run is not None else (None, None)
        with commit_lease(self.backend, self.lease_ttl) as lease:
            existing, seq = claim_content(catalog, REGISTRY, collection, rec.content, self.claim_lease)
            if existing is not None:
                made, is_new = catalog.version(REGISTRY, collection, existing), False
            else:
                lease.check()

                def make(n: int) -> VersionRecord:
                    return VersionRecord(
                        REGISTRY, collection, n, rec.type, rec.manifest, rec.content, rec.size, rec.file_count,
                        codec.utcnow(), run_project, run_id, linked=source,
                    )  # fmt: skip

                made, is_new = allocate_version(catalog, REGISTRY, collection, make, number), True
                manifest = src.manifest
                with ThreadPoolExecutor(2) as pool:
                    hinted = pool.submit(catalog.committed, made)
                    indexed = pool.submit(index_version, self.backend, made, manifest.description, manifest.metadata)
                    catalog.resolve_claim(REGISTRY, collection, rec.content, seq, made.version)
                    hinted.result()
                    indexed.result()
        for alias in wanted:
            catalog.set_alias(REGISTRY, collection, alias, made.version, run_id)
        return self.logged_version(made, is_new=is_new)

    def unlink(self, ref: str, *, force: bool = False) -> str:
        """Remove a registry version (``registry/collection:v2``, or by alias); the version it
        links to stays, and can be deleted again. A version with a custom alias (a collection's
        ``production``) is refused unless ``force``, as :meth:`delete_version` refuses it."""
        parsed = parse_ref(ref, default_project=REGISTRY)
        if parsed.project != REGISTRY:
            raise InvalidInputError(f"{ref!r} is not a registry version: unlink takes 'registry/collection:vN'")
        return self.delete_version(ref if "/" in ref else f"{REGISTRY}/{ref}", force=force, reason="unlinked")

    def collections(self) -> list[str]:
        """The names of the registry's collections, sorted (none before the first link)."""
        self.catalog.require_store()
        return self.catalog.artifact_names(REGISTRY) if self.catalog.has_project(REGISTRY) else []

    def links(self, ref: str) -> list[str]:
        """The live registry versions that link to the version ``ref`` names, sorted."""
        art = self.artifact(ref)
        me = art.version_id
        return sorted(linked_versions(self.catalog).get((me.project, me.name, me.version), []))


def _collection(collection: object) -> str:
    if isinstance(collection, str) and collection.startswith(f"{REGISTRY}/"):
        collection = collection[len(REGISTRY) + 1 :]
    try:
        return check_name(collection, "collection")
    except InvalidInputError as e:
        raise InvalidInputError(f"{e} (a collection is named like an artifact: 'classifier')") from None
