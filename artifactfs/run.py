"""Runs: a unit of work that uses and logs artifact versions, recorded in the store."""

from __future__ import annotations

import atexit
import contextlib
import os
import platform
import secrets
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

from fsspec.callbacks import Callback

from . import codec
from .annotated import record_relogged
from .annotation import check_tags
from .artifact import Artifact
from .codesnap import DEFAULT_CODE_EXCLUDE, code_files, git_info
from .commit import commit
from .distributed import finish, upsert
from .errors import ArtifactStateError, InvalidInputError, LocalPathNotFoundError, NotFoundError
from .reach import offline_env
from .records import RunRecord
from .refs import check_alias, check_name, check_project, parse_ref
from .spool import spool_for, spooled_alias
from .store import Store, open_store

__all__ = ["Run", "current_run", "init", "log_artifact", "use_artifact"]


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
        offline: bool = False,
    ) -> None:
        """``offline``: write into the local spool of ``store`` (see spool.py), read from
        what this machine saw of it; ``artifactfs sync`` publishes it later."""
        self.source = store  # where inputs are read
        self.store = spool_for(store) if offline else store  # where this run is written
        self.offline = offline
        self.project = check_project(project)
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
            extra=_environment(),
        )
        self.summary: dict[str, Any] = {}
        self._history: list[dict[str, Any]] = []
        self.store.catalog.ensure_store()
        self._save()
        _opened(self)

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
        self.store.catalog.save_run(self._record)

    def _check_running(self) -> None:
        if self.finished:
            raise ArtifactStateError(f"run {self.id} has finished; start a new run with afs.init()")

    def log_artifact(
        self,
        artifact: Artifact,
        aliases: list[str] | None = None,
        *,
        tags: list[str] | None = None,
        callback: Callback | None = None,
    ) -> Artifact:
        """Log ``artifact`` as the next version (``name:v0``, ``name:v1``, ...) and return it.

        Content identical to an existing version makes no new version: that version is returned,
        ``aliases`` are moved to it, and a description, metadata or tags the draft gives that
        the version lacks are recorded as its annotations (``annotated`` names them).
        ``tags`` are added to the draft's. ``callback`` (an ``fsspec.callbacks.Callback``) sees
        blob uploads to remote stores.
        """
        self._check_running()
        if not isinstance(artifact, Artifact):
            raise InvalidInputError(f"log_artifact takes an Artifact, got {type(artifact).__name__}")
        if artifact.is_logged:
            raise ArtifactStateError(f"{artifact.qualified_name} is already logged")
        if isinstance(aliases, str):
            aliases = [aliases]
        checked = [check_alias(a) for a in aliases or []]
        if tags:
            artifact.tags = [*artifact.tags, *check_tags(tags)]
        record, is_new = commit(
            self.store,
            artifact,
            project=self.project,
            run_project=self.project,
            run_id=self.id,
            aliases=checked,
            callback=callback,
        )
        logged = self._spooled(self.store.logged_version(record, is_new=is_new))
        logged.annotated = record_relogged(logged, artifact, self.id)
        self._record = self._record.with_output(logged.version_id)
        self._save()
        return logged

    def upsert_artifact(self, artifact: Artifact, *, distributed_id: str | None = None) -> Artifact:
        """Add the files of ``artifact`` as one part of the version that the writers sharing
        ``distributed_id`` (or ``artifact.distributed_id``) make; nothing is visible until
        :meth:`finish_artifact`. The same part added twice is one part (W&B's name)."""
        self._check_distributed(artifact)
        upsert(self.store, artifact, project=self.project, run_id=self.id, distributed_id=distributed_id)
        return artifact

    def finish_artifact(
        self, artifact: Artifact, *, distributed_id: str | None = None, aliases: list[str] | None = None
    ) -> Artifact:
        """Make the version of every part added under ``distributed_id`` (and ``artifact``'s own
        files), and return it; refused, naming the writer, while a part is still being sent."""
        self._check_distributed(artifact)
        checked = [check_alias(a) for a in ([aliases] if isinstance(aliases, str) else aliases or [])]
        record, is_new = finish(
            self.store, artifact, project=self.project, run_id=self.id, distributed_id=distributed_id, aliases=checked
        )
        logged = self.store.logged_version(record, is_new=is_new)
        self._record = self._record.with_output(logged.version_id)
        self._save()
        return logged

    def _check_distributed(self, artifact: Artifact) -> None:
        self._check_running()
        if not isinstance(artifact, Artifact) or artifact.is_logged:
            raise InvalidInputError(f"upsert_artifact and finish_artifact take a draft Artifact, got {artifact!r}")
        if self.offline:
            raise ArtifactStateError("parts of a version are written to the store itself: not in an offline run")

    def use_artifact(self, ref: str | Artifact, type: str | None = None) -> Artifact:
        """Fetch an artifact version (``"name:latest"``, ``"name:v3"``, ``"name:best"``,
        ``"project/name:v3"``) and record it as an input of this run."""
        self._check_running()
        if isinstance(ref, Artifact):
            ref = ref.qualified_name
        art = self._input(ref, type)
        ident = art.version_id
        self._record = self._record.with_input(ident)
        # Two independent writes, sent together: the run's record and the version's used-by index.
        with ThreadPoolExecutor(1) as pool:
            marked = pool.submit(
                self.store.catalog.mark_used, ident.project, ident.name, ident.version, self.project, self.id
            )
            self._save()
            marked.result()
        return art

    def link_artifact(self, artifact: Artifact | str, target_path: str, aliases: list[str] | None = None) -> Artifact:
        """Link a logged version into the registry collection ``target_path`` (``"classifier"``
        or ``"registry/classifier"``) and move ``aliases`` to it, naming this run (W&B's name
        for :meth:`Store.link`); returns the registry version."""
        self._check_running()
        ref = artifact.qualified_name if isinstance(artifact, Artifact) else artifact
        ref = ref if "/" in ref else f"{self.project}/{ref}"
        return self.source.link(ref, target_path, aliases=aliases or (), run=(self.project, self.id))

    def _input(self, ref: str, type: str | None) -> Artifact:
        """Offline, an alias or ``latest`` names the spool's version first (logged by an
        earlier step of this offline pipeline), then the store's as last seen."""
        if self.offline and parse_ref(ref, default_project=self.project).version is None:
            with contextlib.suppress(NotFoundError):
                return self.store.artifact(ref, type=type, project=self.project)
        return self.source.artifact(ref, type=type, project=self.project)

    def log_code(
        self,
        root: str | os.PathLike[str] = ".",
        include: tuple[str, ...] = ("*.py",),
        exclude: tuple[str, ...] = DEFAULT_CODE_EXCLUDE,
        name: str = "code",
    ) -> Artifact:
        """Snapshot source files under ``root`` as an artifact of type ``code``, used by this run.

        Files whose path (relative to ``root``) or name matches one of ``include`` and none of
        ``exclude`` are kept. Unchanged code makes no new version. Because the run uses the
        snapshot, every artifact it logs has this code upstream. The git commit and dirty flag
        of ``root``, when it is in a git repository, are kept in the run record. The code
        version has no logging run: it is an input of every run that snapshots the same code.
        """
        self._check_running()
        base = Path(root)
        if not base.is_dir():
            raise LocalPathNotFoundError(f"log_code: no such folder {os.fspath(root)!r}")
        art = Artifact(name, type="code", description=f"source snapshot of {base.resolve().name}")
        found = 0
        for local, rel in code_files(base, include, exclude):
            art.add_file(local, name=rel)
            found += 1
        if not found:
            raise InvalidInputError(f"log_code: no files under {os.fspath(root)!r} match {', '.join(include)}")
        git = git_info(base)
        if git:
            self._record = replace(self._record, extra={**self._record.extra, "git": git})
        # The snapshot is an input of the run, not one of its products: recording it as logged
        # by the run too would put a cycle (run -> code -> run) in every lineage graph.
        record, is_new = commit(self.store, art, project=self.project, run_project=None, run_id=None, aliases=[])
        return self.use_artifact(self._spooled(self.store.logged_version(record, is_new=is_new)))

    def _spooled(self, logged: Artifact) -> Artifact:
        """Offline, name a version just logged into the spool by its content (an alias there)."""
        if self.offline:
            self.store.set_alias(f"{logged.project}/{logged.name}:v{logged.version_number}", spooled_alias(logged))
        return logged

    def log(self, data: dict[str, Any], step: int | None = None) -> None:
        """Append ``data`` (metrics of one step) to the run's history, and update
        :attr:`summary` with it, as W&B's ``run.log`` does. Kept in memory and written with
        the run's record when it finishes (one write, not one a step); the newest
        :data:`HISTORY_MAX` steps are kept whole, older ones thinned to every other."""
        self._check_running()
        if not isinstance(data, dict):
            raise InvalidInputError(f"run.log takes a dict of metrics, got {type(data).__name__}")
        row = codec.plain(data, "run.log data")
        n = step if step is not None else (self._history[-1]["_step"] + 1 if self._history else 0)
        self._history.append({"_step": n, **row})
        self.summary.update(row)
        if len(self._history) > HISTORY_MAX:
            half = len(self._history) - HISTORY_MAX // 2
            self._history = self._history[:half:2] + self._history[half:]

    @property
    def history(self) -> list[dict[str, Any]]:
        """The rows given to :meth:`log` so far (each with its ``_step``)."""
        return [dict(r) for r in self._history]

    def finish(self, status: str = "finished", error: str | None = None) -> None:
        """Mark the run finished (or ``failed``) and write its final record, with its
        :attr:`summary` and history; idempotent. Runs still open when the interpreter exits
        are finished then (``failed`` after an uncaught exception)."""
        if self.finished:
            return
        summary = codec.plain(self.summary, "run.summary")  # (a value it cannot store is refused first)
        self._record = replace(
            self._record,
            status=status,
            error=error,
            finished_at=codec.utcnow(),
            summary=summary,
            history=tuple(self._history),
        )
        _closed(self)
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


