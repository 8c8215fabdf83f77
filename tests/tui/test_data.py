"""The data layer hands screens plain values: nothing that can reach the store leaves
``tui.data`` (no Artifact, Table or run record, no Arrow objects), only frozen view objects,
Python values, and table pagers whose rows are Python values."""

from __future__ import annotations

import dataclasses
from typing import Any

import artifactfs as afs
from tui import views
from tui.data import DataSource, parse_filter
from tui.pager import TablePager

PLAIN = (type(None), bool, int, float, str, bytes)


def not_plain(value: Any, where: str = "result") -> list[str]:
    """Where ``value`` holds something other than Python values, containers and views."""
    if isinstance(value, PLAIN):
        return []
    if isinstance(value, dict):
        if type(value) is not dict:
            return [f"{where}: {type(value).__module__}.{type(value).__qualname__}"]
        return [p for k, v in value.items() for p in not_plain(k, where) + not_plain(v, f"{where}[{k!r}]")]
    if isinstance(value, list | tuple):
        if type(value) not in (list, tuple):
            return [f"{where}: {type(value).__module__}.{type(value).__qualname__}"]
        return [p for i, v in enumerate(value) for p in not_plain(v, f"{where}[{i}]")]
    if dataclasses.is_dataclass(value) and type(value).__module__ == views.__name__:
        assert type(value).__dataclass_params__.frozen, f"{where}: {type(value).__name__} is not frozen"
        return [p for f in dataclasses.fields(value) for p in not_plain(getattr(value, f.name), f"{where}.{f.name}")]
    return [f"{where}: {type(value).__module__}.{type(value).__qualname__}"]


def pager_values(pager: TablePager) -> dict[str, Any]:
    """What a grid reads of a pager."""
    for g in range(len(pager.groups)):
        pager.load(g)
    return {
        "columns": pager.columns,
        "num_rows": pager.num_rows,
        "groups": list(pager.groups),
        "stats": pager.stats,
        "lengths": pager.lengths,
        "rows": [pager.row(i) for i in range(pager.num_rows)],
        "sample": [pager.sample(c.name) for c in pager.columns],
    }


def test_what_the_data_layer_returns_is_plain(pipeline_store: str) -> None:
    data = DataSource(pipeline_store)
    runs = data.runs("demo")
    root = data.lineage_root("demo/raw:v0")
    used_by = data.downstream(root)
    results: dict[str, Any] = {
        "projects": data.projects(),
        "artifacts": data.artifacts("demo"),
        "versions": data.versions("demo", "model"),
        "version": [data.version("demo/model:v0"), data.version("demo/raw:latest")],
        "runs": runs,
        "run": data.run("demo", runs[-1].id),
        "preview": [data.preview("demo/raw:v0", "notes.md"), data.preview("demo/model:v0", "w.bin")],
        "diff": data.diff("demo/raw:v0", "demo/raw:v0"),
        "lineage": [root, data.upstream(root), used_by, data.downstream(used_by[0]), data.upstream(used_by[0])],
    }
    assert not_plain(results) == []
    assert all(isinstance(v, views.RunView) for v in results["runs"])
    assert not isinstance(results["version"][0], afs.Artifact)
    assert results["version"][0].references == (views.UpstreamRef("demo/raw:v0", False),)
    assert [n.ref for n in results["lineage"][3]] == ["demo/model:v0"]  # the train run's outputs

    table = data.table("demo/raw:v0", "rows")
    assert not isinstance(table, afs.Table)
    values = pager_values(table)
    assert not_plain(values) == []
    assert values["rows"][49] == [49, "z" * 60]
    *_, sort = table.derive(None, ("x", True))
    *_, filt = table.derive(parse_filter("x < 3 or s ~ zz", table.filter_schema, table.aliases()), None)
    assert sort.result is not None and filt.result is not None
    top, found = sort.result, filt.result
    assert not_plain([pager_values(top), pager_values(found)]) == []
    assert (top.row(0), sort.matched, found.num_rows, filt.matched) == ([49, "z" * 60], 50, 4, 4)


def test_the_version_view_shows_what_is_said_of_it_now(pipeline_store: str) -> None:
    store = afs.open_store(pipeline_store)
    ref = store.artifacts("demo")[0].name
    store.artifact(f"demo/{ref}:v0").annotate(add_tags=["reviewed"], description="checked by hand")
    seen = DataSource(pipeline_store).version(f"demo/{ref}:v0")
    assert seen.tags == ("reviewed",) and seen.description == "checked by hand"
