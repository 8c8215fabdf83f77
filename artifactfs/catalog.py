"""The catalog: every record of a store, read, decoded, checked and written in one place.

It owns the store descriptor, version numbers and version records, manifests (verified
against their digest, cached), tombstones, alias events, content claims and their
resolutions, used-by and referenced-by markers, and run records: each has a typed record in
:mod:`artifactfs.records` or :mod:`artifactfs.markers` and a public method here (runs and
lineage markers in :mod:`artifactfs.catalog_lineage`, which the catalog extends). Blobs are
not records: they are moved by :mod:`artifactfs.transfer` and read by :mod:`artifactfs.blobs`.

Records are immutable once written (a run record has one writer, its run), so what was read
is cached for the life of the catalog, and manifests (named by their digest) for the life of
the process. Finding the newest version and an alias's target reads hints and the few
records they name, never a whole history (:mod:`artifactfs.catalog_heads`).
"""

from __future__ import annotations

import dataclasses
import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import codec, layout
from .backend import Backend
from .catalog_heads import Newest
from .catalog_manifests import ManifestRecords
from .errors import (
    ArtifactNotFoundError,
    FormatError,
    IntegrityError,
    KeyNotFoundError,
    MisplacedRecordError,
    StoreNotFoundError,
)
from .hashing import DEFAULT_ALGORITHM, Digest, hash_bytes
from .manifest import Manifest
from .markers import ClaimResolution, ContentClaim
from .records import ArtifactVersionId, StoreDescriptor, VersionRecord
from .refs import LATEST, ArtifactRef, did_you_mean
from .seen import SeenRecords

__all__ = ["Catalog", "Claims", "Found", "Located", "Newest"]


@dataclass(frozen=True, slots=True)
class Claims:
    """The content claims of one content digest: the sequence numbers claimed, and those
    resolved (claim ``n`` became a version), each ascending."""

    claimed: list[int]
    resolved: list[int]


@dataclass(frozen=True, slots=True)
class Found:
    """A version a lineage edge names: its record, its manifest (None once a deleted version's
    manifest was collected) and, if deleted, when."""

    record: VersionRecord
    manifest: Manifest | None
    deleted_at: str | None = None


@dataclass(frozen=True, slots=True)
class Located:
    """A live version a reference names: its record, manifest and aliases (``latest`` first
    when it is the newest, then its custom aliases, sorted), or a function reading them
    when first asked (a resolve does not pay for them)."""

    record: VersionRecord
    manifest: Manifest
    aliases: list[str] | Callable[[], list[str]]


