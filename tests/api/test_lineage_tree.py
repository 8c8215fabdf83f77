"""Lineage trees grow with the graph, not with the paths through it; they follow the query."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import artifactfs as afs
from artifactfs.cli import cli
from artifactfs.errors import InvalidInputError
from artifactfs.lineage import Edge, LineageGraph, Node


def ladder(levels: int) -> LineageGraph:
    """Each level has two nodes, each made from both nodes of the level below: 2**levels paths."""
    g = LineageGraph(root="a0")
    for i in range(levels + 1):
        for side in "ab":
            g.add_node(Node(f"{side}{i}", "artifact", f"{side}{i}"))
    for i in range(levels):
        for top in "ab":
            for low in "ab":
                g.edges.append(Edge(f"{low}{i + 1}", f"{top}{i}", "references"))
    return g


def test_a_tree_prints_each_node_once_and_marks_later_visits() -> None:
    g = ladder(40)  # 2**40 paths from the root
    lines = g.to_tree().splitlines()
    assert len(lines) <= len(g.edges) + 1
    expanded = [line.split("] ")[-1] for line in lines if "(see above)" not in line]
    assert sorted(expanded) == sorted(n for n in g.nodes if n != "b0")  # each reachable node once


def test_a_long_chain_draws_without_recursion() -> None:
    g = LineageGraph(root="n0")
    for i in range(5000):
        g.add_node(Node(f"n{i}", "artifact", f"n{i}"))
        if i:
            g.edges.append(Edge(f"n{i}", f"n{i - 1}", "references"))
    assert len(g.to_tree().splitlines()) == 5000


def chain(store: afs.Store, tmp_path: Path, depth: int) -> str:
    """The README's pattern, repeated: each run uses the previous version and references it."""
    (tmp_path / "f.txt").write_text("0")
    with afs.init(project="p", store=store, job_type="step") as run:
        art = afs.Artifact("data", type="dataset")
        art.add_file(tmp_path / "f.txt")
        last = run.log_artifact(art)
    for i in range(1, depth):
        (tmp_path / "f.txt").write_text(str(i))
        with afs.init(project="p", store=store, job_type="step") as run:
            prev = run.use_artifact(last.qualified_name)
            art = afs.Artifact("data", type="dataset")
            art.add_file(tmp_path / "f.txt")
            art.add_reference(prev)
            last = run.log_artifact(art)
    return last.qualified_name


def test_lineage_of_a_deep_chain_of_runs(tmp_path: Path) -> None:
    store = afs.open_store(str(tmp_path / "store"))
    top = chain(store, tmp_path, 24)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--store", store.url, "lineage", top], obj={})
    assert result.exit_code == 0, result.output
    graph = store.lineage(top)
    assert len(result.output.splitlines()) <= len(graph.edges) + 1  # was 2**25 lines at depth 24
    assert len(graph.nodes) == 2 * 24  # 24 versions, 24 runs
    assert time.monotonic() - started < 600  # (a generous bound: it used not to finish at all)


def test_the_tree_follows_the_query(store: afs.Store, tmp_path: Path) -> None:
    top = chain(store, tmp_path, 3)
    first = "p/data:v0"
    down = store.lineage(first, direction="downstream")
    tree = down.to_tree()  # the README's example printed only the root line
    assert tree.splitlines()[0] == first and top in tree and len(tree.splitlines()) > 1
    up = store.lineage(top).to_tree()
    assert first in up
    both = store.lineage("p/data:v1", direction="both").to_tree()
    assert "p/data:v0" in both and "p/data:v2" in both
    assert down.to_tree("upstream").splitlines() == [first]  # asked for explicitly: the other way
    with pytest.raises(InvalidInputError):
        down.to_tree("sideways")  # type: ignore[arg-type]


def test_conflicting_direction_flags_are_a_usage_error(store: afs.Store, tmp_path: Path) -> None:
    top = chain(store, tmp_path, 2)
    runner = CliRunner()
    for flags in (["--up", "--down"], ["--down", "--both"], ["--up", "--both"]):
        result = runner.invoke(cli, ["--store", store.url, "lineage", top, *flags], obj={})
        assert result.exit_code == 2 and "conflict" in result.output
    down = runner.invoke(cli, ["--store", store.url, "lineage", "p/data:v0", "--down"], obj={})
    assert down.exit_code == 0 and top in down.output
