"""The catalog's annotation events (tags, description and metadata set after logging), the
history of an alias, read from its events (see :mod:`artifactfs.annotation`), and retention
policy events (:mod:`artifactfs.policy`)."""

from __future__ import annotations

import logging

from . import layout
from .annotation import AnnotationEvent
from .catalog_lineage import LineageRecords
from .errors import ArtifactFSError
from .policy import RetentionPolicy
from .records import AliasEvent

__all__ = ["AnnotationRecords"]

log = logging.getLogger(__name__)


class AnnotationRecords(LineageRecords):
    """Annotation events, alias histories and retention policies of the store behind ``backend``."""

    def annotations(self, project: str, name: str, number: int) -> list[AnnotationEvent]:
        """The annotation events of ``project/name:v<number>``, oldest first: one listing and
        one concurrent read. An event that does not decode, or names another version, is
        skipped with a warning in the log: what is said of a version never breaks reading it."""
        folder = layout.annotations_dir(project, name, number)
        names = sorted(n for n in self.backend.listdir(folder) if _seq_of(n) is not None)
        got = self.backend.read_many(f"{folder}/{n}" for n in names)
        out = []
        for key, data in got.items():
            if data is None:
                continue  # removed since the listing (never by artifactfs)
            try:
                out.append(AnnotationEvent.from_bytes(data, f"annotation {key}", version=number))
            except ArtifactFSError as e:
                log.warning("ignoring the annotation %s in store %s: %s", key, self.url, e)
        return out

    def annotate(self, project: str, name: str, number: int, event: AnnotationEvent) -> int:
        """Append ``event`` to the version's annotations (create-if-absent at the next free
        number: two writers at once both land, one after the other); returns its number."""
        folder = layout.annotations_dir(project, name, number)
        return self._append(folder, event.to_bytes())

    def _append(self, folder: str, data: bytes) -> int:
        present = [s for n in self.backend.listdir(folder) if (s := _seq_of(n)) is not None]
        seq = max(present, default=-1) + 1
        while not self.backend.create(layout.event(folder, seq), data):
            seq += 1
        return seq

    def policy(self, project: str, name: str | None = None) -> RetentionPolicy | None:
        """The retention policy set on ``project`` (``name`` None) or on ``project/name``: its
        newest event (None if none was set, or the newest cleared it). Two requests."""
        folder = layout.retention_dir(project, name)
        seqs = sorted(s for n in self.backend.listdir(folder) if (s := _seq_of(n)) is not None)
        if not seqs:
            return None
        key = layout.retention_event(project, name, seqs[-1])
        policy = RetentionPolicy.from_bytes(
            self.backend.read(key), f"retention policy {key}", scope="project" if name is None else "artifact"
        )
        return None if policy.empty else policy

    def set_policy(self, project: str, name: str | None, policy: RetentionPolicy) -> None:
        """Append ``policy`` (an empty one clears) to the events of ``project`` or ``project/name``."""
        self._append(layout.retention_dir(project, name), policy.to_bytes())

    def alias_history(self, project: str, name: str, alias: str) -> list[tuple[int, AliasEvent]]:
        """Every event of ``alias``, oldest first, with its sequence number: where it pointed,
        when, and which run moved it (``version`` None: removed)."""
        folder = layout.alias_dir(project, name, alias)
        names = sorted(n for n in self.backend.listdir(folder) if _seq_of(n) is not None)
        got = self.backend.read_many(f"{folder}/{n}" for n in names)
        out = []
        for n, (key, data) in zip(names, got.items(), strict=True):
            if data is not None:
                seq = _seq_of(n)
                assert seq is not None
                out.append((seq, AliasEvent.from_bytes(data, f"alias event {key}", alias=alias)))
        return out


def _seq_of(file_name: str) -> int | None:
    stem, dot, ext = file_name.partition(".")
    if ext != "msgpack" or not dot or len(stem) != 10 or not stem.isdigit():
        return None
    return int(stem)
