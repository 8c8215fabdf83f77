"""The TUI's data access: the only module of ``tui`` that imports artifactfs.

Every function here may do store I/O, so screens call them from Textual workers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import artifactfs as afs
from artifactfs.errors import ArtifactFSError

__all__ = [
    "ArtifactFSError",
    "DataSource",
    "LineageNode",
    "Preview",
]

TEXT_EXTENSIONS = {
    ".py": "python",
    ".txt": "text",
    ".md": "markdown",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".cfg": "ini",
    ".ini": "ini",
    ".csv": "text",
    ".tsv": "text",
    ".sh": "bash",
    ".sql": "sql",
    ".js": "javascript",
    ".ts": "typescript",
    ".html": "html",
    ".xml": "xml",
    ".rs": "rust",
    ".go": "go",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".java": "java",
    ".r": "r",
    ".ipynb": "json",
}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".svg"}
PREVIEW_BYTES = 256 * 1024


@dataclass(frozen=True)
class Preview:
    """What the file viewer shows: ``kind`` is text, json, binary or image."""

    kind: str
    path: str
    size: int
    digest: str
    text: str = ""
    lexer: str = "text"
    truncated: bool = False


@dataclass(frozen=True)
class LineageNode:
    """A node of the lineage tree: an artifact version or a run."""

    kind: str  # "artifact" | "run"
    label: str
    ref: str  # qualified name, or "project/run-id"
    deleted: bool = False
    ident: Any = None  # ArtifactVersionId for artifacts, RunRecord for runs


class DataSource:
    """Thin, synchronous access to one store for the screens."""

    def __init__(self, url: str | None = None) -> None:
        self.store = afs.open_store(url)
        self.url = self.store.url

    # ------------------------------------------------------------------ lists
    def projects(self) -> list[str]:
        return self.store.projects()

    def artifacts(self, project: str) -> list[afs.ArtifactSummary]:
        """The project's artifacts, grouped by type then sorted by name."""
        return sorted(self.store.artifacts(project), key=lambda a: (a.type, a.name))

    def versions(self, project: str, name: str) -> list[afs.Artifact]:
        return self.store.versions(project, name)

    def version(self, ref: str) -> afs.Artifact:
        return self.store.artifact(ref)

    def runs(self, project: str) -> list[afs.RunRecord]:
        return self.store.runs(project)

    def run(self, project: str, run_id: str) -> afs.RunRecord:
        return self.store.run(project, run_id)

    def run_of(self, art: afs.Artifact) -> afs.RunRecord | None:
        return art.logged_by()

    # ------------------------------------------------------------------ content
    def table(self, art: afs.Artifact, path: str) -> afs.Table:
        return art.get_table(path)

    def preview(self, art: afs.Artifact, path: str) -> Preview:
        entry = art.entries[path]
        digest = (entry.digest and str(entry.digest)) or entry.extra.get("uri", "")
        ext = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
        if ext in IMAGE_EXTENSIONS:
            return Preview("image", path, entry.size, digest)
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            local = art.get_path(path, root=tmp)
            with open(local, "rb") as f:
                head = f.read(PREVIEW_BYTES)
        truncated = entry.size > len(head)
        if b"\0" in head[:8192] or not _decodes(head):
            return Preview("binary", path, entry.size, digest, text=_hexdump(head[:512]), truncated=truncated)
        text = head.decode("utf-8", errors="replace")
        if ext == ".json" and not truncated:
            try:
                return Preview("json", path, entry.size, digest, json.dumps(json.loads(text), indent=2), "json")
            except ValueError:
                pass
        if ext in (".yaml", ".yml") and not truncated:
            try:
                import yaml  # type: ignore[import-untyped]  # optional: pretty when PyYAML is installed

                text = yaml.safe_dump(yaml.safe_load(text), sort_keys=False)
            except Exception:  # not installed, or not valid YAML: show as it is
                pass
        return Preview("text", path, entry.size, digest, text, TEXT_EXTENSIONS.get(ext, "text"), truncated)

    def snippet(self, art: afs.Artifact) -> str:
        return (
            "import artifactfs as afs\n\n"
            f"with afs.init(project={art.project!r}, store={self.url!r}) as run:\n"
            f"    art = run.use_artifact({art.qualified_name!r})\n"
            "    path = art.download()\n"
        )

    # ------------------------------------------------------------------ lineage
    def node_for(self, art: afs.Artifact) -> LineageNode:
        label = art.qualified_name + (" (deleted)" if art.deleted else f"  · {art.type}")
        return LineageNode("artifact", label, art.qualified_name, art.deleted, art.version_id)

    def run_node(self, run: afs.RunRecord) -> LineageNode:
        label = f"run {run.name}  · {run.job_type or 'run'}, {run.status}"
        return LineageNode("run", label, f"{run.project}/{run.id}", False, run)

    def upstream(self, node: LineageNode) -> list[LineageNode]:
        """What ``node`` was made from: an artifact's references and the run that logged it;
        a run's inputs."""
        if node.kind == "run":
            return [self.node_for(self.store.resolve(i)) for i in node.ident.inputs]
        art = self.store.resolve(node.ident)
        out = [self.node_for(a) for a in art.references()]
        run = art.logged_by()
        if run is not None:
            out.append(self.run_node(run))
        return out

    def downstream(self, node: LineageNode) -> list[LineageNode]:
        """What was made from ``node``: runs that used an artifact; a run's outputs."""
        if node.kind == "run":
            return [self.node_for(self.store.resolve(o)) for o in node.ident.outputs]
        art = self.store.resolve(node.ident)
        return [self.run_node(r) for r in art.used_by()]

    # ------------------------------------------------------------------ diff
    def diff(self, a: afs.Artifact, b: afs.Artifact) -> afs.VersionDiff:
        return afs.diff(a, b)


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError as e:
        return e.start >= len(data) - 4  # a character cut at the end of the head


def _hexdump(data: bytes) -> str:
    lines = []
    for i in range(0, len(data), 16):
        chunk = data[i : i + 16]
        hexpart = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{i:08x}  {hexpart:<47}  {text}")
    return "\n".join(lines)
