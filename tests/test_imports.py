"""The import structure: no cycle among dmsniff/ and decoders/, and decoders/ standing alone.

Two checks.  The import graph, read from the source with ``ast``: every ``import`` a module runs
(at its top or inside a function; not those under ``if TYPE_CHECKING:``, which only mypy runs)
is an edge, and the graph has no cycle, so any module can be the first one imported and each
layer can be understood without the ones above it.  And each module imported alone in a fresh
interpreter, which is what a cycle that only bites in one import order would break.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dmsniff", "decoders")
#: What the sans-IO layer must never import: the application, packet capture, the UI.
FORBIDDEN_IN_DECODERS = ("dmsniff", "scapy", "textual")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the two packages: dotted name -> file."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run: all but those in ``if TYPE_CHECKING:`` blocks."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported_names(name: str, path: Path, known: set[str]) -> set[str]:
    """The absolute names a module imports at run time: ``from a import b`` is ``a.b`` when that is
    a module of ``known``, else ``a`` (the package's own name)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of the tree it runs an import of.  A package is not an edge of its
    submodules (Python runs its ``__init__`` first, but that is how packages work, not a cycle)."""
    mods = modules()
    known = set(mods)
    return {name: {n for n in imported_names(name, path, known) if n in known and n != name}
            for name, path in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_graph_is_read() -> None:
    graph = import_graph()
    # Known edges, so that an empty graph cannot pass for an acyclic one.
    assert "dmsniff.pipeline.addons" in graph["dmsniff.report.json"]
    assert "dmsniff.pipeline.frames" in graph["dmsniff.pipeline.runner"]
    assert "decoders.syncml" in graph["dmsniff.protocols.omadm"]


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("name", sorted(n for n in modules() if n.startswith("decoders")))
def test_decoders_import_no_application(name: str) -> None:
    imported = imported_names(name, modules()[name], set(modules()))
    bad = sorted(n for n in imported if n.split(".")[0] in FORBIDDEN_IN_DECODERS)
    assert not bad, f"{name} imports {bad}: decoders/ is the sans-IO layer"


def _import_alone(name: str) -> str | None:
    """What went wrong importing ``name`` first in a fresh interpreter (None: nothing)."""
    res = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    if res.returncode == 0:
        return None
    last = (res.stderr.strip().splitlines() or [f"exit status {res.returncode}"])[-1]
    return f"{name}: {last}"


def test_every_module_imports_alone() -> None:
    """Each module first, in an interpreter of its own: a cycle that only breaks in one import
    order shows here.  (``__main__`` modules run the program when imported: not these.)"""
    names = sorted(n for n in modules() if not n.endswith(".__main__"))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        failures = [f for f in pool.map(_import_alone, names) if f is not None]
    assert not failures, "\n".join(failures)
