"""The kinds of email we send, and which of them a person may turn off.

Receipts and the links a person asked for (confirming an address, setting a
new password) always go and carry no unsubscribe link; summaries follow the
"send me summaries" preference; every other notice follows the notices one.
"""

VERIFY = "verify"
RESET = "reset"
TOPUP_RECEIPT = "topup_receipt"
REFUND_RECEIPT = "refund_receipt"
WITHDRAWAL_PAID = "withdrawal_paid"
WITHDRAWAL_RETURNED = "withdrawal_returned"
PAYOUT_DETAILS = "payout_details"
DONOR_SUMMARY = "donor_summary"
CREATOR_SUMMARY = "creator_summary"
OPERATOR_ALERT = "operator_alert"

#: Emails that carry a link's token: dropped from the outbox row once the email is sent or given up.
LINKS = frozenset({VERIFY, RESET})
ALWAYS_SENT = frozenset({VERIFY, RESET, TOPUP_RECEIPT, REFUND_RECEIPT})
SUMMARIES = frozenset({DONOR_SUMMARY, CREATOR_SUMMARY})
NOTICES = frozenset({WITHDRAWAL_PAID, WITHDRAWAL_RETURNED, PAYOUT_DETAILS, OPERATOR_ALERT})
ALL = ALWAYS_SENT | SUMMARIES | NOTICES
