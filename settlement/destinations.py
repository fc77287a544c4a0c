"""Where a creator's share goes: a balance here, a line of another instance's Payout, or escrow.

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

#: The ledger account kind each destination credits.
ACCOUNT_KINDS = {LOCAL: accounts.CREATOR, PAYOUT: accounts.IN_FLIGHT, ESCROW: accounts.ESCROW}


@dataclass(frozen=True)
class Destination:
    kind: str  # LOCAL, PAYOUT or ESCROW
    host: str  # the author's host
    recipient: str  # the credited account's owner: a local username, a host, or the author's URI

    def __post_init__(self) -> None:
        if self.kind not in ACCOUNT_KINDS:
            raise ValueError(f"unknown destination {self.kind!r}")


Classifier = Callable[[str], Destination]