HISTORY_MAX = 10_000  # steps of run.log kept whole in the run record

_open_runs: list[Run] = []  # unfinished runs of this process, the newest last
_uncaught: list[str] = []  # the exception that ended the program, if one did
_hooked = False


def _opened(run: Run) -> None:
    global _hooked
    _open_runs.append(run)
    if not _hooked:
        _hooked = True
        previous = sys.excepthook

        def note(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
            _uncaught.append("".join(traceback.format_exception_only(exc)).strip())
            previous(kind, exc, tb)

        sys.excepthook = note
        atexit.register(_finish_open_runs)


def _closed(run: Run) -> None:
    if run in _open_runs:
        _open_runs.remove(run)


def _finish_open_runs() -> None:
    """At interpreter exit: runs never finished are finished, ``failed`` if the program
    ended with an uncaught exception (as W&B marks them)."""
    for run in reversed(list(_open_runs)):
        try:
            if _uncaught:
                run.finish("failed", _uncaught[-1])
            else:
                run.finish()
        except Exception as e:  # the store may be gone by now: say so, do not raise at exit
            print(f"artifactfs: could not finish run {run.project}/{run.id}: {e}", file=sys.stderr)


def current_run() -> Run:
    """The run opened last in this process and not finished yet."""
    if not _open_runs:
        raise ArtifactStateError(
            "no run is active in this process: start one with afs.init(project=...) "
            "(or call run.use_artifact / run.log_artifact on a run you hold)"
        )
    return _open_runs[-1]


def use_artifact(ref: str | Artifact, type: str | None = None) -> Artifact:
    """:meth:`Run.use_artifact` on the run opened last in this process (W&B's ``wandb.use_artifact``)."""
    return current_run().use_artifact(ref, type=type)


def log_artifact(
    artifact: Artifact,
    aliases: list[str] | None = None,
    *,
    tags: list[str] | None = None,
    callback: Callback | None = None,
) -> Artifact:
    """:meth:`Run.log_artifact` on the run opened last in this process (W&B's ``wandb.log_artifact``)."""
    return current_run().log_artifact(artifact, aliases, tags=tags, callback=callback)


def _environment() -> dict[str, Any]:
    env: dict[str, Any] = {"python": platform.python_version(), "pid": os.getpid()}
    git = git_info(os.getcwd())
    if git:
        env["git"] = git
    return env


def init(
    project: str,
    job_type: str | None = None,
    config: dict[str, Any] | None = None,
    name: str | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    mode: str | None = None,
    **storage_options: Any,
) -> Run:
    """Start a run in ``project`` on ``store`` (a URL, a path, a :class:`Store`, or the default).

    ``mode="offline"`` (the default while ``$ARTIFACTFS_OFFLINE`` is set) logs into a local
    spool, published later by ``artifactfs sync``; ``mode="online"`` writes to the store.
    ``storage_options`` are passed to the fsspec filesystem when ``store`` is a URL.
    """
    check_project(project)
    if mode not in (None, "online", "offline"):
        raise InvalidInputError(f"mode must be 'online' or 'offline', got {mode!r}")
    st = store if isinstance(store, Store) else open_store(store, **storage_options)
    offline = mode == "offline" or (mode is None and offline_env())
    return Run(store=st, project=project, job_type=job_type, config=config, name=name, offline=offline)
