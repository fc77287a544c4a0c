"""Two running instances made peers the way their operators would: one proposes, the other accepts.

Payouts flow only under an agreement in force (`docs/settlement.md`), so every
test in which Mecene instances pay each other starts with `agree`. It drives
the real protocol: the Offer and the Accept travel as signed activities between
the instance actors, and both sides hold the agreement in force before it returns.
"""

from sqlalchemy import select

from federation_harness import Node, eventually
from server import peering
from server.peering import Typed
from settlement import agreements
from settlement.models import Agreement


async def agree(a: Node, b: Node, currency: str = "EUR", *, a_limit: str = "1000.00", b_limit: str = "1000.00") -> None:
    """A proposes to B, B's operator accepts, and both wait until the agreement is in force on each side.

    `a_limit` is the most A lets B owe it, `b_limit` the most B lets A owe it.
    """
    await peering.propose(a.live, b.host, Typed(currency, a_limit, instructions=f"Pay {a.name} by hand"))
    await eventually(lambda: _state_is(b, a, currency, agreements.OFFERED), what=f"{b.name} offered by {a.name}")
    await peering.accept(b.live, a.host, Typed(currency, b_limit, instructions=f"Pay {b.name} by hand"))
    await eventually(lambda: _state_is(a, b, currency, agreements.IN_FORCE), what=f"{a.name} agreed with {b.name}")


async def _state_is(node: Node, peer: Node, currency: str, state: str) -> bool:
    async with node.live.sessions() as session:
        found = await session.scalar(select(Agreement.state).where(
            Agreement.peer_host == peer.host, Agreement.currency == currency).order_by(Agreement.id.desc()).limit(1))
    return found == state
