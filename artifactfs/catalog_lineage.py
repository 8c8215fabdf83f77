"""The catalog's lineage records: run records, and the used-by and referenced-by markers that
index which runs used a version and which versions reference it (see :mod:`artifactfs.catalog`)."""

from __future__ import annotations

import contextlib

from . import layout
from .backend import Backend
from .errors import KeyNotFoundError, RunNotFoundError
from .markers import ReferencedByMarker, UsedByMarker
from .records import ArtifactVersionId, RunRecord

__all__ = ["LineageRecords"]


class LineageRecords:
    """Runs and lineage markers of the store behind ``backend``; a finished run's record is cached."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._finished_runs: dict[tuple[str, str], RunRecord] = {}

    @property
    def url(self) -> str:
        return self.backend.url

    # ------------------------------------------------------------------ lineage markers
    def mark_used(self, project: str, name: str, number: int, run_project: str, run_id: str) -> None:
        """Index that a run used ``project/name:v<number>`` (read back by :meth:`used_by`)."""
        marker = UsedByMarker(run_project, run_id).to_bytes()
        self.backend.write(layout.used_by_marker(project, name, number, run_id), marker)

    def used_by(self, project: str, name: str, number: int) -> list[RunRecord]:
        """The runs that used ``project/name:v<number>`` (those whose record exists), oldest first."""
        udir = layout.used_by_dir(project, name, number)
        names = self.backend.listdir(udir)
        markers = self.backend.read_many(f"{udir}/{n}" for n in names)
        runs = []
        for run_id, (key, data) in zip(names, markers.items(), strict=True):
            if data is None:
                continue
            m = UsedByMarker.from_bytes(data, f"used-by marker {key}", run=run_id)
            with contextlib.suppress(RunNotFoundError):
                runs.append(self.run(m.project, m.run))
        return sorted(runs, key=lambda r: (r.started_at, r.id))

    def mark_referenced(self, project: str, name: str, number: int, by: ArtifactVersionId) -> None:
        """Index that the version ``by`` references ``project/name:v<number>``."""
        key = layout.referenced_by_marker(project, name, number, by.manifest)
        self.backend.write(key, ReferencedByMarker(by).to_bytes())

    def referenced_by(self, project: str, name: str, number: int) -> list[ArtifactVersionId]:
        """The versions that reference ``project/name:v<number>`` (``add_reference``)."""
        rdir = layout.referenced_by_dir(project, name, number)
        names = self.backend.listdir(rdir)
        out = []
        for n, (key, data) in zip(names, self.backend.read_many(f"{rdir}/{n}" for n in names).items(), strict=True):
            if data is not None:
                what = f"referenced-by marker {key}"
                out.append(ReferencedByMarker.from_bytes(data, what, manifest=layout.parse_marker_digest(n, what)).by)
        return out

    # ------------------------------------------------------------------ runs
    def run(self, project: str, run_id: str) -> RunRecord:
        """One run record (:class:`RunNotFoundError` if absent); a finished run's is cached."""
        cached = self._finished_runs.get((project, run_id))
        if cached is not None:
            return cached
        key = layout.run_record(project, run_id)
        try:
            run = RunRecord.from_bytes(self.backend.read(key), f"run record {key}", at=(project, run_id))
        except KeyNotFoundError:
            raise RunNotFoundError(f"run {run_id!r} not found in project {project!r} of store {self.url}") from None
        if run.status != "running":  # a finished run's record no longer changes
            self._finished_runs[(project, run_id)] = run
        return run

    def run_records(self, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], RunRecord]:
        """The records of the runs ``wanted`` ((project, id) pairs) that exist, in one round."""
        out = {w: self._finished_runs[w] for w in wanted if w in self._finished_runs}
        keys = {layout.run_record(p, i): (p, i) for p, i in dict.fromkeys(wanted) if (p, i) not in out}
        for key, data in (self.backend.read_many(list(keys)) if keys else {}).items():
            if data is not None:
                run = out[keys[key]] = RunRecord.from_bytes(data, f"run record {key}", at=keys[key])
                if run.status != "running":  # a finished run's record no longer changes
                    self._finished_runs[keys[key]] = run
        return out

    def runs(self, project: str) -> list[RunRecord]:
        """The runs of a project, oldest first."""
        suffix = ".msgpack"
        names = [n[: -len(suffix)] for n in self.backend.listdir(layout.runs_dir(project)) if n.endswith(suffix)]
        datas = self.backend.read_many(layout.run_record(project, n) for n in names)
        runs = [
            RunRecord.from_bytes(d, f"run record {k}", at=(project, n))
            for n, (k, d) in zip(names, datas.items(), strict=True)
            if d is not None
        ]
        return sorted(runs, key=lambda r: (r.started_at, r.id))

    def save_run(self, record: RunRecord) -> None:
        """Write a run record (its one writer, the run, may rewrite it)."""
        self.backend.write(layout.run_record(record.project, record.id), record.to_bytes())

    def add_run(self, record: RunRecord) -> bool:
        """Write a run record copied from another store, unless this store has it; True if written."""
        key = layout.run_record(record.project, record.id)
        if self.backend.exists(key):
            return False
        self.backend.write(key, record.to_bytes())
        return True