class Catalog(ManifestRecords):
    """The records of the store behind ``backend``."""

    def __init__(self, backend: Backend, seen: SeenRecords | None = None) -> None:
        super().__init__(backend, seen)
        self._desc: StoreDescriptor | None = None
        self.store_id: str | None = None  # known once the descriptor is read
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the store descriptor
    def descriptor(self) -> StoreDescriptor | None:
        """The store descriptor, read once (it never changes), or None if there is none yet.

        Its read is the first contact with the store: on a remote store it is bounded by
        ``$ARTIFACTFS_CONNECT_TIMEOUT`` (an unreachable bucket fails in seconds, not minutes).
        """
        if self._desc is None:
            try:
                raw = self.backend.read_first(layout.DESCRIPTOR)
            except KeyNotFoundError:
                return None
            self._desc = self.backend.set_layout(raw)
            # Stores made before ids were given one are known by their descriptor's bytes.
            store_id = self._desc.id or f"bytes-{hash_bytes(raw, DEFAULT_ALGORITHM).hex[:32]}"
            self._share_kept(store_id)
            self.store_id = store_id
            if self.seen is not None:
                self.seen.store_seen(self.url, store_id)
        return self._desc

    def require_store(self) -> StoreDescriptor:
        """The descriptor; :class:`StoreNotFoundError` if the store does not exist (reading never
        creates one: only writing does)."""
        desc = self.descriptor()
        if desc is None:
            raise StoreNotFoundError(
                f"no store at {self.url}: it has no {layout.DESCRIPTOR} (check the path or URL; "
                "a store is made by the first log_artifact or init that writes to it)"
            )
        return desc

    def ensure_store(self) -> StoreDescriptor:
        """The descriptor, written first if the store has none (create-if-absent, so writers agree)."""
        if (desc := self.descriptor()) is not None:
            return desc
        made = StoreDescriptor(codec.STORE_FORMAT, DEFAULT_ALGORITHM, 1, codec.utcnow(), uuid.uuid4().hex)
        self.backend.create(layout.DESCRIPTOR, made.to_bytes())
        return self.require_store()

    def require_format(self, fmt: int) -> None:
        """Make the store format ``fmt`` or newer before writing what older releases would misread
        (shards, packs): its descriptor is rewritten with the same id, algorithm and layout, so
        those releases refuse the whole store instead of reading part of it."""
        if self.require_store().format >= fmt:
            return
        current = StoreDescriptor.from_bytes(self.backend.read(layout.DESCRIPTOR), f"store descriptor of {self.url}")
        if current.format < fmt:
            current = dataclasses.replace(current, format=fmt)
            # Every writer upgrading writes the same bytes, so racing upgrades agree.
            self.backend.write(layout.DESCRIPTOR, current.to_bytes())
        self._desc = self.backend.set_layout(current.to_bytes())

    @property
    def algorithm(self) -> str:
        """The store's digest algorithm (for a store not made yet, the one it will be made with)."""
        desc = self.descriptor()
        return desc.algorithm if desc is not None else DEFAULT_ALGORITHM

    # ------------------------------------------------------------------ projects and names
    def projects(self) -> list[str]:
        return self.backend.listdir(layout.projects_dir())

    def has_project(self, project: str) -> bool:
        return bool(self.backend.listdir(layout.project_dir(project)))

    def artifact_names(self, project: str) -> list[str]:
        return self.backend.listdir(layout.artifacts_dir(project))

    # ------------------------------------------------------------------ versions
    def version_numbers(self, project: str, name: str) -> list[int]:
        """Every version number of ``project/name``, deleted ones included, ascending."""
        return _seqs(self.backend.listdir(layout.versions_dir(project, name)))

    def live_numbers(self, project: str, name: str) -> tuple[list[int], set[int]]:
        """(live version numbers, deleted version numbers) of ``project/name``."""
        numbers = self.version_numbers(project, name)
        if not numbers:
            return [], set()
        deleted = set(_seqs(self.backend.listdir(layout.tombstones_dir(project, name))))
        return [n for n in numbers if n not in deleted], deleted

    def find_version(self, ident: ArtifactVersionId) -> int | None:
        """This store's number for the version ``ident`` names: the same number if it holds
        the same manifest (one read), else any version with that manifest (versions copied
        from another store keep their manifest but not always their number: every record is
        read, newest first)."""
        same = self.versions(ident.project, ident.name, [ident.version]).get(ident.version)
        if same is not None and same.manifest == ident.manifest:
            return ident.version
        top = self.newest(ident.project, ident.name).version
        for hi in range(top, -1, -256):
            numbers = list(range(hi, max(hi - 256, -1), -1))
            for n, rec in self.versions(ident.project, ident.name, numbers).items():
                if rec.manifest == ident.manifest:
                    return n
        return None

    def find(self, ident: ArtifactVersionId) -> Found:
        """The version a lineage edge names, deleted or not (:class:`ArtifactNotFoundError` if
        this store holds no version with its manifest)."""
        number = self.find_version(ident)
        if number is None:
            raise ArtifactNotFoundError(
                f"{ident.qualified_name} (manifest {ident.manifest.short}) is not in store {self.url}"
            )
        rec = self.version(ident.project, ident.name, number)
        stone = self.tombstone(ident.project, ident.name, number)
        if stone is None:
            return Found(rec, self.version_manifest(rec))
        try:
            manifest: Manifest | None = self.version_manifest(rec)
        except IntegrityError:  # swept by gc after the deletion
            manifest = None
        return Found(rec, manifest, stone.deleted_at)

    def locate(self, ref: ArtifactRef) -> Located:
        """The live version ``project/name:tag`` names (``latest``, ``v<N>`` or a custom alias);
        :class:`ArtifactNotFoundError` naming why not.

        Three rounds of requests at most, whatever the history: ``v<N>`` reads its record and
        tombstone together; ``latest`` and an alias read their hint first (checked, see
        :meth:`newest`). Then the manifest. Its aliases are read when first asked for.
        """
        assert ref.project is not None
        project, name = ref.project, ref.name
        if ref.version is not None:
            number = ref.version
            self._read(project, name, [number], [number])
            if self.deleted_known(project, name, number):
                raise ArtifactNotFoundError(
                    f"{ref} was deleted{self._when(project, name, number)} from store {self.url}"
                )
            if number not in self.versions(project, name, [number]):
                newest = self.newest(project, name)
                if newest.live is None:
                    raise self._no_versions(project, name, newest)
                raise ArtifactNotFoundError(
                    f"{ref} not found in store {self.url}: the newest version is v{newest.live}"
                )
        elif ref.tag == LATEST:
            newest = self.newest(project, name)
            if newest.live is None:
                raise self._no_versions(project, name, newest)
            number = newest.live
        else:
            target = self.alias_target(project, name, ref.tag)
            if target is None:
                aliases = sorted(self.aliases(project, name))
                known = ", ".join(aliases) or "none"
                if known == "none" and (newest := self.newest(project, name)).live is None:
                    raise self._no_versions(project, name, newest)
                hint = did_you_mean(ref.tag, [LATEST, *aliases, *_version_like(ref.tag)])
                raise ArtifactNotFoundError(
                    f"alias {ref.tag!r} is not set on {project}/{name}{hint} (aliases: {known})"
                )
            number = target
        rec = self.version(project, name, number)
        return Located(rec, self.version_manifest(rec), lambda: self.version_aliases(project, name, number))

    def _when(self, project: str, name: str, number: int) -> str:
        stone = self.tombstone(project, name, number)
        return f" at {stone.deleted_at}" if stone else ""

    def _no_versions(self, project: str, name: str, newest: Newest) -> ArtifactNotFoundError:
        if newest.version >= 0:
            return ArtifactNotFoundError(f"artifact {project}/{name} has only deleted versions in store {self.url}")
        if self.has_project(project):
            hint = did_you_mean(name, self.artifact_names(project))
        else:
            hint = did_you_mean(project, self.projects(), note=f"no project {project!r}; ")
        return ArtifactNotFoundError(f"artifact {project}/{name} not found in store {self.url}{hint}")

    def version_aliases(self, project: str, name: str, number: int) -> list[str]:
        """The aliases of ``project/name:v<number>``: ``latest`` if it is the newest live
        version, then its custom aliases, sorted."""
        latest = self.newest(project, name).live
        custom = sorted(a for a, v in self.aliases(project, name).items() if v == number)
        return ([LATEST] if number == latest else []) + custom

    def live_versions(
        self, project: str, name: str, *, limit: int | None = None, before: int | None = None
    ) -> list[Located]:
        """The live versions of ``project/name`` numbered below ``before`` (if given): all of
        them oldest first, or with ``limit`` the newest ``limit`` of them, newest first. Only
        the records and manifests returned are read, each kind in one round of requests,
        after the newest version, one listing of the tombstones and the aliases (those three
        read at once)."""
        with ThreadPoolExecutor(1) as pool:
            aliased = pool.submit(self.aliases, project, name)
            newest, deleted = self._newest_and_deleted(project, name)
            aliases = aliased.result()
        if newest.live is None:
            raise self._no_versions(project, name, newest)
        top = newest.live if before is None else min(newest.live, before - 1)
        numbers = [n for n in range(top, -1, -1) if n not in deleted]
        numbers = numbers[:limit] if limit is not None else numbers[::-1]
        recs = self.versions(project, name, numbers)
        manifests = self.manifests([recs[n].manifest for n in numbers if n in recs])
        out = []
        for n in numbers:
            rec = self.version(project, name, n)
            names = ([LATEST] if n == newest.live else []) + sorted(a for a, v in aliases.items() if v == n)
            man = manifests.get(rec.manifest) or self.version_manifest(rec)
            self._check_manifest(rec, man)
            out.append(Located(rec, man, names))
        return out

    def _newest_and_deleted(self, project: str, name: str) -> tuple[Newest, set[int]]:
        """The newest version of ``project/name`` and the numbers of its deleted versions (one
        listing of the tombstones, which grow with deletions, not versions), read at once."""
        with ThreadPoolExecutor(1) as pool:
            listed = pool.submit(self.backend.listdir, layout.tombstones_dir(project, name))
            newest = self.newest(project, name)
            return newest, set(_seqs(listed.result()))

    def summaries(self, project: str, names: list[str], workers: int = 16) -> dict[str, tuple[Newest, int]]:
        """For each artifact of ``names``: its newest version and how many are live, every
        artifact at once (each is a few rounds of requests)."""

        def one(name: str) -> tuple[Newest, int]:
            newest, deleted = self._newest_and_deleted(project, name)
            if newest.live is None:
                return newest, 0
            return newest, newest.version + 1 - len([n for n in deleted if n <= newest.version])

        with ThreadPoolExecutor(max(1, min(workers, len(names)))) as pool:
            return dict(zip(names, pool.map(one, names), strict=True))

    # ------------------------------------------------------------------ content claims
    def claims(self, project: str, name: str, content: Digest) -> Claims:
        names = self.backend.listdir(layout.claim_dir(project, name, content))
        claimed = sorted(int(n[:-6]) for n in names if n.endswith(".claim") and n[:-6].isdigit())
        return Claims(claimed, _seqs(names))

    def claim(self, project: str, name: str, content: Digest, seq: int, claim: ContentClaim) -> bool:
        """Take claim ``seq`` on ``content``; True if this call did."""
        return self.backend.create(layout.claim_marker(project, name, content, seq), claim.to_bytes())

    def read_claim(self, project: str, name: str, content: Digest, seq: int) -> ContentClaim:
        key = layout.claim_marker(project, name, content, seq)
        return ContentClaim.from_bytes(self.backend.read(key), f"content claim {key}")

    def resolve_claim(self, project: str, name: str, content: Digest, seq: int, version: int) -> bool:
        """Record that claim ``seq`` became ``version``; True if this call did."""
        return self.backend.create(layout.claim(project, name, content, seq), ClaimResolution(version).to_bytes())

    def resolution(self, project: str, name: str, content: Digest, seq: int) -> int:
        """The version claim ``seq`` became, which must hold ``content`` (the claim folder's name)."""
        key = layout.claim(project, name, content, seq)
        what = f"content claim resolution {key}"
        version = ClaimResolution.from_bytes(self.backend.read(key), what).version
        try:
            rec = self.version(project, name, version)
        except ArtifactNotFoundError:
            raise FormatError(f"{what}: names v{version}, which does not exist") from None
        if rec.content != content:
            raise MisplacedRecordError(
                f"{what}: names v{version}, whose content is {rec.content.short}, not {content.short}"
            )
        return version


def _seqs(names: list[str]) -> list[int]:
    return sorted(n for x in names if (n := layout.parse_seq(x)) is not None)


def _version_like(tag: str) -> list[str]:
    """``v3`` for a tag typed ``V3`` (a version, not an alias)."""
    return [tag.lower()] if re.fullmatch(r"[vV]\d+", tag) else []
