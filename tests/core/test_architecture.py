"""The module structure of ``artifactfs/`` and ``tui/``, read with ``ast``: imports form no
circle (function-local and type-checking imports included, so none can hide one), no module
uses another module's private names, and every module says what it owns."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("artifactfs", "tui")
MAX_LINES = 420

# Private names of other libraries' documented interfaces (fsspec's async methods are named so).
FOREIGN_PRIVATE = {"_cat_file", "_pipe_file", "_info", "_find", "_strip_protocol", "_meta_nonempty", "_exit"}
# fsspec's async libraries name their coroutines with a leading underscore: their API, not private
FOREIGN_PRIVATE |= {"_call_s3", "_get_object", "_lsdir", "_do_list_objects", "_ls", "_call"}


# The layers of docs/architecture.md, bottom up: a module imports its own layer or lower ones.
LAYERS = [
    # pure core (no store I/O)
    "errors hashing codec refs frozen fields records markers hints entry packs shards manifest layout lineage settings"
    " filters annotation policy incremental codesnap mounts localdb statcache places sources verified folders reach",
    # backends
    "backend_calls backend_base backend_local backend_resume backend_fsspec backend uris",
    # records, blobs, transfers
    "seen catalog_lineage catalog_annotations catalog_heads catalog_manifests catalog walk leases cache packing blobs"
    " transfer storage search_index versioning purge_records",
    # the API
    "parquet parts engines table draft download checkout artifact offline ingest commit verification maintenance"
    " store diff spool"
    " search purge registry retention annotated distributed run copy reproduce partitioned fsspec_fs __init__",
    # front-ends
    "cli cli_commands_local cli_commands_notes cli_commands_purge cli_commands_read cli_commands_registry"
    " cli_commands_write cli_output"
    " __main__",
]


def layer(module: str) -> int:
    if module.startswith("tui"):
        return len(LAYERS) - 1
    leaf = module.removeprefix("artifactfs").removeprefix(".") or "__init__"
    for i, names in enumerate(LAYERS):
        if leaf in names.split():
            return i
    raise AssertionError(f"{module} is in no layer: place it in LAYERS (and docs/architecture.md)")


def modules(package: str) -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``name`` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            mod = ".".join([*base, *(node.module.split(".") if node.module else [])])
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        found.update(modules(package))
    known = set(found)
    # A package's __init__ re-exports its modules: an import of the package is not an arrow
    # into each of them, so packages are left out of the graph.
    packages = set(PACKAGES) | {n for n, p in found.items() if p.name == "__init__.py"}
    return {n: imported(n, p, known) - packages for n, p in found.items() if n not in packages}


def test_no_import_circle() -> None:
    g = graph()
    done: set[str] = set()
    stack: list[str] = []

    def visit(n: str) -> None:
        if n in stack:
            circle = [*stack[stack.index(n) :], n]
            pytest.fail("import circle: " + " -> ".join(circle))
        if n in done:
            return
        stack.append(n)
        for m in sorted(g[n]):
            visit(m)
        stack.pop()
        done.add(n)

    for n in sorted(g):
        visit(n)


def test_arrows_point_down_only() -> None:
    upward = [
        f"{n} (layer {layer(n)}) imports {d} (layer {layer(d)})"
        for n, deps in graph().items()
        for d in deps
        if layer(d) > layer(n)
    ]
    assert upward == []


def test_the_browser_reaches_artifactfs_through_its_data_layer_only() -> None:
    g = graph()
    users = sorted(n for n, deps in g.items() if n.startswith("tui") and any(d.startswith("artifactfs") for d in deps))
    assert users == ["tui.data"]
    # The command line (a front-end too) may start the browser; nothing else of artifactfs knows it.
    starts = sorted(n for n, deps in g.items() if n.startswith("artifactfs") and any(d.startswith("tui") for d in deps))
    assert starts in ([], ["artifactfs.cli"])


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _own_private(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, attributes it assigns, parameters."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            out.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.add(node.target.id)
    return {n for n in out if n.startswith("_") and not n.startswith("__")}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_uses_another_modules_private_names(package: str) -> None:
    wrong = []
    for name, path in modules(package).items():
        tree = ast.parse(path.read_text())
        own = _own_private(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                wrong += [f"{name}: imports {a.name}" for a in node.names if _private(a.name)]
            elif (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and node.attr not in own | FOREIGN_PRIVATE
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))  # its own, or inherited
            ):
                wrong.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert wrong == []


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_are_small_and_say_what_they_own(package: str) -> None:
    for name, path in modules(package).items():
        tree = ast.parse(path.read_text())
        assert ast.get_docstring(tree), f"{name} has no docstring saying what it owns"
        lines = len(path.read_text().splitlines())
        assert lines <= MAX_LINES, f"{name} has {lines} lines"
