"""The kinds of ledger account: an account is (kind, owner, currency), and its kind says what it stands for.

| kind        | owner                  | holds                                                          |
|-------------|------------------------|----------------------------------------------------------------|
| `payin`     | a payment provider     | money that came in through it: negative by what came in        |
| `wallet`    | a local donor          | what the donor may still spend                                  |
| `creator`   | a local creator        | what the creator has earned                                     |
| `fee`       | the instance           | the instance's fees on closed periods                           |
| `escrow`    | a creator's actor URI  | shares for a creator on a server without Mecene, until claimed  |
| `awaiting_peer` | another instance   | shares for its creators while we have no agreement in force with it |
| `in_flight` | another instance       | what we sent it in Payouts it has not answered yet              |
| `due_to`    | another instance       | what it accepted: we owe it real money                          |
| `due_from`  | another instance       | what it paid us by Payout: negative by what it owes us          |
"""

PAYIN = "payin"
WALLET = "wallet"
CREATOR = "creator"
FEE = "fee"
ESCROW = "escrow"
AWAITING_PEER = "awaiting_peer"
IN_FLIGHT = "in_flight"
DUE_TO = "due_to"
DUE_FROM = "due_from"

KINDS = (PAYIN, WALLET, CREATOR, FEE, ESCROW, AWAITING_PEER, IN_FLIGHT, DUE_TO, DUE_FROM)
