"""The dependency rule: server wires federation and settlement; those two never meet."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "federation": {"server", "settlement", "config"},
    "settlement": {"server", "federation", "config"},
    "config": {"server", "federation", "settlement"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_layers(package: str) -> None:
    modules = list((ROOT / package).rglob("*.py"))
    assert modules, f"{package} has no modules"
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package]) for path in modules
    }
    assert {k: v for k, v in offenders.items() if v} == {}
