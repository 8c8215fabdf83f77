"""Artifact: a draft you add files to, and, once logged, a read-only version in a store."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from .annotated import Annotated
from .blobs import BlobReader
from .catalog import Catalog, Found
from .checkout import LocalSide
from .draft import Draft, Folder, Staged, staged
from .errors import (
    ArtifactNotFoundError,
    ArtifactStateError,
    EntryNotFoundError,
    InvalidInputError,
    ReadOnlyError,
)
from .frozen import EMPTY
from .incremental import Base
from .lineage import LineageGraph
from .manifest import Entry, Manifest, path_after
from .records import ArtifactVersionId, RunRecord, VersionRecord
from .refs import check_name
from .table import PartitionedTable, Table
from .uris import describe_reference
from .walk import lineage

__all__ = ["Artifact", "Staged", "logged", "resolved", "staged", "upstream"]  # Staged: see draft.py


class Artifact(Draft, LocalSide, Annotated):
    """A versioned collection of files, tables and references.

    Build a draft with :meth:`add_file`, :meth:`add_dir`, :meth:`add`, :meth:`new_file` and
    :meth:`add_reference`, then ``run.log_artifact(artifact)``. What ``log_artifact`` and
    ``use_artifact`` return is a logged, read-only version with ``version``, ``aliases``,
    ``entries``, :meth:`download`, :meth:`get_table` and lineage accessors; its description,
    metadata and tags can be changed later (:meth:`save`, :meth:`annotate`).
    """

    def __init__(
        self,
        name: str,
        type: str,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        incremental: bool = False,
        distributed_id: str | None = None,
    ) -> None:
        self._record: VersionRecord | None = None
        # W&B's name: writers giving the same id add parts to one version (run.upsert_artifact)
        self.distributed_id = distributed_id
        # W&B's name: logged, the draft's files are added to the newest version's (new_draft)
        self.incremental = incremental
        self._base: Base | None = None
        self._tags: tuple[str, ...] = ()
        self._state, self._pending = None, {}
        self.name = name
        self.type = type
        self.description = description
        self.metadata = metadata or {}
        self._staged: dict[str, Staged] = {}
        self._folders: list[Folder] = []
        self._upstream: list[ArtifactVersionId] = []
        self._tmp: Path | None = None
        # set once logged
        self._catalog: Catalog | None = None
        self._blobs: BlobReader | None = None
        self._manifest: Manifest | None = None
        self._aliases: list[str] | Callable[[], list[str]] = []
        self._deleted_at: str | None = None
        self._is_new = False
        self._spooled = ""  # a version logged offline: its name until synced

    # ------------------------------------------------------------------ fields
    # A logged version is a read-only value: its fields are shared by every reader of the
    # cached manifest, and changing them would write nothing.
    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._refuse_if_logged("name")
        self._name = check_name(value, "artifact name")

    @property
    def type(self) -> str:
        return self._type

    @type.setter
    def type(self, value: str) -> None:
        self._refuse_if_logged("type")
        self._type = check_name(value, "artifact type")

    def _refuse_if_logged(self, what: str) -> None:
        if self._record is not None:
            raise ReadOnlyError(
                f"{self.qualified_name} is logged: its {what} cannot be changed (logged versions are read-only); "
                "log a new version with it"
            )

    # ------------------------------------------------------------------ drafting
    def _check_draft(self) -> None:
        if self._record is not None:
            raise ArtifactStateError(f"{self.qualified_name} is logged and cannot be changed; create a new Artifact")

    def add_reference(
        self,
        target: Artifact | str,
        name: str | None = None,
        *,
        checksum: bool = True,
        max_objects: int | None = None,
    ) -> None:
        """Record where this artifact came from.

        ``target`` is a logged :class:`Artifact` (a lineage edge to that exact version) or a URI
        (``gs://``, ``s3://``, ``az://``, ``file://``, ``memory://``, ``https://`` ...) recorded
        as an external entry with its size and a checksum, not copied, and checked when
        downloaded: the store's ETag or content hash, or, where the server gives none, the
        digest of its bytes (read once now). ``checksum=False`` records the URI only; it is
        fetched unverified.

        A URI ending in ``/`` or naming a folder or prefix records every object below it (one
        listing), each at ``name/<its path below the prefix>`` (default: at the top, as W&B
        does); more than ``max_objects`` (default 10,000) is an :class:`InvalidInputError`,
        and nothing is recorded.
        """
        self._check_draft()
        if isinstance(target, Artifact):
            ident = target.version_id
            if ident not in self._upstream:
                self._upstream.append(ident)
            return
        if not isinstance(target, str) or "://" not in target:
            raise InvalidInputError(f"add_reference takes a logged Artifact or a URI, got {target!r}")
        self._stage_references(describe_reference(target, name, checksum=checksum, max_objects=max_objects))

    # ------------------------------------------------------------------ logged state
    def _require_logged(self) -> tuple[BlobReader, VersionRecord, Manifest]:
        """Blob reader, record and manifest of a logged, live version (else a clear error)."""
        blobs, rec = self._require_record()
        if self._deleted_at is not None or self._manifest is None:
            raise ArtifactNotFoundError(f"{self.qualified_name} was deleted ({self._deleted_at}); its content is gone")
        return blobs, rec, self._manifest

    def _require_record(self) -> tuple[BlobReader, VersionRecord]:
        if self._blobs is None or self._record is None:
            raise ArtifactStateError(f"artifact {self.name!r} is a draft: log it with run.log_artifact() first")
        return self._blobs, self._record

    def _require_catalog(self) -> tuple[Catalog, VersionRecord]:
        self._require_record()
        assert self._catalog is not None and self._record is not None
        return self._catalog, self._record

    @property
    def deleted(self) -> bool:
        """True for a deleted version (seen through lineage); its files can no longer be read."""
        return self._deleted_at is not None

    @property
    def deleted_at(self) -> str | None:
        return self._deleted_at

    @property
    def version_id(self) -> ArtifactVersionId:
        """``project/name:vN`` plus the manifest digest: what lineage edges point at."""
        return self._require_record()[1].version_id

    def new_draft(self) -> Artifact:
        """A draft that starts as this version: add, replace (add at a path it holds) or
        :meth:`remove` files, then log it. Only what was added is hashed and sent; every other
        entry, with its blob, pack and manifest shard, is this version's own (W&B's
        ``new_draft``). Log it to this version's store; the new version names this one as
        ``drafted_from`` (lineage: "drafted from"), outside its content digest."""
        catalog, rec = self._require_catalog()
        source = rec.linked or rec.version_id  # a registry version: a draft of what it links to
        draft = Artifact(source.name, self.type, description=self.description, metadata=dict(self.metadata))
        manifest = self.manifest
        draft._base = Base(source, manifest, catalog.url, catalog.store_id)
        draft._upstream = list(manifest.upstream)
        return draft

    @property
    def is_new(self) -> bool:
        """True for the version a ``log_artifact`` call just made; False when that call found
        identical content already logged (and returned that version), and for versions read."""
        return self._is_new

    @property
    def is_logged(self) -> bool:
        return self._record is not None

    @property
    def project(self) -> str:
        return self._require_record()[1].project

    @property
    def version(self) -> str:
        """``"v3"``; ``"spooled-<12 hex>"`` for a version logged offline, not yet synced."""
        return self._spooled or f"v{self._require_record()[1].version}"

    @property
    def version_number(self) -> int:
        return self._require_record()[1].version

    @property
    def qualified_name(self) -> str:
        """``"project/name:v3"`` (``"project/name:spooled-<12 hex>"`` until synced)."""
        if self._record is None:
            return self.name
        return f"{self.project}/{self.name}:{self._spooled}" if self._spooled else self._record.qualified_name

    @property
    def aliases(self) -> list[str]:
        """Aliases pointing at this version, ``latest`` included: read from the store when
        first asked for (resolving a version does not pay for them), then kept."""
        if callable(self._aliases):
            self._aliases = self._aliases()
        return list(self._aliases)

    @property
    def digest(self) -> str:
        """Content digest: equal for versions with equal entries and upstream references."""
        return str(self._require_record()[1].content)

    @property
    def manifest_digest(self) -> str:
        return str(self._require_record()[1].manifest)

    @property
    def size(self) -> int:
        if self._record is not None:
            return self._record.size
        return sum(os.path.getsize(s.local) for _, s in staged(self) if s.local is not None)

    @property
    def created_at(self) -> str:
        return self._require_record()[1].created_at

    @property
    def entries(self) -> dict[str, Entry]:
        """Path -> :class:`Entry` (digest, size, kind) of a logged version: every entry (for a
        large version, :meth:`get_entry` and :meth:`files` read only the part they need)."""
        return {e.path: e for e in self._require_logged()[2].entries}

    @property
    def file_count(self) -> int:
        """The number of entries, known without reading them."""
        return self._require_logged()[2].count

    def get_entry(self, name: str) -> Entry:
        """The entry ``name`` (``.parquet`` may be left off for a table); :class:`EntryNotFoundError`
        if there is none. A sharded version reads only the shard that holds it."""
        return self._entry(name)

    def files(self, folder: str = "", *, start: str | None = None, limit: int | None = None) -> list[Entry]:
        """The entries under ``folder`` (every entry for ``""``), in path order, reading only the
        shards that hold them; ``start`` (a path) and ``limit`` page through them."""
        man = self._require_logged()[2]
        prefix = folder.strip("/") + "/" if folder.strip("/") else ""
        if start is None or start < prefix:
            start = prefix
        return man.between(start, path_after(prefix)) if limit is None else man.page(start, prefix, limit)

    @property
    def manifest(self) -> Manifest:
        return self._require_logged()[2]

    def _entry(self, name: str) -> Entry:
        man = self._require_logged()[2]
        for candidate in (name, name + ".parquet"):
            if (found := man.entry(candidate)) is not None:
                return found
        raise EntryNotFoundError(f"{self.qualified_name} has no entry {name!r}")

    def get(self, name: str) -> Table | str:
        """W&B's ``artifact.get``: the :class:`Table` for a table entry (see :meth:`get_table`),
        else the verified local path of the file (see :meth:`get_path`)."""
        man = self._require_logged()[2]
        entry = man.entry(name) or man.entry(name + ".parquet")
        if entry is None or entry.kind == "table":  # (a partitioned table has no entry of its name)
            return self.get_table(name)
        return self.get_path(name)

    def get_table(self, name: str) -> Table:
        """The table entry ``name`` (``.parquet`` may be left off), read lazily.

        For a partitioned table, a :class:`PartitionedTable` over all of its parts.
        """
        blobs, _, man = self._require_logged()
        if man.entry(name) is None and man.entry(name + ".parquet") is None:
            parts = [e for e in man.under(name + "/") if e.kind == "table" and e.extra.get("dataset") == name]
            if parts:
                return PartitionedTable.stored_parts([(e, blobs.entry(self.qualified_name, e)) for e in parts])
        entry = self._entry(name)
        if entry.kind != "table":
            raise EntryNotFoundError(f"{self.qualified_name}: entry {entry.path!r} is a {entry.kind}, not a table")
        return Table.stored(blobs.entry(self.qualified_name, entry))

    def tables(self) -> list[str]:
        """Names of the tables of this version (a partitioned table once, by its name)."""
        _, _, man = self._require_logged()
        names: dict[str, None] = {}
        for e in man.iter_entries():
            if e.kind == "table":
                dataset = e.extra.get("dataset")
                names[dataset if isinstance(dataset, str) else e.path] = None
        return list(names)

    def references(self) -> list[Artifact]:
        """The upstream artifact versions recorded with ``add_reference(artifact)``."""
        blobs, _, man = self._require_logged()
        catalog, _ = self._require_catalog()
        return [resolved(catalog, blobs, u) for u in man.upstream]

    @property
    def logged_run(self) -> tuple[str, str] | None:
        """(project, run id) of the run that logged this version, from its record (nothing is
        read); None if it was logged without a run. :meth:`logged_by` reads the run itself."""
        rec = self._require_record()[1]
        return None if rec.run_id is None or rec.run_project is None else (rec.run_project, rec.run_id)

    def logged_by(self) -> RunRecord | None:
        """The run that logged this version (None if it was logged without a run)."""
        catalog, rec = self._require_catalog()
        if rec.run_id is None or rec.run_project is None:
            return None
        return catalog.run(rec.run_project, rec.run_id)

    def used_by(self) -> list[RunRecord]:
        """Runs that used this version, oldest first."""
        catalog, rec = self._require_catalog()
        return catalog.used_by(rec.project, rec.name, rec.version)

    def upstream(self, depth: int | None = None) -> LineageGraph:
        """Lineage upstream of this version: what it was made from, recursively."""
        return self._lineage("upstream", depth)

    def downstream(self, depth: int | None = None) -> LineageGraph:
        """Lineage downstream of this version: the runs that used it and what they made."""
        return self._lineage("downstream", depth)

    def _lineage(self, direction: Literal["upstream", "downstream"], depth: int | None) -> LineageGraph:
        _, rec, man = self._require_logged()
        catalog, _ = self._require_catalog()
        return lineage(catalog, Found(rec, man), direction, depth)

    def __repr__(self) -> str:
        if self._record is None:
            return f"<Artifact {self.name!r} type={self.type!r} draft, {self._staged_count()} entries>"
        if self._deleted_at:
            return f"<Artifact {self.qualified_name} type={self.type!r} deleted>"
        return f"<Artifact {self.qualified_name} type={self.type!r} aliases={self.aliases}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Artifact) or self._record is None or other._record is None:
            return self is other
        return self.version_id == other.version_id

    def __hash__(self) -> int:
        return hash(self.version_id) if self._record is not None else id(self)


def logged(
    catalog: Catalog,
    blobs: BlobReader,
    record: VersionRecord,
    manifest: Manifest | None,
    aliases: list[str] | Callable[[], list[str]],
    deleted_at: str | None = None,
    is_new: bool = False,
    spooled: bool = False,
) -> Artifact:
    """The logged version ``record`` names; ``manifest`` may be None only for a deleted one;
    ``spooled``: it is in an offline run's spool, named by its content until synced."""
    art = Artifact.__new__(Artifact)
    art._record = None
    art.name, art.type = record.name, record.type
    art._description = manifest.description if manifest else None
    art._metadata = manifest.metadata if manifest else EMPTY
    art._tags, art._state, art._pending = (), None, {}
    art._staged, art._folders, art._tmp = {}, [], None
    art._base, art.incremental, art.distributed_id = None, False, None
    art._upstream = list(manifest.upstream) if manifest else []
    art._catalog, art._blobs = catalog, blobs
    art._record, art._manifest, art._aliases = record, manifest, aliases
    art._deleted_at = deleted_at
    art._is_new = is_new
    art._spooled = f"spooled-{record.content.hex[:12]}" if spooled else ""
    return art


def resolved(catalog: Catalog, blobs: BlobReader, ident: ArtifactVersionId) -> Artifact:
    """The version a lineage edge names: a deleted one comes back with ``deleted`` set, and a
    version copied from another store is found by its manifest digest."""
    found = catalog.find(ident)
    rec = found.record
    if found.deleted_at is not None:
        return logged(catalog, blobs, rec, found.manifest, [], deleted_at=found.deleted_at)
    assert found.manifest is not None  # only a deleted version's may be gone
    return logged(
        catalog, blobs, rec, found.manifest, lambda: catalog.version_aliases(rec.project, rec.name, rec.version)
    )


def upstream(draft: Artifact) -> tuple[ArtifactVersionId, ...]:
    """The versions a draft references (``add_reference``)."""
    return tuple(draft._upstream)
