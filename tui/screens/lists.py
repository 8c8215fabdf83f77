"""Projects, artifacts of a project, versions of an artifact, runs of a project."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable

from ..format import human, when
from ..messages import OpenArtifacts, OpenDiff, OpenRun, OpenRuns, OpenVersion, OpenVersions
from .base import ListScreen, Row


class ProjectsScreen(ListScreen):
    columns = ("project",)

    def __init__(self) -> None:
        super().__init__(["projects"])

    def fetch(self) -> list[Row]:
        return [(p, (p,)) for p in self.data.projects()]

    def open(self, key: str) -> None:
        self.post_message(OpenArtifacts(key))


class ArtifactsScreen(ListScreen):
    columns = ("type", "artifact", "versions", "latest", "updated")
    BINDINGS = [Binding("u", "runs", "Runs")]

    def __init__(self, project: str) -> None:
        super().__init__(["projects", project])
        self.project = project

    def fetch(self) -> list[Row]:
        return [
            (a.name, (a.type, a.name, a.version_count, f"v{a.latest_version}", when(a.updated_at)))
            for a in self.data.artifacts(self.project)
        ]

    def open(self, key: str) -> None:
        self.post_message(OpenVersions(self.project, key))

    def action_runs(self) -> None:
        self.post_message(OpenRuns(self.project))


class VersionsScreen(ListScreen):
    columns = ("version", "aliases", "size", "files", "created", "logged by")
    BINDINGS = [Binding("d", "diff", "Diff with previous")]

    def __init__(self, project: str, name: str) -> None:
        super().__init__(["projects", project, name])
        self.project, self.artifact_name = project, name

    def fetch(self) -> list[Row]:
        rows: list[Row] = []
        for v in reversed(self.data.versions(self.project, self.artifact_name)):
            run = v.logged_by
            rows.append(
                (
                    v.qualified_name,
                    (
                        v.version,
                        ", ".join(v.aliases),
                        human(v.size),
                        v.files,
                        when(v.created_at),
                        f"{run.name} ({run.job_type})" if run else "",
                    ),
                )
            )
        return rows

    def open(self, key: str) -> None:
        self.post_message(OpenVersion(key))

    def action_diff(self) -> None:
        keys = [k for k, _ in self.rows]
        row = self.query_one("#list", DataTable).cursor_row
        if row + 1 < len(keys):  # rows are newest first: the previous version is below
            self.post_message(OpenDiff(keys[row + 1], keys[row]))
        else:
            self.notify("the oldest version has nothing before it")


class RunsScreen(ListScreen):
    columns = ("started", "run", "job type", "status", "duration", "inputs", "outputs")

    def __init__(self, project: str) -> None:
        super().__init__(["projects", project, "runs"])
        self.project = project

    def fetch(self) -> list[Row]:
        rows: list[Row] = []
        for r in reversed(self.data.runs(self.project)):
            dur = f"{r.duration:.1f}s" if r.duration is not None else "—"
            rows.append(
                (r.id, (when(r.started_at), r.name, r.job_type or "", r.status, dur, len(r.inputs), len(r.outputs)))
            )
        return rows

    def open(self, key: str) -> None:
        self.post_message(OpenRun(self.project, key))
