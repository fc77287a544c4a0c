"""The dependency rules: server wires federation and settlement, those two never meet, and no module cycles.

Imports inside functions count: a late import is how a cycle hides.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "federation": {"server", "settlement", "config"},
    "settlement": {"server", "federation", "config"},
    "config": {"server", "federation", "settlement", "common"},
    "common": {"server", "federation", "settlement", "config"},
}
PACKAGES = ("common", "config", "federation", "settlement", "server")


def imported_names(path: Path) -> set[str]:
    """Every absolute module named by an import, and `module.name` for each name imported from one."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def imported_packages(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_names(path)}


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def import_graph() -> dict[str, set[str]]:
    paths = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts]
    modules = {module_name(path): path for path in paths}
    return {name: (imported_names(path) & modules.keys()) - {name} for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected groups of more than one module (Tarjan), each a cycle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while (member := stack.pop()) != node:
                group.add(member)
            if group:
                found.append(group | {node})

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_layers(package: str) -> None:
    modules = list((ROOT / package).rglob("*.py"))
    assert modules, f"{package} has no modules"
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package]) for path in modules
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_module_imports_itself_back() -> None:
    graph = import_graph()
    assert len(graph) > 100
    assert cycles(graph) == []


def test_a_cycle_through_a_late_import_is_found() -> None:
    """The CLI's old cycle: the parser imported the commands, which imported the parser inside a function."""
    graph = {"server.cli": {"server.report_commands"}, "server.report_commands": {"server.cli"}, "server.db": set()}
    assert cycles(graph) == [{"server.cli", "server.report_commands"}]
