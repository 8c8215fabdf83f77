"""Finding versions by what they are: ``store.search(type="model", tags=["reviewed"],
where="metadata.eval.accuracy > 0.9")``, answered from the index in the store
(:mod:`artifactfs.search_index`), never by reading manifests; and the index's upkeep
(``compact_index``, ``reindex``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import layout
from .annotation import fold
from .errors import ArtifactFSError, InvalidInputError
from .records import VersionRecord
from .refs import check_name
from .search_index import DELETED_SEQ, IndexRow, compact, read_index, write_row

if TYPE_CHECKING:
    import pyarrow as pa

    from .backend import Backend
    from .catalog import Catalog

__all__ = ["DELETED_SEQ", "SearchHit", "Searching", "index_version"]

FIELDS = ("project", "name", "version", "type", "created_at", "description")


@dataclass(frozen=True)
class SearchHit:
    """A version a search found: its name and what the index says of it (checked against
    its version record)."""

    qualified_name: str
    project: str
    name: str
    version: str
    type: str
    created_at: str
    description: str | None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)


def index_version(
    backend: Backend, rec: VersionRecord, description: str | None, metadata: Mapping[str, Any], **state: Any
) -> None:
    """Append the state of ``rec`` to the index (``state``: ``events``, the annotation events it
    reflects; ``tags``; ``deleted``)."""
    seq, tags, deleted = state.get("events", 0), tuple(state.get("tags", ())), bool(state.get("deleted", False))
    row = IndexRow(
        rec.project, rec.name, rec.version, seq, rec.type, rec.created_at, description, metadata, tags, deleted
    )
    write_row(backend, row)


class Searching:
    """The search methods of :class:`~artifactfs.Store`."""

    backend: Backend
    catalog: Catalog

    def search(
        self,
        project: str | None = None,
        type: str | None = None,
        name: str | None = None,
        tags: Iterable[str] | None = None,
        where: str | None = None,
        created_after: dt.datetime | str | None = None,
        order_by: str = "-created_at",
        limit: int | None = 100,
    ) -> list[SearchHit]:
        """Versions matching every condition given, newest first by default.

        ``tags``: versions holding all of them. ``where``: an expression over version fields
        (``project``, ``name``, ``version``, ``type``, ``created_at``, ``description``) and
        metadata (``metadata.eval.accuracy``): ``==  != > >= < <=``, ``~`` (contains),
        ``is null``, with ``and``/``or``/``not`` and parentheses; parsed, never run as Python.
        ``order_by``: a field, ``-`` first for descending. Reads the index (a few requests
        after :meth:`compact_index`), then checks the hits against their version records.
        """
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise InvalidInputError(f"limit must be a positive integer (or None), got {limit!r}")
        for value, what in ((project, "project"), (name, "artifact name"), (type, "artifact type")):
            if value is not None:
                check_name(value, what)
        wanted = set(tags or ())
        after = _time(created_after)
        self.catalog.require_store()
        rows = [
            r
            for r in read_index(self.backend).rows.values()
            if not r.deleted
            and (project is None or r.project == project)
            and (name is None or r.name == name)
            and (type is None or r.type == type)
            and wanted <= set(r.tags)
            and (after is None or dt.datetime.fromisoformat(r.created_at) > after)
        ]
        rows = _matching(rows, where, order_by)
        return self._checked(rows, limit)

    def _checked(self, rows: list[IndexRow], limit: int | None) -> list[SearchHit]:
        """The first ``limit`` rows whose version record exists and agrees, read a page of
        ``limit`` at a time (one concurrent round when the index holds no lies)."""
        out: list[SearchHit] = []
        page = limit or len(rows) or 1
        for start in range(0, len(rows), page):
            chunk = rows[start : start + page]
            keys = [layout.version_record(r.project, r.name, r.version) for r in chunk]
            got = self.backend.read_many(keys)
            for row, key in zip(chunk, keys, strict=True):
                data = got.get(key)
                if data is None:
                    continue  # the index names a version that does not exist
                try:
                    rec = VersionRecord.from_bytes(data, f"version record {key}", at=row.key)
                except ArtifactFSError:
                    continue
                if (rec.type, rec.created_at) != (row.type, row.created_at):
                    continue
                out.append(
                    SearchHit(rec.qualified_name, rec.project, rec.name, f"v{rec.version}", rec.type,
                              rec.created_at, row.description, row.tags, row.metadata)
                )  # fmt: skip
                if limit is not None and len(out) == limit:
                    return out
        return out

    def compact_index(self) -> str | None:
        """Fold the index's records into one Parquet segment (what writers do now and then);
        returns the segment's name, or None when there was nothing to fold."""
        self.catalog.require_store()
        return compact(self.backend)

    def reindex(self) -> int:
        """Index every live version from its records and annotations (a store logged before
        the index existed, or one whose index was lost); returns how many, then compacts."""
        self.catalog.require_store()
        n = 0
        for project in self.catalog.projects():
            for name in self.catalog.artifact_names(project):
                for located in self.catalog.live_versions(project, name):
                    rec, manifest = located.record, located.manifest
                    events = self.catalog.annotations(project, name, rec.version)
                    state = fold(manifest.description, manifest.metadata, events)
                    index_version(
                        self.backend, rec, state.description, state.metadata, events=len(events), tags=state.tags
                    )
                    n += 1
        compact(self.backend)
        return n


