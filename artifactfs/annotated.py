"""What is said of an artifact: its description, metadata and tags; and where a logged
version came from besides its run (the version a registry version links to, or a draft's base).

On a draft they are plain fields, logged with it. On a logged version they are its
annotations (:mod:`artifactfs.annotation`): read when first asked for, changed the W&B way —
assign a new value, then :meth:`Annotated.save` — or in one :meth:`Annotated.annotate`
call. A value read is read-only (a dict edited in place would save nothing); the version's
content digest and manifest never change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import codec
from .annotation import AnnotationEvent, AnnotationState, changes, check_tags, current_user, fold
from .draft import type_name
from .errors import ArtifactStateError, InvalidInputError, StoreOfflineError
from .frozen import freeze
from .search import index_version

if TYPE_CHECKING:
    from .catalog import Catalog
    from .manifest import Manifest
    from .records import ArtifactVersionId, VersionRecord

__all__ = ["Annotated", "record_relogged"]

log = logging.getLogger(__name__)

_UNSET: Any = object()


class Annotated:
    """Description, metadata and tags of a draft or of a logged version (see the module)."""

    _record: VersionRecord | None
    _catalog: Catalog | None
    _manifest: Manifest | None
    _description: str | None
    _metadata: dict[str, Any]
    _tags: tuple[str, ...]
    _state: AnnotationState | None
    _pending: dict[str, Any]
    # What the log_artifact call that returned this version recorded as annotations:
    # ["description", "metadata", "tags"] or fewer (same content as a version already there).
    annotated: tuple[str, ...] = ()

    @property
    def qualified_name(self) -> str:
        raise NotImplementedError

    # ------------------------------------------------------------------ the fields
    def _logged_record(self) -> VersionRecord:
        if self._record is None:
            raise ArtifactStateError("a draft has no version record yet: log it with run.log_artifact() first")
        return self._record

    @property
    def linked_from(self) -> ArtifactVersionId | None:
        """For a registry version (``registry/collection:vN``), the version it links to."""
        return self._logged_record().linked

    @property
    def source_qualified_name(self) -> str:
        """The version a registry version links to, else this version's own name (W&B's name)."""
        linked = self._logged_record().linked
        return linked.qualified_name if linked is not None else self.qualified_name

    @property
    def drafted_from(self) -> ArtifactVersionId | None:
        """The version this one was drafted from (``new_draft``), if it was."""
        return self._logged_record().drafted_from

    @property
    def description(self) -> str | None:
        if self._record is None:
            return self._description
        return self._pending.get("description", self._annotations().description)

    @description.setter
    def description(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise InvalidInputError(f"description must be a string, got {type_name(value)}")
        if self._record is None:
            self._description = value
        else:
            self._pending["description"] = value

    @property
    def metadata(self) -> dict[str, Any]:
        """The metadata: a dict on a draft; of a logged version, read-only (assign a new dict
        and :meth:`save` to change it)."""
        if self._record is None:
            return self._metadata
        return self._pending.get("metadata", self._annotations().metadata)  # type: ignore[no-any-return]

    @metadata.setter
    def metadata(self, value: Mapping[str, Any]) -> None:
        if not isinstance(value, Mapping):
            raise InvalidInputError(f"metadata must be a dict, got {type_name(value)}")
        plain = codec.plain(dict(value), "metadata")
        if self._record is None:
            self._metadata = plain
        else:
            self._pending["metadata"] = freeze(plain)

    @property
    def tags(self) -> list[str]:
        """Tags of this version (sorted), e.g. ``["reviewed"]``: set on a draft, or assign and
        :meth:`save` (or :meth:`annotate`) on a logged version."""
        if self._record is None:
            return list(self._tags)
        return list(self._pending.get("tags", self._annotations().tags))

    @tags.setter
    def tags(self, value: Iterable[str]) -> None:
        tags = tuple(sorted(check_tags(value)))
        if self._record is None:
            self._tags = tags
        else:
            self._pending["tags"] = tags

    @property
    def annotation_events(self) -> list[AnnotationEvent]:
        """Every annotation of this logged version, oldest first (who, when, what)."""
        return list(self._annotations().events)

    # ------------------------------------------------------------------ changing a logged version
    def save(self) -> None:
        """Record what was assigned to ``description``, ``metadata`` or ``tags`` of this
        logged version as one annotation event (nothing when nothing changed)."""
        if self._record is None:
            raise ArtifactStateError(f"{self.qualified_name} is a draft: log it with run.log_artifact(...)")
        pending, self._pending = self._pending, {}
        self._write(self._event(pending, run_id=None))

    def annotate(
        self,
        *,
        description: str | None = _UNSET,
        metadata: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
    ) -> None:
        """Change what is said of this logged version in one call: a new ``description``,
        ``metadata`` (replacing the old), ``tags`` (replacing them), or tags added or removed."""
        if description is not _UNSET:
            self.description = description
        if metadata is not None:
            self.metadata = metadata
        current = set(self.tags if tags is None else check_tags(tags))
        current |= set(check_tags(add_tags))
        current -= set(check_tags(remove_tags))
        if tags is not None or add_tags or remove_tags:
            self.tags = current
        self.save()

    # ------------------------------------------------------------------ internals
    def _annotations(self) -> AnnotationState:
        if self._state is None:
            assert self._record is not None and self._catalog is not None
            rec = self._record
            try:
                events = self._catalog.annotations(rec.project, rec.name, rec.version)
            except StoreOfflineError:
                events = []  # offline: what the manifest says (annotations are not kept here)
            self._state = fold(self._description, self._metadata, events)
        return self._state

    def _event(self, pending: dict[str, Any], run_id: str | None) -> AnnotationEvent | None:
        assert self._record is not None
        fields = changes(self._annotations(), pending)
        event = AnnotationEvent(self._record.version, codec.utcnow(), run_id, current_user(), **fields)
        return None if event.empty else event

    def _write(self, event: AnnotationEvent | None) -> None:
        if event is None:
            return
        assert self._record is not None and self._catalog is not None
        rec = self._record
        seq = self._catalog.annotate(rec.project, rec.name, rec.version, event)
        self._state = None  # read again: another writer may have annotated too
        now = self._annotations()
        index_version(self._catalog.backend, rec, now.description, now.metadata, events=seq + 1, tags=now.tags)


def record_relogged(logged: Annotated, draft: Annotated, run_id: str | None) -> tuple[str, ...]:
    """After ``draft`` was logged as ``logged`` (a new version, or one with the same content):
    record what the draft says that the version does not (tags; for a version already there,
    a description or metadata the draft sets) as an annotation. Returns the fields recorded."""
    pending: dict[str, Any] = {}
    if draft._tags:
        pending["tags"] = tuple(sorted(set(logged.tags) | set(draft._tags)))
    if draft._description is not None:
        pending["description"] = draft._description
    if draft._metadata:
        pending["metadata"] = freeze(dict(draft._metadata))
    event = logged._event(pending, run_id)
    logged._write(event)
    if event is None:
        return ()
    fields = [f for f, on in (("description", event.sets_description), ("metadata", event.metadata is not None)) if on]
    fields += ["tags"] if event.add_tags else []
    log.info("%s: recorded %s as an annotation", logged.qualified_name, ", ".join(fields))
    return tuple(fields)
