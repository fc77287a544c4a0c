"""How the states and codes of money rows are named to people, in the reader's language.

Receipts and withdrawals keep codes (`topup`, `awaiting`, `stripe`,
`batched`); these are the words a person reads for them, looked up when the
page is written so that each reader gets their own language.
"""

from server.i18n.current import gettext as _
from server.payments import bank_transfers, receipts, stripe_gateway
from settlement import disputes, refunds, topups, withdrawals


def receipt_kinds() -> dict[str, str]:
    return {receipts.TOPUP: _("Top-up"), receipts.REFUND: _("Refund"), receipts.DISPUTE: _("Disputed payment")}


def receipt_states() -> dict[str, str]:
    """The states of top-ups, refunds and disputes (`receipts.Receipt.state`), which never share a name."""
    return {
        topups.AWAITING: _("waiting for confirmation"), topups.CONFIRMED: _("confirmed"), topups.FAILED: _("failed"),
        refunds.SENDING: _("being sent"), refunds.MADE.target: _("made"),
        disputes.OPEN: _("open"), disputes.WON.target: _("won"), disputes.LOST.target: _("lost"),
    }


def provider_names() -> dict[str, str]:
    return {stripe_gateway.NAME: _("card (Stripe)"), bank_transfers.NAME: _("bank transfer"),
            topups.MANUAL: _("credited by the operator")}


def withdrawal_states() -> dict[str, str]:
    return {withdrawals.REQUESTED: _("requested"), withdrawals.CANCEL.target: _("canceled"),
            withdrawals.BATCH.target: _("batched"), withdrawals.PAY.target: _("paid"),
            withdrawals.RETURN_PAID.target: _("returned")}


def withdrawal_methods() -> dict[str, str]:
    return {withdrawals.SEPA: _("SEPA transfer"), withdrawals.OTHER: _("the operator, by hand")}
