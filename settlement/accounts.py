"""The kinds of ledger account: an account is (kind, owner, currency), and its kind says what it stands for.

| kind        | owner                  | holds                                                          |
|-------------|------------------------|----------------------------------------------------------------|
| `payin`     | a payment provider     | money that came in through it: negative by what came in        |
| `wallet`    | a local donor          | what the donor may still spend                                  |
| `creator`   | a local creator        | what the creator has earned and may use: *available*            |
| `payable`   | a local creator        | what the creator asked to withdraw, until the operator's bank pays it |
| `payout`    | a way money leaves     | what was paid out to creators: `bank` (the SEPA file), `manual` (by hand) |
| `pending`   | a local creator        | what other instances paid the creator by Payout, until they clear it |
| `fee`       | the instance           | the instance's fees on closed periods                           |
| `escrow`    | a creator's actor URI  | shares for a creator on a server without Mecene, until claimed  |
| `awaiting_peer` | another instance   | shares for its creators while we have no agreement in force with it |
| `in_flight` | another instance       | what we sent it in Payouts it has not answered yet              |
| `due_to`    | another instance       | what it accepted: we owe it real money                          |
| `due_from`  | another instance       | what it paid us by Payout: negative by what it owes us          |
| `cleared_in` | another instance      | real money it paid us in clearings: negative by that much       |
| `cleared_out` | another instance     | real money we paid it in clearings                              |
"""

PAYIN = "payin"
WALLET = "wallet"
CREATOR = "creator"
PAYABLE = "payable"
PAYOUT = "payout"
PENDING = "pending"
FEE = "fee"
ESCROW = "escrow"
AWAITING_PEER = "awaiting_peer"
IN_FLIGHT = "in_flight"
DUE_TO = "due_to"
DUE_FROM = "due_from"
CLEARED_IN = "cleared_in"
CLEARED_OUT = "cleared_out"

KINDS = (PAYIN, WALLET, CREATOR, PAYABLE, PAYOUT, PENDING, FEE, ESCROW, AWAITING_PEER, IN_FLIGHT, DUE_TO, DUE_FROM,
         CLEARED_IN, CLEARED_OUT)
