"""Runs: a unit of work that uses and logs artifact versions, recorded in the store."""

from __future__ import annotations

import os
import platform
import secrets
import time
import traceback
from dataclasses import replace
from types import TracebackType
from typing import Any

from fsspec.callbacks import Callback

from . import codec, layout
from .artifact import Artifact
from .commit import commit
from .errors import ArtifactStateError, InvalidInputError
from .records import RunRecord
from .refs import check_alias, check_name
from .store import Store, open_store

__all__ = ["Run", "init"]


def _new_run_id() -> str:
    # Sortable by start time, unique across machines without coordination.
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(4)


class Run:
    """A run of one job: records its config, the artifacts it used and the ones it logged.

    Use it as a context manager (``with afs.init(...) as run:``) or call :meth:`finish`.
    An exception inside the ``with`` block marks the run ``failed``; the record still lands.
    """

    def __init__(
        self,
        *,
        store: Store,
        project: str,
        job_type: str | None = None,
        config: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.store = store
        self.project = check_name(project, "project")
        if job_type is not None:
            check_name(job_type, "job_type")
        if config is not None and not isinstance(config, dict):
            raise InvalidInputError(f"config must be a dict, got {type(config).__name__}")
        self.id = _new_run_id()
        self.name = check_name(name, "run name") if name is not None else f"{job_type or 'run'}-{self.id}"
        self._record = RunRecord(
            id=self.id,
            project=self.project,
            name=self.name,
            job_type=job_type,
            config=codec.plain(config or {}, "config"),
            status="running",
            started_at=codec.utcnow(),
            host=platform.node() or None,
            extra={"python": platform.python_version(), "pid": os.getpid()},
        )
        store._ensure_writable()
        self._save()

    @property
    def job_type(self) -> str | None:
        return self._record.job_type

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._record.config)

    @property
    def record(self) -> RunRecord:
        """The run record as it is now."""
        return self._record

    @property
    def finished(self) -> bool:
        return self._record.status != "running"

    def _save(self) -> None:
        # A run record has exactly one writer, this run, so it may be rewritten.
        self.store.backend.write(layout.run_record(self.project, self.id), self._record.to_bytes())

    def _check_running(self) -> None:
        if self.finished:
            raise ArtifactStateError(f"run {self.id} has finished; start a new run with afs.init()")

    def log_artifact(
        self, artifact: Artifact, aliases: list[str] | None = None, *, callback: Callback | None = None
    ) -> Artifact:
        """Log ``artifact`` as the next version (``name:v0``, ``name:v1``, ...) and return it.

        Content identical to an existing version makes no new version: that version is returned,
        and ``aliases`` are moved to it. ``callback`` (an ``fsspec.callbacks.Callback``) sees blob
        uploads to remote stores.
        """
        self._check_running()
        if not isinstance(artifact, Artifact):
            raise InvalidInputError(f"log_artifact takes an Artifact, got {type(artifact).__name__}")
        if artifact.is_logged:
            raise ArtifactStateError(f"{artifact.qualified_name} is already logged")
        if isinstance(aliases, str):
            aliases = [aliases]
        checked = [check_alias(a) for a in aliases or []]
        record, _ = commit(
            self.store,
            artifact,
            project=self.project,
            run_project=self.project,
            run_id=self.id,
            aliases=checked,
            callback=callback,
        )
        logged = self.store.artifact(f"{record.project}/{record.name}:v{record.version}")
        self._record = self._record.with_output(logged._identity())
        self._save()
        return logged

    def use_artifact(self, ref: str | Artifact, type: str | None = None) -> Artifact:
        """Fetch an artifact version (``"name:latest"``, ``"name:v3"``, ``"name:best"``,
        ``"project/name:v3"``) and record it as an input of this run."""
        self._check_running()
        if isinstance(ref, Artifact):
            ref = ref.qualified_name
        art = self.store.artifact(ref, type=type, project=self.project)
        ident = art._identity()
        self._record = self._record.with_input(ident)
        self._save()
        marker = codec.encode({"format": codec.FORMAT_VERSION, "project": self.project, "run": self.id})
        self.store.backend.write(layout.used_by_marker(ident.project, ident.name, ident.version, self.id), marker)
        return art

    def finish(self, status: str = "finished", error: str | None = None) -> None:
        """Mark the run finished (or ``failed``) and write its final record; idempotent."""
        if self.finished:
            return
        self._record = replace(self._record, status=status, error=error, finished_at=codec.utcnow())
        self._save()

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.finish()
        else:
            last = "".join(traceback.format_exception_only(exc)).strip()
            self.finish("failed", last)

    def __repr__(self) -> str:
        return f"<Run {self.project}/{self.id} {self._record.status}>"


def init(
    project: str,
    job_type: str | None = None,
    config: dict[str, Any] | None = None,
    name: str | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    **storage_options: Any,
) -> Run:
    """Start a run in ``project`` on ``store`` (a URL, a path, a :class:`Store`, or the default).

    ``storage_options`` are passed to the fsspec filesystem when ``store`` is a URL.
    """
    check_name(project, "project")
    st = store if isinstance(store, Store) else open_store(store, **storage_options)
    return Run(store=st, project=project, job_type=job_type, config=config, name=name)
