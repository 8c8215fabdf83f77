"""Lineage graphs: artifact versions and runs, joined by typed edges (pure, no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import InvalidInputError

__all__ = ["Direction", "Edge", "LineageGraph", "Node"]

EdgeKind = Literal["logged", "used", "references", "linked", "drafted"]


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
    was *used* by a run, a version *references* (was made from) an upstream version, a version
    is *linked* into the registry as a registry version, a version was *drafted* from another
    (``new_draft``)."""

    src: str
    dst: str
    kind: EdgeKind


Direction = Literal["upstream", "downstream", "both"]


@dataclass
class LineageGraph:
    """Nodes and edges around one root version; edges point from inputs towards outputs.

    ``direction`` is what the graph was queried for (:meth:`Store.lineage`); :meth:`to_tree`
    draws that way unless told otherwise.
    """

    root: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    direction: Direction = "upstream"

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
            "direction": self.direction,
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

    def to_tree(self, direction: Direction | None = None) -> str:
        """An indented text tree from the root: upstream (what it came from), downstream (what
        was made from it), or both, one after the other; by default the way the graph was
        queried. A node reached again on another path is printed once more, marked
        ``(see above)``, and not expanded again, so the tree grows with the graph, not with the
        number of paths through it (as ``git log --graph`` and ``pipdeptree`` do)."""
        way = direction or self.direction
        if way == "both":
            return self.to_tree("upstream") + self.to_tree("downstream")
        if way not in ("upstream", "downstream"):
            raise InvalidInputError(f"direction must be upstream, downstream or both, got {way!r}")
        steps: dict[str, list[tuple[str, str]]] = {}
        for e in self.edges:
            src, dst = (e.dst, e.src) if way == "upstream" else (e.src, e.dst)
            steps.setdefault(src, []).append((dst, e.kind))
        lines: list[str] = []
        expanded: set[str] = set()
        # (node, prefix of its line, prefix of its children's lines, edge kind): depth-first,
        # without recursion, so a chain thousands of runs long draws too.
        stack: list[tuple[str, str, str, str]] = [(self.root, "", "", "")]
        while stack:
            nid, prefix, child_prefix, kind = stack.pop()
            node = self.nodes.get(nid)
            label = node.label if node is not None else nid
            again = nid in expanded
            how = f"[{kind}] " if kind else ""
            lines.append(f"{prefix}{how}{label}{' (see above)' if again else ''}")
            if again:
                continue
            expanded.add(nid)
            nexts = steps.get(nid, [])
            for i in reversed(range(len(nexts))):
                last = i == len(nexts) - 1
                child, child_kind = nexts[i]
                stack.append(
                    (
                        child,
                        child_prefix + ("└── " if last else "├── "),
                        child_prefix + ("    " if last else "│   "),
                        child_kind,
                    )
                )
        return "\n".join(lines) + "\n"


def _esc(text: str) -> str:
    return text.replace('"', "'")
