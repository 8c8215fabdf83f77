"""How the browser is put together, read from its source with ``ast``: only ``tui.data``
imports artifactfs, screens do not import one another, and no modules import each other in a
circle."""

from __future__ import annotations

import ast
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "tui"


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of ``tui``."""
    out = {}
    for path in sorted(TUI.rglob("*.py")):
        parts = path.relative_to(TUI.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imported(name: str, path: Path) -> set[str]:
    """Everything the module imports, anywhere in it (inside functions too), as absolute
    names; ``from x import y`` counts as both ``x`` and ``x.y``, since ``y`` may be a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{alias.name}" for alias in node.names)
    return out


def graph() -> dict[str, set[str]]:
    """Module -> the ``tui`` modules it imports."""
    mods = modules()
    return {name: imported(name, path) & mods.keys() - {name} for name, path in mods.items()}


def test_the_walk_sees_every_module_and_import() -> None:
    g = graph()
    assert {"tui.app", "tui.data", "tui.messages", "tui.screens.version", "tui.widgets.grid"} <= g.keys()
    assert "tui.screens.actions" in g["tui.screens.version"]  # relative imports are resolved
    assert "tui.screens.base" in g["tui.screens.actions"]
    assert "tui.data" in g["tui.screens.base"]


def test_only_the_data_layer_imports_artifactfs() -> None:
    users = {
        name
        for name, path in modules().items()
        if any(m == "artifactfs" or m.startswith("artifactfs.") for m in imported(name, path))
    }
    assert users == {"tui.data"}


def test_screens_do_not_import_other_screens() -> None:
    g = graph()
    shared = {"tui.screens.base", "tui.screens.actions"}  # plumbing screens build on, not screens
    screens = {m for m in g if m.startswith("tui.screens.") and m not in shared}
    assert screens, "no screens found"
    assert {m: sorted(g[m] & screens) for m in screens if g[m] & screens} == {}


def test_no_import_circle() -> None:
    g = graph()
    state: dict[str, str] = {}  # "open" while on the path, "done" after
    path: list[str] = []
    circles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = "open"
        path.append(m)
        for dep in sorted(g[m]):
            if state.get(dep) == "open":
                circles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        path.pop()
        state[m] = "done"

    for m in sorted(g):
        if m not in state:
            visit(m)
    assert circles == []
