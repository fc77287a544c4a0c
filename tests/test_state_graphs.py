"""Every stateful table declares its states as a graph, the graph is sound, and writers go through it."""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import federation
import server
import settlement
from common.states import StateGraph, UndeclaredMove
from config.settings import load
from federation.models import Base as FederationBase
from server.models import Base as ServerBase
from settlement.models import Base as SettlementBase

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("federation", "settlement", "server")


def _graphs() -> dict[str, StateGraph]:
    """Every StateGraph found at the top of any module of ours, by table."""
    found: dict[str, StateGraph] = {}
    for package in (federation, settlement, server):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            for value in vars(importlib.import_module(info.name)).values():
                if isinstance(value, StateGraph):
                    found[value.table] = value
    return found


GRAPHS = _graphs()


def test_every_table_with_a_state_column_has_a_graph() -> None:
    tables = {table.name for base in (FederationBase, SettlementBase, ServerBase)
              for table in base.metadata.tables.values() if "state" in table.c}
    assert tables and tables == set(GRAPHS)


@pytest.mark.parametrize("table", sorted(GRAPHS))
def test_every_state_is_reachable_from_birth(table: str) -> None:
    graph = GRAPHS[table]
    assert graph.reachable() == graph.states


@pytest.mark.parametrize("table", sorted(GRAPHS))
def test_no_way_out_of_a_final_state(table: str) -> None:
    graph = GRAPHS[table]
    assert {state: graph.exits(state) for state in graph.final} == {state: set() for state in graph.final}


@pytest.mark.parametrize("table", sorted(GRAPHS))
def test_every_waiting_state_says_what_ends_the_wait(table: str) -> None:
    graph = GRAPHS[table]
    assert set(graph.waits) == graph.states - graph.final
    for state, wait in graph.waits.items():
        assert wait.event.strip(), f"{table}.{state}: what ends the wait?"
        assert (wait.timeout is None) == (wait.after_timeout is None), f"{table}.{state}"
        if wait.after_timeout is not None:
            graph.move(state, wait.after_timeout)


@pytest.mark.parametrize("table", sorted(GRAPHS))
def test_timeouts_name_a_setting_or_a_constant_that_exists(table: str) -> None:
    settings = load(None).as_dict()
    for wait in GRAPHS[table].waits.values():
        if wait.timeout is None:
            continue
        holder, _, name = wait.timeout.rpartition(".")
        if holder in settings:
            assert name in settings[holder], wait.timeout
        else:
            assert isinstance(getattr(importlib.import_module(holder), name), (int, float)) or \
                hasattr(getattr(importlib.import_module(holder), name), "total_seconds"), wait.timeout


def test_an_undeclared_move_is_refused() -> None:
    graph = next(graph for graph in GRAPHS.values() if graph.final)
    final = next(iter(graph.final))
    with pytest.raises(UndeclaredMove, match=graph.table):
        graph.move(final, next(iter(graph.born)))


def _literal_state_writes(path: Path) -> list[str]:
    """`state="x"`, `"state": "x"` and `X.state == "x"` spelled by hand: a state that bypasses its graph."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        literal = None
        if isinstance(node, ast.keyword) and node.arg == "state":
            literal = node.value
        elif isinstance(node, ast.Dict):
            literal = next((value for key, value in zip(node.keys, node.values, strict=True)
                            if isinstance(key, ast.Constant) and key.value == "state"), None)
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "state":
            literal = node.comparators[0]
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "state"
                                                  for t in node.targets):
            literal = node.value
        if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_writers_take_their_states_from_the_graphs() -> None:
    paths = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts]
    assert [spot for path in paths for spot in _literal_state_writes(path)] == []
