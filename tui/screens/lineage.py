"""Lineage: an expandable tree of what a version came from and what was made from it."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ..format import plain
from ..keys import bindings
from ..messages import OpenRun, OpenVersion
from ..views import LineageNode
from .base import BaseScreen

Way = Literal["root", "up", "down"]
Slot = tuple[Way, LineageNode]  # what a tree node shows, and which way its children lie


class LineageScreen(BaseScreen[LineageNode]):
    """Enter expands or collapses a node; ``o`` opens the version or run it names."""

    BINDINGS = bindings("lineage")
    where = "lineage"

    def __init__(self, ref: str) -> None:
        super().__init__(["lineage", ref])
        self.ref = ref
        self.loaded: set[int] = set()  # ids of tree nodes whose children were asked for

    def body(self) -> ComposeResult:
        tree: Tree[Slot] = Tree(plain(self.ref), id="lineage")
        yield tree

    def fetch(self) -> LineageNode:
        return self.data.lineage_root(self.ref)

    def show(self, node: LineageNode) -> None:
        tree: Tree[Slot] = self.query_one("#lineage", Tree)
        tree.root.set_label(plain(node.label))
        tree.root.data = ("root", node)
        up = tree.root.add("upstream: made from", data=("up", node), allow_expand=True)
        down = tree.root.add("downstream: used by", data=("down", node), allow_expand=True)
        tree.root.expand()
        up.expand()
        down.expand()
        tree.focus()

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Slot]) -> None:
        node = event.node
        if node.data is None or node.children or node.id in self.loaded:
            return
        self.loaded.add(node.id)
        self._expand(node)

    @work(thread=True, group="lineage")
    def _expand(self, node: TreeNode[Slot]) -> None:
        if node.data is None:
            return
        way, target = node.data
        if way == "root":
            return
        try:
            children = self.data.upstream(target) if way == "up" else self.data.downstream(target)
        except Exception as e:
            self.app.call_from_thread(self._failed, e)
            return
        self.app.call_from_thread(self._add, node, way, children)

    def _add(self, node: TreeNode[Slot], way: Way, children: list[LineageNode]) -> None:
        if not children:
            node.add_leaf("[dim](nothing)[/]")
        for child in children:
            label = Text(child.label, style="strike" if child.deleted else "")
            node.add(label, data=(way, child), allow_expand=not child.missing)

    def action_open(self) -> None:
        tree: Tree[Slot] = self.query_one("#lineage", Tree)
        node = tree.cursor_node
        if node is None or node.data is None or node.data[0] not in ("up", "down"):
            return
        target = node.data[1]
        if target.kind == "run":
            project, run_id = target.ref.split("/", 1)
            self.post_message(OpenRun(project, run_id))
        elif target.deleted:
            self.notify(f"{target.ref} was deleted", markup=False)
        elif target.missing:
            self.notify(f"{target.ref} is not in this store", markup=False)
        else:
            self.post_message(OpenVersion(target.ref))
