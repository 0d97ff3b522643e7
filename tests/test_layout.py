"""The layout shows the architecture: no import cycle, a thin top level, one ``Box``, short functions."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "anpr_edge"


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def top_level_imports(path: Path, known: set[str]) -> set[str]:
    """The package's modules ``path`` imports at module level (imports inside functions run late: no cycle)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {n for n in names if n in known}
    return found


def test_no_import_cycle() -> None:
    mods = modules()
    graph = {m: top_level_imports(p, set(mods)) - {m} for m, p in mods.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            if state.get(n) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path[path.index(n) :], n]))
            if n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_a_thin_top_level_and_one_box() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 6, top
    boxes = [p for p in PACKAGE.rglob("*.py") if "\nBox = " in p.read_text()]
    assert [p.relative_to(PACKAGE).as_posix() for p in boxes] == ["core/results.py"]


def test_at_most_two_long_functions_outside_training() -> None:
    long = []
    for path in PACKAGE.rglob("*.py"):
        if "training" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            size = (node.end_lineno or 0) - node.lineno + 1 if isinstance(node, ast.FunctionDef) else 0
            if size > 50:
                long.append(f"{path.relative_to(PACKAGE)}:{getattr(node, 'name', '?')} ({size})")
    assert len(long) <= 2, long


def test_the_daemon_app_stays_a_table_of_contents() -> None:
    """``Daemon`` is start, run, reload, stop: the work lives in the modules it calls (≤ 120 lines)."""
    tree = ast.parse((PACKAGE / "daemon" / "app.py").read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Daemon"]
    assert cls.end_lineno is not None and cls.end_lineno - cls.lineno + 1 <= 120
