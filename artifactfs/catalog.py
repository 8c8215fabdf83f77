"""The catalog: every record of a store, read, decoded, checked and written in one place.

It owns the store descriptor, version numbers and version records, manifests (verified
against their digest, cached), tombstones, alias events, content claims and their
resolutions, used-by and referenced-by markers, and run records: each has a typed record in
:mod:`artifactfs.records` or :mod:`artifactfs.markers` and a public method here (runs and
lineage markers in :mod:`artifactfs.catalog_lineage`, which the catalog extends). Blobs are
not records: they are moved by :mod:`artifactfs.transfer` and read by :mod:`artifactfs.blobs`.

Records are immutable once written (a run record has one writer, its run), so what was read
is cached for the life of the catalog; the folders that grow (versions, tombstones, alias
events, claims) are listed again on every question.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from . import codec, layout
from .backend import Backend
from .catalog_lineage import LineageRecords
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
from .records import (
    AliasEvent,
    ArtifactVersionId,
    StoreDescriptor,
    Tombstone,
    VersionRecord,
)
from .refs import LATEST, ArtifactRef

__all__ = ["Catalog", "Claims", "Found", "Located"]


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
    when it is the newest, then its custom aliases, sorted)."""

    record: VersionRecord
    manifest: Manifest
    aliases: list[str]


