"""A table's states and the moves between them, declared as data beside its model.

Writers never spell a state in a WHERE or a SET: they take a `Move` from the
graph (`PAYOUT_STATES.move("pending", "sent")`), which refuses, when the module
is imported, a move the graph does not declare. So the code cannot drift from
the graph, and one test walks every graph: each state reachable from a state
rows are born in, nothing leaving a terminal state, and every state rows wait
in saying what ends the wait (an event, and the timeout that ends it when the
event never comes, as the name of the setting or constant that holds it).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class UndeclaredMove(ValueError):
    """A writer asked for a move its table's graph does not have: a programming error, found at import."""


@dataclass(frozen=True)
class Move:
    source: str
    target: str


@dataclass(frozen=True)
class Wait:
    """What takes a row out of a state that is not terminal.

    `timeout` names the setting or constant bounding the wait (None when only
    the event ends it) and `after_timeout` the state a row is then moved to,
    which may be the same state taken over by another worker (a lease).
    """

    event: str
    timeout: str | None = None
    after_timeout: str | None = None


class StateGraph:
    def __init__(self, table: str, born: Iterable[str], moves: Mapping[tuple[str, str], str],
                 waits: Mapping[str, Wait], final: Iterable[str]) -> None:
        """`moves` maps (source, target) to why a row makes that move; `waits` covers every state not `final`."""
        self.table = table
        self.born = frozenset(born)
        self.moves = dict(moves)
        self.waits = dict(waits)
        self.final = frozenset(final)
        self.states = self.born | self.final | {state for move in self.moves for state in move}

    def exits(self, state: str) -> set[str]:
        """The states a row in `state` may move to (itself included, for a retry or a lease taken over)."""
        return {target for source, target in self.moves if source == state}

    def birth(self, state: str) -> str:
        """A state rows are inserted in, checked like a move."""
        if state not in self.born:
            raise UndeclaredMove(f"{self.table}: rows are not born {state!r}")
        return state

    def move(self, source: str, target: str) -> Move:
        if (source, target) not in self.moves:
            raise UndeclaredMove(f"{self.table}: no move from {source!r} to {target!r}")
        return Move(source, target)

    def reachable(self) -> set[str]:
        seen, frontier = set(self.born), list(self.born)
        while frontier:
            for target in self.exits(frontier.pop()) - seen:
                seen.add(target)
                frontier.append(target)
        return seen