def _time(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        t = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"created_after must be a datetime or an ISO 8601 time, got {value!r}") from None
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def _matching(rows: list[IndexRow], where: str | None, order_by: str) -> list[IndexRow]:
    """``rows`` that ``where`` keeps, in the order of ``order_by``."""
    if not rows:
        return []
    import pyarrow.compute as pc

    from .filters import parse_filter

    table = _table(rows)
    column = order_by.removeprefix("-")
    if column not in table.column_names:
        if not column.startswith("metadata.") and column not in FIELDS:
            raise InvalidInputError(f"order_by: no field {column!r} (fields: {', '.join(FIELDS)}, metadata.<key>)")
        column = "created_at"
    if where is not None:
        try:
            keep = parse_filter(where, table.schema.remove(table.schema.get_field_index("_row")))
        except ValueError as e:
            if str(e).startswith("no column 'metadata."):
                return []  # no version has that metadata key
            raise InvalidInputError(f"where: {e}") from None
        table = table.filter(pc.fill_null(keep.mask(table), False))
    order = "descending" if order_by.startswith("-") else "ascending"
    table = table.sort_by([(column, order), ("version", order)])  # nulls last
    return [rows[i] for i in table.column("_row").to_pylist()]


def _table(rows: list[IndexRow]) -> pa.Table:
    """One row per version: the version fields, and each metadata key as a column
    (``metadata.a.b``): numbers as float64, booleans, text; anything else as JSON text."""
    import pyarrow as pa

    flat = [_flatten(r.metadata) for r in rows]
    keys = sorted({k for f in flat for k in f})
    columns: dict[str, Any] = {
        "_row": pa.array(range(len(rows)), pa.int64()),
        "project": [r.project for r in rows],
        "name": [r.name for r in rows],
        "version": pa.array([r.version for r in rows], pa.int64()),
        "type": [r.type for r in rows],
        "created_at": [r.created_at for r in rows],
        "description": pa.array([r.description for r in rows], pa.string()),
    }
    for k in keys:
        values = [f.get(k) for f in flat]
        present = [v for v in values if v is not None]
        if present and all(isinstance(v, bool) for v in present):
            columns[k] = pa.array(values, pa.bool_())
        elif present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            columns[k] = pa.array([None if v is None else float(v) for v in values], pa.float64())
        else:
            text = [v if v is None or isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values]
            columns[k] = pa.array(text, pa.string())
    return pa.table(columns)


def _flatten(metadata: Mapping[str, Any], prefix: str = "metadata") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in metadata.items():
        if isinstance(v, dict):  # metadata maps are dicts (frozen ones too): no ABC check per value
            out.update(_flatten(v, f"{prefix}.{k}"))
        else:
            out[f"{prefix}.{k}"] = v
    return out
