"""Lineage walks: the graph of runs and versions around one version, read from a catalog.

Upstream: the versions it references and the run that logged it, that run's inputs,
recursively. Downstream: the runs that used it and what they logged, and the versions that
reference it. Reads are proportional to the size of the graph returned, not of the project.
"""

from __future__ import annotations

from typing import Literal

from .catalog import Catalog, Found
from .errors import ArtifactNotFoundError, InvalidInputError, RunNotFoundError
from .lineage import Direction, LineageGraph, Node
from .records import ArtifactVersionId, RunRecord, VersionRecord

__all__ = ["art_id", "check_walk", "lineage"]

Way = Literal["up", "down"]
Item = tuple[Literal["artifact"], ArtifactVersionId] | tuple[Literal["run"], RunRecord]


def lineage(catalog: Catalog, root: Found, direction: Direction, depth: int | None) -> LineageGraph:
    """The lineage graph of ``root`` that way, ``depth`` edges deep (None: all of it)."""
    check_walk(direction, depth)
    ident = root.record.version_id
    graph = LineageGraph(root=art_id(ident), direction=direction)
    graph.add_node(_art_node(root))
    if direction in ("upstream", "both"):
        _walk(catalog, graph, ident, "up", depth)
    if direction in ("downstream", "both"):
        _walk(catalog, graph, ident, "down", depth)
    return graph


def check_walk(direction: object, depth: object) -> None:
    """Refuse a direction or depth that is not one (:class:`InvalidInputError`)."""
    if direction not in ("upstream", "downstream", "both"):
        raise InvalidInputError(f"direction must be upstream, downstream or both, got {direction!r}")
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise InvalidInputError(f"depth must be a non-negative integer, got {depth!r}")


def art_id(ident: ArtifactVersionId) -> str:
    return f"artifact:{ident.qualified_name}"


def _run_id(run: RunRecord) -> str:
    return f"run:{run.project}/{run.id}"


def _walk(catalog: Catalog, graph: LineageGraph, start: ArtifactVersionId, way: Way, depth: int | None) -> None:
    frontier: list[Item] = [("artifact", start)]
    seen: set[str] = set()
    level = 0
    while frontier and (depth is None or level < depth):
        nxt: list[Item] = []
        for item in frontier:
            key = art_id(item[1]) if item[0] == "artifact" else _run_id(item[1])
            if key in seen:
                continue
            seen.add(key)
            if item[0] == "run":
                nxt.extend(_from_run(catalog, graph, item[1], way))
            else:
                nxt.extend(_from_version(catalog, graph, item[1], way))
        frontier = nxt
        level += 1


def _from_run(catalog: Catalog, graph: LineageGraph, run: RunRecord, way: Way) -> list[Item]:
    out: list[Item] = []
    for ident in run.inputs if way == "up" else run.outputs:
        node, found = _version_node(catalog, graph, ident)
        if way == "up":
            graph.add_edge(node, _run_id(run), "used")
        else:
            graph.add_edge(_run_id(run), node, "logged")
        if found is not None:
            out.append(("artifact", found))
    return out


def _from_version(catalog: Catalog, graph: LineageGraph, ident: ArtifactVersionId, way: Way) -> list[Item]:
    out: list[Item] = []
    found = catalog.find(ident)
    rec = found.record
    me = art_id(rec.version_id)
    if way == "up":
        for up in found.manifest.upstream if found.manifest is not None else ():
            node, there = _version_node(catalog, graph, up)
            graph.add_edge(node, me, "references")
            if there is not None:
                out.append(("artifact", there))
        producer = _logged_by(catalog, rec)
        if producer is not None:
            graph.add_node(_run_node(producer))
            graph.add_edge(_run_id(producer), me, "logged")
            out.append(("run", producer))
        return out
    for user in catalog.used_by(rec.project, rec.name, rec.version):
        graph.add_node(_run_node(user))
        graph.add_edge(me, _run_id(user), "used")
        out.append(("run", user))
    for down in catalog.referenced_by(rec.project, rec.name, rec.version):
        node, there = _version_node(catalog, graph, down)
        graph.add_edge(me, node, "references")
        if there is not None:
            out.append(("artifact", there))
    return out


def _logged_by(catalog: Catalog, rec: VersionRecord) -> RunRecord | None:
    if rec.run_id is None or rec.run_project is None:
        return None
    try:
        return catalog.run(rec.run_project, rec.run_id)
    except RunNotFoundError:
        return None


def _version_node(
    catalog: Catalog, graph: LineageGraph, ident: ArtifactVersionId
) -> tuple[str, ArtifactVersionId | None]:
    """Add the node of the version ``ident`` names; (its id, the version to walk on from).

    A version this store does not hold (copied without its lineage, or from a store whose
    records were lost) is a node marked ``missing``, with nothing beyond it.
    """
    try:
        found = catalog.find(ident)
    except ArtifactNotFoundError:
        attrs = {**ident.to_dict(), "type": None, "deleted": False, "missing": True}
        graph.add_node(Node(art_id(ident), "artifact", f"{ident.qualified_name} (not in this store)", attrs))
        return art_id(ident), None
    graph.add_node(_art_node(found))
    return art_id(found.record.version_id), found.record.version_id


def _art_node(found: Found) -> Node:
    rec = found.record
    deleted = found.deleted_at is not None
    attrs = {
        "project": rec.project,
        "name": rec.name,
        "version": rec.version,
        "type": rec.type,
        "digest": str(rec.content),
        "manifest": str(rec.manifest),
        "created_at": rec.created_at,
        "deleted": deleted,
        "missing": False,
    }
    label = rec.qualified_name + (" (deleted)" if deleted else "")
    return Node(art_id(rec.version_id), "artifact", label, attrs)


def _run_node(run: RunRecord) -> Node:
    attrs = {
        "project": run.project,
        "run_id": run.id,
        "job_type": run.job_type,
        "status": run.status,
        "config": run.config,
        "git": run.extra.get("git"),
        "started_at": run.started_at,
    }
    return Node(_run_id(run), "run", f"run {run.name} ({run.job_type or 'run'})", attrs)