class Catalog(LineageRecords):
    """The records of the store behind ``backend``."""

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self._desc: StoreDescriptor | None = None
        self._records: dict[tuple[str, str, int], VersionRecord] = {}
        self._manifests: dict[Digest, Manifest] = {}
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
        made = StoreDescriptor(codec.STORE_FORMAT, DEFAULT_ALGORITHM, 1, codec.utcnow())
        self.backend.create(layout.DESCRIPTOR, made.to_bytes())
        return self.require_store()

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

    def version(self, project: str, name: str, number: int) -> VersionRecord:
        """The record of ``project/name:v<number>``; :class:`ArtifactNotFoundError` if absent."""
        at = (project, name, number)
        rec = self._records.get(at)
        if rec is None:
            key = layout.version_record(project, name, number)
            try:
                data = self.backend.read(key)
            except KeyNotFoundError:
                raise ArtifactNotFoundError(f"{project}/{name}:v{number} not found in store {self.url}") from None
            rec = VersionRecord.from_bytes(data, f"version record {key}", at=at)
            self._records[at] = rec
        return rec

    def versions(self, project: str, name: str, numbers: list[int]) -> dict[int, VersionRecord]:
        """The records of ``numbers`` that exist, those not read yet read in one batch."""
        missing = [n for n in numbers if (project, name, n) not in self._records]
        keys = [layout.version_record(project, name, n) for n in missing]
        for n, (key, data) in zip(missing, self.backend.read_many(keys).items(), strict=True):
            if data is not None:
                self._records[(project, name, n)] = VersionRecord.from_bytes(
                    data, f"version record {key}", at=(project, name, n)
                )
        return {n: rec for n in numbers if (rec := self._records.get((project, name, n))) is not None}

    def create_version(self, record: VersionRecord) -> bool:
        """Write a new version record if its number is free; True if this call made it."""
        key = layout.version_record(record.project, record.name, record.version)
        if not self.backend.create(key, record.to_bytes()):
            return False
        self._records[(record.project, record.name, record.version)] = record
        return True

    def find_version(self, ident: ArtifactVersionId) -> int | None:
        """This store's number for the version ``ident`` names: the same number if it holds
        the same manifest, else any version with that manifest (versions copied from another
        store keep their manifest but not always their number)."""
        numbers = self.version_numbers(ident.project, ident.name)
        same = ident.version in numbers and self.version(ident.project, ident.name, ident.version)
        if same and same.manifest == ident.manifest:
            return ident.version
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
        :class:`ArtifactNotFoundError` naming why not."""
        assert ref.project is not None
        project, name = ref.project, ref.name
        numbers, deleted = self.live_numbers(project, name)
        if not numbers:
            what = "has only deleted versions" if deleted else "not found"
            raise ArtifactNotFoundError(f"artifact {project}/{name} {what} in store {self.url}")
        latest = numbers[-1]
        aliases = {a: v for a, v in self.aliases(project, name).items() if v not in deleted}
        if ref.tag == LATEST:
            number = latest
        elif ref.version is not None:
            number = ref.version
            if number in deleted:
                stone = self.tombstone(project, name, number)
                when = f" at {stone.deleted_at}" if stone else ""
                raise ArtifactNotFoundError(f"{ref} was deleted{when} from store {self.url}")
            if number not in numbers:
                raise ArtifactNotFoundError(f"{ref} not found in store {self.url}: the newest version is v{latest}")
        elif ref.tag in aliases:
            number = aliases[ref.tag]
        else:
            known = ", ".join(sorted(aliases)) or "none"
            raise ArtifactNotFoundError(f"alias {ref.tag!r} is not set on {project}/{name} (aliases: {known})")
        return self._located(project, name, number, aliases, latest)

    def live_versions(
        self, project: str, name: str, *, limit: int | None = None, before: int | None = None
    ) -> list[Located]:
        """The live versions of ``project/name`` numbered below ``before`` (if given): all of
        them oldest first, or with ``limit`` the newest ``limit`` of them, newest first. Only
        the records and manifests returned are read (in one batch)."""
        numbers, _ = self.live_numbers(project, name)
        if not numbers:
            raise ArtifactNotFoundError(f"artifact {project}/{name} not found in store {self.url}")
        latest = numbers[-1]
        if before is not None:
            numbers = [n for n in numbers if n < before]
        if limit is not None:
            numbers = numbers[::-1][:limit]
        aliases = self.aliases(project, name)
        self.versions(project, name, numbers)
        return [self._located(project, name, n, aliases, latest) for n in numbers]

    def _located(self, project: str, name: str, number: int, aliases: dict[str, int], latest: int) -> Located:
        rec = self.version(project, name, number)
        names = ([LATEST] if number == latest else []) + sorted(a for a, v in aliases.items() if v == number)
        return Located(rec, self.version_manifest(rec), names)

    # ------------------------------------------------------------------ tombstones
    def tombstone(self, project: str, name: str, number: int) -> Tombstone | None:
        key = layout.tombstone(project, name, number)
        try:
            return Tombstone.from_bytes(self.backend.read(key), f"tombstone {key}", version=number)
        except KeyNotFoundError:
            return None

    def add_tombstone(self, project: str, name: str, stone: Tombstone) -> bool:
        """Mark ``project/name:v<stone.version>`` deleted; True if this call did."""
        return self.backend.create(layout.tombstone(project, name, stone.version), stone.to_bytes())

    # ------------------------------------------------------------------ manifests
    def manifest(self, digest: Digest) -> Manifest:
        """The manifest with ``digest``, its bytes checked against it (:class:`IntegrityError`)."""
        man = self._manifests.get(digest)
        if man is None:
            key = layout.manifest(digest)
            man = Manifest.from_bytes(self.manifest_bytes(digest), f"manifest {key}")
            self._manifests[digest] = man
        return man

    def manifest_bytes(self, digest: Digest) -> bytes:
        """The encoded manifest with ``digest``, checked against it."""
        key = layout.manifest(digest)
        try:
            data = self.backend.read(key)
        except KeyNotFoundError:
            raise IntegrityError(f"manifest {key} is missing from store {self.url}") from None
        if hash_bytes(data, digest.algorithm) != digest:
            raise IntegrityError(f"manifest {key} in store {self.url} does not match its digest")
        return data

    def version_manifest(self, rec: VersionRecord) -> Manifest:
        """The manifest of ``rec``, which must name the same artifact and type."""
        man = self.manifest(rec.manifest)
        if (man.name, man.type) != (rec.name, rec.type):
            raise MisplacedRecordError(
                f"{rec.qualified_name} in store {self.url}: its manifest {rec.manifest.short} is of "
                f"{man.name!r} (type {man.type!r}), not {rec.name!r} (type {rec.type!r})"
            )
        return man

    def put_manifest(self, manifest: Manifest, data: bytes) -> Digest:
        """Store an encoded manifest (if absent) and return its digest."""
        digest = hash_bytes(data, manifest.algorithm)
        key = layout.manifest(digest)
        if not self.backend.exists(key):
            self.backend.write(key, data)
        self._manifests.setdefault(digest, manifest)  # read back at once by log_artifact
        return digest

    # ------------------------------------------------------------------ aliases
    def aliases(self, project: str, name: str) -> dict[str, int]:
        """Custom alias -> version, from the newest event of each alias (removed ones left out)."""
        adir = layout.aliases_dir(project, name)
        tops: dict[str, str] = {}
        for alias in self.backend.listdir(adir):
            seqs = _seqs(self.backend.listdir(f"{adir}/{alias}"))
            if seqs:
                tops[alias] = layout.alias_event(project, name, alias, seqs[-1])
        out: dict[str, int] = {}
        found = self.backend.read_many(tops.values())
        for alias, key in tops.items():
            data = found[key]
            if data is None:
                continue
            ev = AliasEvent.from_bytes(data, f"alias event {key}", alias=alias)
            if ev.version is not None:
                out[ev.alias] = ev.version
        return out

    def set_alias(self, project: str, name: str, alias: str, version: int | None, run_id: str | None) -> None:
        """Append an alias event pointing ``alias`` at ``version`` (None removes the alias);
        nothing is written when it already points there."""
        seqs = _seqs(self.backend.listdir(layout.alias_dir(project, name, alias)))
        seq = seqs[-1] + 1 if seqs else 0
        if seqs:
            key = layout.alias_event(project, name, alias, seq - 1)
            if AliasEvent.from_bytes(self.backend.read(key), f"alias event {key}", alias=alias).version == version:
                return
        while True:
            event = AliasEvent(alias, version, codec.utcnow(), run_id)
            if self.backend.create(layout.alias_event(project, name, alias, seq), event.to_bytes()):
                return
            seq += 1

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
