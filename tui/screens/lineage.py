"""Lineage: an expandable tree of what a version came from and what was made from it."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ..format import plain
from .base import BaseScreen


class LineageScreen(BaseScreen):
    """Enter expands or collapses a node; ``o`` opens the version or run it names."""

    BINDINGS = [Binding("o", "open", "Open node")]

    def __init__(self, ref: str) -> None:
        super().__init__(["lineage", ref])
        self.ref = ref

    def body(self) -> ComposeResult:
        yield Tree(plain(self.ref), id="lineage")

    def fetch(self) -> Any:
        art = self.data.version(self.ref)
        return self.data.node_for(art)

    def show(self, node: Any) -> None:
        tree = self.query_one("#lineage", Tree)
        tree.root.set_label(plain(node.label))
        tree.root.data = ("root", node)
        up = tree.root.add("upstream: made from", data=("up", node), allow_expand=True)
        down = tree.root.add("downstream: used by", data=("down", node), allow_expand=True)
        tree.root.expand()
        up.expand()
        down.expand()
        tree.focus()

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        node = event.node
        if node.data is None or node.children or getattr(node, "_loaded", False):
            return
        node._loaded = True  # type: ignore[attr-defined]
        self._expand(node)

    @work(thread=True, group="lineage")
    def _expand(self, node: TreeNode[Any]) -> None:
        if node.data is None:
            return
        direction, target = node.data
        if direction == "root":
            return
        try:
            children = self.data.upstream(target) if direction == "up" else self.data.downstream(target)
        except Exception as e:
            self.app.call_from_thread(self._failed, e)
            return
        self.app.call_from_thread(self._add, node, direction, children)

    def _add(self, node: TreeNode[Any], direction: str, children: list[Any]) -> None:
        if not children:
            node.add_leaf("[dim](nothing)[/]")
        for child in children:
            label = Text(child.label, style="strike" if child.deleted else "")
            node.add(label, data=(direction, child), allow_expand=True)

    def action_open(self) -> None:
        tree = self.query_one("#lineage", Tree)
        node = tree.cursor_node
        if node is None or node.data is None or node.data[0] not in ("up", "down"):
            return
        target = node.data[1]
        if target.kind == "run":
            from .run import RunScreen

            project, run_id = target.ref.split("/", 1)
            self.app.push_screen(RunScreen(project, run_id))
        elif target.deleted:
            self.notify(f"{target.ref} was deleted", markup=False)
        else:
            from .version import VersionScreen

            self.app.push_screen(VersionScreen(target.ref))
