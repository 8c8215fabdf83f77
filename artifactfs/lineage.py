"""Lineage graphs: artifact versions and runs, joined by typed edges (pure, no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Edge", "LineageGraph", "Node"]

EdgeKind = Literal["logged", "used", "references"]


@dataclass(frozen=True, slots=True)
class Node:
    """An artifact version (``id`` = ``artifact:project/name:vN``) or a run (``run:project/id``)."""

    id: str
    kind: Literal["artifact", "run"]
    label: str
    attrs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Edge:
    """``src`` to ``dst`` in the direction things were made: a run *logged* a version, a version
    was *used* by a run, a version *references* (was made from) an upstream version."""

    src: str
    dst: str
    kind: EdgeKind


@dataclass
class LineageGraph:
    """Nodes and edges around one root version; edges point from inputs towards outputs."""

    root: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def add_node(self, node: Node) -> None:
        self.nodes.setdefault(node.id, node)

    def add_edge(self, src: str, dst: str, kind: EdgeKind) -> None:
        edge = Edge(src, dst, kind)
        if edge not in self.edges:
            self.edges.append(edge)

    def artifacts(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "artifact"]

    def runs(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "run"]

    def parents(self, node_id: str) -> list[str]:
        return [e.src for e in self.edges if e.dst == node_id]

    def children(self, node_id: str) -> list[str]:
        return [e.dst for e in self.edges if e.src == node_id]

    # ---------------------------------------------------------------- exports
    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "nodes": [{"id": n.id, "kind": n.kind, "label": n.label, **n.attrs} for n in self.nodes.values()],
            "edges": [{"src": e.src, "dst": e.dst, "kind": e.kind} for e in self.edges],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def to_dot(self) -> str:
        """Graphviz source."""
        ids = {nid: f"n{i}" for i, nid in enumerate(self.nodes)}
        lines = ["digraph lineage {", "  rankdir=LR;"]
        for nid, n in self.nodes.items():
            shape = "box" if n.kind == "artifact" else "ellipse"
            extra = ", style=dashed" if n.attrs.get("deleted") else ""
            extra += ", penwidth=2" if nid == self.root else ""
            lines.append(f'  {ids[nid]} [label="{_esc(n.label)}", shape={shape}{extra}];')
        for e in self.edges:
            lines.append(f'  {ids[e.src]} -> {ids[e.dst]} [label="{e.kind}"];')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_mermaid(self) -> str:
        """A Mermaid flowchart, for Markdown documents."""
        ids = {nid: f"n{i}" for i, nid in enumerate(self.nodes)}
        lines = ["flowchart LR"]
        for nid, n in self.nodes.items():
            text = _esc(n.label)
            lines.append(f'  {ids[nid]}["{text}"]' if n.kind == "artifact" else f'  {ids[nid]}(["{text}"])')
        for e in self.edges:
            lines.append(f"  {ids[e.src]} -->|{e.kind}| {ids[e.dst]}")
        return "\n".join(lines) + "\n"

    def to_networkx(self) -> Any:
        """A ``networkx.DiGraph`` (needs networkx installed)."""
        import networkx as nx

        g = nx.DiGraph()
        for n in self.nodes.values():
            g.add_node(n.id, kind=n.kind, label=n.label, **n.attrs)
        for e in self.edges:
            g.add_edge(e.src, e.dst, kind=e.kind)
        return g

    def to_tree(self, direction: Literal["upstream", "downstream"] = "upstream") -> str:
        """An indented text tree from the root, upstream (what it came from) or downstream."""
        lines: list[str] = []
        step = self.parents if direction == "upstream" else self.children

        def walk(nid: str, prefix: str, last: bool, seen: frozenset[str], kind: str) -> None:
            n = self.nodes[nid]
            branch = "" if not prefix and not lines else ("└── " if last else "├── ")
            how = f"[{kind}] " if kind else ""
            again = " (see above)" if nid in seen else ""
            lines.append(f"{prefix}{branch}{how}{n.label}{again}")
            if nid in seen:
                return
            nexts = step(nid)
            child_prefix = prefix + ("" if not branch else ("    " if last else "│   "))
            for i, nxt in enumerate(nexts):
                edge = next(
                    e for e in self.edges if (e.src, e.dst) == ((nxt, nid) if direction == "upstream" else (nid, nxt))
                )
                walk(nxt, child_prefix, i == len(nexts) - 1, seen | {nid}, edge.kind)

        walk(self.root, "", True, frozenset(), "")
        return "\n".join(lines) + "\n"


def _esc(text: str) -> str:
    return text.replace('"', "'")
