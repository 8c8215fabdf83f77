"""Lineage walks: the graph of runs and versions around one version, read from a catalog.

Upstream: the versions it references and the run that logged it, that run's inputs,
recursively. Downstream: the runs that used it and what they logged, and the versions that
reference it. Reads are proportional to the size of the graph returned, not of the project,
and what one level of the walk needs is read at once (one round of requests per step, not
one per node).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from .catalog import Catalog, Found
from .errors import ArtifactNotFoundError, InvalidInputError, RunNotFoundError
from .lineage import Direction, LineageGraph, Node
from .records import ArtifactVersionId, RunRecord, VersionRecord

__all__ = ["art_id", "check_walk", "lineage"]

WALKERS = 16  # nodes of one level read at once
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
        todo: list[Item] = []
        for item in frontier:
            key = art_id(item[1]) if item[0] == "artifact" else _run_id(item[1])
            if key not in seen:
                seen.add(key)
                todo.append(item)

        def expand(item: Item) -> tuple[LineageGraph, list[Item]]:
            # Each node of a level into a graph of its own, read at the same time as the
            # others; merged in order, so the graph is the one a walk node by node makes.
            part = LineageGraph(root=graph.root, direction=graph.direction)
            if item[0] == "run":
                return part, _from_run(catalog, part, item[1], way)
            return part, _from_version(catalog, part, item[1], way)

        nxt: list[Item] = []
        with ThreadPoolExecutor(max(1, min(WALKERS, len(todo)))) as pool:
            for part, found in pool.map(expand, todo):
                for node in part.nodes.values():
                    graph.add_node(node)
                for edge in part.edges:
                    graph.add_edge(edge.src, edge.dst, edge.kind)
                nxt.extend(found)
        frontier = nxt
        level += 1


def _from_run(catalog: Catalog, graph: LineageGraph, run: RunRecord, way: Way) -> list[Item]:
    out: list[Item] = []
    for node, found in _version_nodes(catalog, graph, list(run.inputs if way == "up" else run.outputs)):
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
    if way == "up" and rec.linked is not None:  # a registry version: its lineage is its source's
        for node, there in _version_nodes(catalog, graph, [rec.linked]):
            graph.add_edge(node, me, "linked")
            if there is not None:
                out.append(("artifact", there))
        return out
    if way == "up":
        ups = list(found.manifest.upstream) if found.manifest is not None else []
        for node, there in _version_nodes(catalog, graph, ups):
            graph.add_edge(node, me, "references")
            if there is not None:
                out.append(("artifact", there))
        if rec.drafted_from is not None:
            for node, there in _version_nodes(catalog, graph, [rec.drafted_from]):
                graph.add_edge(node, me, "drafted")
                if there is not None:
                    out.append(("artifact", there))
        producer = _logged_by(catalog, rec)
        if producer is not None:
            graph.add_node(_run_node(producer))
            graph.add_edge(_run_id(producer), me, "logged")
            out.append(("run", producer))
        elif rec.run_id is not None and rec.run_project is not None:  # copied without its lineage
            node = f"run:{rec.run_project}/{rec.run_id}"
            attrs = {"project": rec.run_project, "run_id": rec.run_id, "missing": True}
            graph.add_node(Node(node, "run", f"run {rec.run_project}/{rec.run_id} (not in this store)", attrs))
            graph.add_edge(node, me, "logged")
        return out
    for user in catalog.used_by(rec.project, rec.name, rec.version):
        graph.add_node(_run_node(user))
        graph.add_edge(me, _run_id(user), "used")
        out.append(("run", user))
    for node, there in _version_nodes(catalog, graph, catalog.referenced_by(rec.project, rec.name, rec.version)):
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


def _version_nodes(
    catalog: Catalog, graph: LineageGraph, idents: list[ArtifactVersionId]
) -> list[tuple[str, ArtifactVersionId | None]]:
    """Add the node of each version ``idents`` name (read at the same time, added in order);
    for each, (its node id, the version to walk on from).

    A version this store does not hold (copied without its lineage, or from a store whose
    records were lost) is a node marked ``missing``, with nothing beyond it.
    """

    def find(ident: ArtifactVersionId) -> Found | None:
        try:
            return catalog.find(ident)
        except ArtifactNotFoundError:
            return None

    if len(idents) > 1:
        with ThreadPoolExecutor(min(WALKERS, len(idents))) as pool:
            founds = list(pool.map(find, idents))
    else:
        founds = [find(i) for i in idents]
    out: list[tuple[str, ArtifactVersionId | None]] = []
    for ident, found in zip(idents, founds, strict=True):
        if found is None:
            attrs = {**ident.to_dict(), "type": None, "deleted": False, "missing": True}
            graph.add_node(Node(art_id(ident), "artifact", f"{ident.qualified_name} (not in this store)", attrs))
            out.append((art_id(ident), None))
        else:
            graph.add_node(_art_node(found))
            out.append((art_id(found.record.version_id), found.record.version_id))
    return out


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
