"""Where a creator's share goes: a balance here, a line of another instance's Payout, a wait, or escrow.

A creator on a Mecene instance we have no agreement with in our currency
waits (`awaiting`, on `awaiting_peer:{host}`) until one is in force or the
claim window ends: that instance could not accept a Payout from us, and its
creators are not escrow's (they can be paid as soon as the operators agree).
A line that instance refused for its credit limit is `held` on the same
account until a clearing makes room (`settlement.held_shares`); no close
sends a share there.

Settlement knows nothing of ActivityPub, so the caller classifies each author
(its host runs Mecene or not, it is one of ours or not) before a close and
hands the answers in as a `Classifier`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from settlement import accounts

LOCAL = "local"
PAYOUT = "payout"
ESCROW = "escrow"
AWAITING = "awaiting"
HELD = "held"

#: The ledger account kind each destination credits.
ACCOUNT_KINDS = {LOCAL: accounts.CREATOR, PAYOUT: accounts.IN_FLIGHT, ESCROW: accounts.ESCROW,
                 AWAITING: accounts.AWAITING_PEER, HELD: accounts.AWAITING_PEER}
#: Where a close may send a share.
CLOSE_DESTINATIONS = (LOCAL, PAYOUT, ESCROW, AWAITING)


@dataclass(frozen=True)
class Destination:
    kind: str  # LOCAL, PAYOUT, AWAITING or ESCROW
    host: str  # the author's host
    recipient: str  # the credited account's owner: a local username, a host, or the author's URI

    def __post_init__(self) -> None:
        if self.kind not in CLOSE_DESTINATIONS:
            raise ValueError(f"unknown destination {self.kind!r}")


Classifier = Callable[[str], Destination]
