"""Tables owned by the settlement layer (prefix `stl_`).

People are named by local username, creators elsewhere by URI and other
instances by host: no foreign key leaves this package. Amounts are BigInteger
minor units, since PostgreSQL's integer stops short of the 10**12 cap.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.sql import UTCDateTime
from common.states import StateGraph, Wait


class Base(DeclarativeBase):
    """Every model here maps one Table, which SQLAlchemy types as any FromClause: insert() and update() take a Table."""

    if TYPE_CHECKING:
        __table__: ClassVar[Table]


class Account(Base):
    """A ledger account: a donor's wallet, a creator's balance, a payment provider's pay-in, ..."""

    __tablename__ = "stl_accounts"
    __table_args__ = (UniqueConstraint("kind", "owner", "currency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(2048))
    currency: Mapped[str] = mapped_column(String(3))


class Transaction(Base):
    """One movement of money; its idempotency key makes a retried movement happen once."""

    __tablename__ = "stl_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    memo: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Entry(Base):
    """A signed amount on one account; a transaction's entries sum to zero per currency."""

    __tablename__ = "stl_entries"
    __table_args__ = (CheckConstraint("amount <> 0", name="ck_stl_entries_amount_nonzero"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("stl_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("stl_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class Budget(Base):
    """What a donor means to spend per period; zero pauses spending."""

    __tablename__ = "stl_budgets"
    __table_args__ = (CheckConstraint("amount >= 0", name="ck_stl_budgets_amount_not_negative"),)

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Flattr(Base):
    """A local donor's flattr of a thing anywhere, once per period; money moves only when the period closes.

    Undo deletes rows, so SQLite is told never to reuse an id: a repeated undo must not reach a newer flattr.
    """

    __tablename__ = "stl_flattrs"
    __table_args__ = (
        UniqueConstraint("donor", "thing_uri", "period"),
        Index("ix_stl_flattrs_donor_period", "donor", "period"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    donor: Mapped[str] = mapped_column(String(64))
    thing_uri: Mapped[str] = mapped_column(String(2048))
    author_uri: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    period: Mapped[str] = mapped_column(String(16))
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    like_activity_id: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


PERIOD_CLOSE_STATES = StateGraph("stl_period_closes", born=["distributing"], final=["closed"], moves={
    ("distributing", "distributing"): "a batch of donors closed, or the lease taken over by another process",
    ("distributing", "paying"): "every donor closed: payout rows and earnings come next",
    ("paying", "paying"): "the lease taken over by another process, which runs the stage again",
    ("paying", "closed"): "payout rows and local earnings written",
}, waits={
    "distributing": Wait("the process holding the lease closes the next batch of donors",
                         timeout="settlement.close_lease_seconds", after_timeout="distributing"),
    "paying": Wait("the process holding the lease writes the payouts",
                   timeout="settlement.close_lease_seconds", after_timeout="paying"),
})


class PeriodClose(Base):
    """The close of one period: claimed under a lease so one process runs it, resumable after a crash.

    States move distributing → paying → closed (`PERIOD_CLOSE_STATES`); each stage
    is idempotent, so a process that takes over an expired lease simply runs the
    stage again.
    """

    __tablename__ = "stl_period_closes"

    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    donors_total: Mapped[int] = mapped_column(Integer, default=0)
    donors_done: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DonorClose(Base):
    """Marks a donor's spend of a period as distributed, in the same transaction as the distribution."""

    __tablename__ = "stl_donor_closes"
    #: The second index reads a donor's closes newest first, as their dashboard shows them.
    __table_args__ = (UniqueConstraint("period", "donor"), Index("ix_stl_donor_closes_donor_period", "donor", "period"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16))
    donor: Mapped[str] = mapped_column(String(64))
    spend: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("stl_transactions.id"), nullable=True)


class Share(Base):
    """One donor's share for one thing in one period, and where it went.

    `destination` is `local` (a creator here), `payout` (a line of the Payout to
    `host`), `awaiting` (for a creator on a Mecene instance we have no agreement
    with yet) or `escrow` (held for a creator whose server has no Mecene, or whose
    instance refused the line); an escrow or awaiting share later becomes
    `returned` to its donor when the claim window ends, which is why every share
    keeps its donor; an escrow share may be `claimed` by its creator first, and
    an awaiting share `awaited`: sent in an awaited payout once an agreement is
    in force. A share claimed from another instance stays
    unsettled, with its `claim_payout_id`, until that instance answers.
    """

    __tablename__ = "stl_shares"
    __table_args__ = (
        UniqueConstraint("period", "donor", "thing_uri"),
        CheckConstraint("amount >= 0", name="ck_stl_shares_amount_not_negative"),
        Index("ix_stl_shares_period_host", "period", "host"),
        Index("ix_stl_shares_destination_author", "destination", "author_uri"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16))
    donor: Mapped[str] = mapped_column(String(64))
    thing_uri: Mapped[str] = mapped_column(String(2048))
    author_uri: Mapped[str] = mapped_column(String(2048))
    host: Mapped[str] = mapped_column(String(255))
    recipient: Mapped[str] = mapped_column(String(2048))  # the ledger account's owner: username, host or author
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    destination: Mapped[str] = mapped_column(String(8))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The claim payout carrying this share to its creator's account on another instance, while it travels.
    claim_payout_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


def _sent_payout_states(table: str) -> StateGraph:
    """Our payouts, of a period or of a claim, go the same way: queued once, settled by the answer."""
    return StateGraph(table, born=["pending"], final=["settled"], moves={
        ("pending", "sent"): "signed and queued for the destination's instance actor, in one transaction",
        ("sent", "sent"): "unanswered for settlement.payout_resend_minutes: sent again, with the same id",
        ("sent", "settled"): "the destination's Accept or Reject booked",
    }, waits={
        "pending": Wait("the next settlement tick queues it, once the destination's actor is known"),
        "sent": Wait("the destination's Accept or Reject", timeout="settlement.payout_resend_minutes",
                     after_timeout="sent"),
    })


PAYOUT_STATES = _sent_payout_states("stl_payouts")
CLAIM_PAYOUT_STATES = _sent_payout_states("stl_claim_payouts")
AWAITED_PAYOUT_STATES = _sent_payout_states("stl_awaited_payouts")


class Payout(Base):
    """What this instance sends another Mecene instance for one period: one activity, many lines."""

    __tablename__ = "stl_payouts"
    __table_args__ = (UniqueConstraint("period", "host"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(255))
    payout_id: Mapped[str] = mapped_column(String(2048), unique=True)
    total: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When it was last queued for its destination: sent again when no answer came for a while.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ClaimPayout(Base):
    """Escrow of one author and period sent to the account that claimed it on another Mecene instance.

    Its own row and id, since the period's ordinary payout to that host may be
    settled long before; `payout_id` is written in the transaction that makes the row.
    """

    __tablename__ = "stl_claim_payouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payout_id: Mapped[str | None] = mapped_column(String(2048), unique=True, nullable=True)
    author_uri: Mapped[str] = mapped_column(String(2048), index=True)
    creator: Mapped[str] = mapped_column(String(2048))  # the claiming account's actor URI
    host: Mapped[str] = mapped_column(String(255))
    period: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(BigInteger)
    refused: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AwaitedPayout(Base):
    """What waited for one host's creators in one closed period, sent once an agreement with it is in force.

    Its own row and id: the period's ordinary payout to that host may exist
    too, when an agreement came into force while the period was closing. A
    closed period's waiting shares for a host leave together, so (period,
    host) names one awaited payout per `round`: lines the host refused for its
    credit limit wait again and leave, after the next clearing, in the next round.
    """

    __tablename__ = "stl_awaited_payouts"
    __table_args__ = (UniqueConstraint("period", "host", "round", name="uq_stl_awaited_payouts_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(255))
    round: Mapped[int] = mapped_column(Integer, default=1)
    payout_id: Mapped[str] = mapped_column(String(2048), unique=True)
    total: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReceivedPayout(Base):
    """A Payout another instance sent us, credited once; the answer is kept to repeat it to a retry."""

    __tablename__ = "stl_received_payouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payout_id: Mapped[str] = mapped_column(String(2048), unique=True)
    source_host: Mapped[str] = mapped_column(String(255), index=True)
    period: Mapped[str] = mapped_column(String(16))
    credited: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    refused: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PendingCredit(Base):
    """What one Payout from another instance credited one of our creators: pending until that instance clears it.

    A confirmed clearing with `source_host` releases pending money into the
    creators' available balances, the oldest credits first; `released` says
    how much of this one is available already.
    """

    __tablename__ = "stl_pending_credits"
    __table_args__ = (
        CheckConstraint("released >= 0 AND released <= amount", name="ck_stl_pending_credits_released_in_range"),
        Index("ix_stl_pending_credits_source", "source_host", "currency", "id"),
        Index("ix_stl_pending_credits_creator", "creator", "currency"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    creator: Mapped[str] = mapped_column(String(64))
    source_host: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    released: Mapped[int] = mapped_column(BigInteger, default=0)
    payout_id: Mapped[str] = mapped_column(String(2048))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Earning(Base):
    """What a local creator earned for one thing in one period, from donors here or from one other instance."""

    __tablename__ = "stl_earnings"
    __table_args__ = (UniqueConstraint("creator", "period", "thing_uri", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    creator: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str] = mapped_column(String(16))
    thing_uri: Mapped[str] = mapped_column(String(2048))
    source: Mapped[str] = mapped_column(String(255))  # "" for donors here, else the paying instance's host
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    flattrs: Mapped[int] = mapped_column(Integer)


AGREEMENT_STATES = StateGraph("stl_agreements", born=["proposed", "offered"],
                              final=["ended", "declined", "withdrawn"], moves={
    ("proposed", "in_force"): "the peer's instance actor accepted our Offer, stating its own terms",
    ("proposed", "declined"): "the peer's instance actor rejected our Offer",
    ("proposed", "withdrawn"): "our operator took the proposal back before an answer came (Leave sent)",
    ("proposed", "ended"): "the peer left it before its Accept reached us: deliveries may arrive out of order",
    ("offered", "in_force"): "our operator accepted the peer's Offer, stating our terms (Accept sent)",
    ("offered", "declined"): "our operator declined the peer's Offer (Reject sent)",
    ("offered", "withdrawn"): "the peer took its Offer back (Leave) before our operator answered",
    ("in_force", "ended"): "either side left it (Leave): no new payouts under it; what is owed stays owed",
}, waits={
    "proposed": Wait("the peer's Accept or Reject, or our operator withdrawing it (mecene peers end)"),
    "offered": Wait("our operator's answer (mecene peers accept|decline, /admin/peers), or the peer's Leave"),
    "in_force": Wait("either operator ending it (mecene peers end, /admin/peers, or the peer's Leave)"),
})
#: An agreement in one of these is not finished: at most one per (peer, currency).
OPEN_AGREEMENT_STATES = sorted(AGREEMENT_STATES.states - AGREEMENT_STATES.final)


class Agreement(Base):
    """Money between this instance and another Mecene instance in one currency, as both operators agreed.

    Each side states its own terms: `credit_limit` is the most we let the peer
    owe us, in minor units, and `iban` with `account_holder`, or
    `instructions`, say where the peer should pay us; the `peer_` columns hold
    the same of the peer, as it told us. `uri` is the agreement's id, minted by
    the side that proposed it; the activity ids are those of its Offer, the
    Accept or Reject that answered it and the Leave that ended it.
    """

    __tablename__ = "stl_agreements"
    __table_args__ = (
        CheckConstraint("credit_limit >= 0", name="ck_stl_agreements_credit_limit_not_negative"),
        CheckConstraint("peer_credit_limit >= 0", name="ck_stl_agreements_peer_credit_limit_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    peer_host: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16))
    proposed_by_us: Mapped[bool] = mapped_column()
    credit_limit: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    iban: Mapped[str | None] = mapped_column(String(34), nullable=True)
    account_holder: Mapped[str | None] = mapped_column(String(70), nullable=True)
    instructions: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    peer_credit_limit: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    peer_iban: Mapped[str | None] = mapped_column(String(34), nullable=True)
    peer_account_holder: Mapped[str | None] = mapped_column(String(70), nullable=True)
    peer_instructions: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    offer_activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    answer_activity_id: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    end_activity_id: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    #: Why the Offer was rejected, as the Reject said (`declined` when an operator said no).
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ended_by_us: Mapped[bool | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


Index("uq_stl_agreements_open", Agreement.peer_host, Agreement.currency, unique=True,
      sqlite_where=Agreement.state.in_(OPEN_AGREEMENT_STATES),
      postgresql_where=Agreement.state.in_(OPEN_AGREEMENT_STATES))


CLEARING_STATES = StateGraph("stl_clearings", born=["paid", "notified"], final=["confirmed", "disputed"], moves={
    ("paid", "paid"): "unanswered for settlement.payout_resend_minutes: the notice sent again, with the same id",
    ("paid", "confirmed"): "the creditor's instance actor confirmed receipt (Accept): booked here too",
    ("paid", "disputed"): "the creditor's instance actor disputed it (Reject): nothing booked",
    ("notified", "confirmed"): "our operator confirmed receipt (Accept sent): booked here",
    ("notified", "disputed"): "our operator disputed it, or our books cannot hold it (Reject sent)",
}, waits={
    "paid": Wait("the creditor's Accept or Reject of our notice", timeout="settlement.payout_resend_minutes",
                 after_timeout="paid"),
    "notified": Wait("our operator's confirmation or dispute (mecene clearing confirm|dispute, /admin/peers)"),
})
#: A clearing in one of these is not finished: at most one per (peer, currency).
OPEN_CLEARING_STATES = sorted(CLEARING_STATES.states - CLEARING_STATES.final)


class Clearing(Base):
    """Real money one instance paid the other to settle their net position in one currency.

    The debtor's operator pays by bank transfer and records it (`we_paid`),
    which sends a signed notice; the creditor's operator confirms receipt, and
    both books then move: `amount` of cash, and `netted`, what each owed the
    other and which the clearing cancels out, so that only the difference
    travels by bank. `uri` is minted by the debtor, and is its notice's id;
    `reference` is the one the transfer carried.
    """

    __tablename__ = "stl_clearings"
    __table_args__ = (
        CheckConstraint("amount > 0 AND netted >= 0", name="ck_stl_clearings_amounts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    peer_host: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    we_paid: Mapped[bool] = mapped_column()
    amount: Mapped[int] = mapped_column(BigInteger)
    netted: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    answer_activity_id: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    #: Why it was disputed, as the Reject said.
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When our notice was last queued, for a debtor's clearing: one left unanswered is sent again.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


Index("uq_stl_clearings_open", Clearing.peer_host, Clearing.currency, unique=True,
      sqlite_where=Clearing.state.in_(OPEN_CLEARING_STATES),
      postgresql_where=Clearing.state.in_(OPEN_CLEARING_STATES))


class StatementSent(Base):
    """Our statement of one period to one peer in one currency: sent once."""

    __tablename__ = "stl_statements_sent"
    __table_args__ = (UniqueConstraint("period", "peer_host", "currency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16))
    peer_host: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    activity_id: Mapped[str] = mapped_column(String(2048))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatementCheck(Base):
    """A peer's statement compared with our books: `agree`, or `differ` with the lines that differ."""

    __tablename__ = "stl_statement_checks"
    __table_args__ = (Index("ix_stl_statement_checks_peer", "peer_host", "currency", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    period: Mapped[str] = mapped_column(String(16))
    peer_host: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    result: Mapped[str] = mapped_column(String(8))
    differences: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


TOPUP_STATES = StateGraph("stl_topups", born=["awaiting", "confirmed"], final=["confirmed"], moves={
    ("awaiting", "confirmed"): "the provider confirmed the payment (Stripe's signed payment_intent.succeeded), "
                               "or the operator recorded the bank transfer by its reference: the wallet credited",
    ("awaiting", "failed"): "the provider reported the payment failed (declined card, 3-D Secure not completed)",
    ("failed", "confirmed"): "a later success of the same payment (the donor tried again): credited then",
}, waits={
    "awaiting": Wait("the provider's confirmation (a signed webhook) or the operator recording the transfer "
                     "(mecene topups receive, /admin/topups); the operator sees every one still waiting"),
    "failed": Wait("a later payment_intent.succeeded of the same PaymentIntent, if the donor tries again"),
})


class TopUp(Base):
    """Money a donor pays into their wallet through one provider; credited once, when the provider confirms it.

    `reference` is what ties the provider's word to this row: Stripe's
    PaymentIntent id, the reference a bank transfer carries, or the operator's
    own for a hand credit. `public_id` names the receipt in addresses, so that
    row numbers stay private. `refunded` grows with each refund of it.
    """

    __tablename__ = "stl_topups"
    __table_args__ = (
        UniqueConstraint("provider", "reference"),
        CheckConstraint("amount > 0 AND refunded >= 0 AND refunded <= amount", name="ck_stl_topups_amounts"),
        Index("ix_stl_topups_user", "username", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), index=True)
    reference: Mapped[str | None] = mapped_column(String(255), nullable=True)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Why the provider refused it, in words a donor can act on.
    failure: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


REFUND_STATES = StateGraph("stl_refunds", born=["sending"], final=["made", "failed"], moves={
    ("sending", "made"): "the provider accepted the refund (Stripe's Refund object, or the operator's transfer back)",
    ("sending", "failed"): "the provider refused it: the wallet and the top-up get the amount back",
}, waits={
    "sending": Wait("the provider's answer; one a stopped process never asked is asked again, with the same "
                    "idempotency key, by `mecene topups retry-refunds` and listed on /admin/topups until then"),
})


class Refund(Base):
    """Part or all of a top-up paid back to the donor through the provider that took it; the wallet debited once."""

    __tablename__ = "stl_refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    topup_id: Mapped[int] = mapped_column(ForeignKey("stl_topups.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: The provider's id of the refund (Stripe's re_…), or the operator's reference of the transfer back.
    provider_reference: Mapped[str] = mapped_column(String(255), default="")
    #: Why the provider refused it.
    failure: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


REFUND_REQUEST_STATES = StateGraph("stl_refund_requests", born=["asked"], final=["refunded", "declined"], moves={
    ("asked", "refunded"): "the operator refunded the donor, whole or in part (mecene topups refund, /admin/topups)",
    ("asked", "declined"): "the operator declined it, saying why (nothing left to refund, say)",
}, waits={
    "asked": Wait("the operator's refund or refusal; the operator's page lists every request still asked"),
})


class RefundRequest(Base):
    """A donor asking for their unspent wallet back; the operator answers it with refunds or a reason."""

    __tablename__ = "stl_refund_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    answer: Mapped[str] = mapped_column(String(500), default="")
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


DISPUTE_STATES = StateGraph("stl_disputes", born=["open"], final=["won", "lost"], moves={
    ("open", "won"): "the provider closed the dispute in our favour (charge.dispute.closed, won): the wallet restored",
    ("open", "lost"): "the provider closed it against us: the debit stays",
}, waits={
    "open": Wait("the provider's charge.dispute.closed, which its own rules bound (weeks at the card networks)"),
})


class Dispute(Base):
    """A chargeback on a top-up: the disputed amount leaves the wallet at once, and comes back if it is won."""

    __tablename__ = "stl_disputes"
    __table_args__ = (UniqueConstraint("provider", "provider_reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    topup_id: Mapped[int] = mapped_column(ForeignKey("stl_topups.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_reference: Mapped[str] = mapped_column(String(255))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(String(64), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProviderEvent(Base):
    """A provider's event applied here: each is applied once, however often or late it is delivered."""

    __tablename__ = "stl_provider_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PayoutDetails(Base):
    """Where a creator is paid: an IBAN (SEPA) or instructions the operator follows by hand.

    `held_until` is when withdrawals may be asked again after the details
    changed: a session stolen for a moment cannot send money elsewhere at once.
    """

    __tablename__ = "stl_payout_details"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_holder: Mapped[str] = mapped_column(String(70), default="")
    iban: Mapped[str | None] = mapped_column(String(34), nullable=True)
    bic: Mapped[str | None] = mapped_column(String(11), nullable=True)
    instructions: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    held_until: Mapped[datetime] = mapped_column(UTCDateTime)


WITHDRAWAL_STATES = StateGraph("stl_withdrawals", born=["requested"], final=["canceled", "returned"],
                               moves={
    ("requested", "canceled"): "the creator canceled it before the operator batched it: the money back to available",
    ("requested", "batched"): "the operator approved it into a batch (mecene withdrawals batch, /admin/withdrawals)",
    ("batched", "paid"): "the operator marked the batch executed by the bank: the money left (payout:{method})",
    ("batched", "returned"): "the operator returned the line (wrong account, refused by the bank) with a reason",
    ("paid", "returned"): "the bank sent the transfer back after the batch ran: the money back to available",
}, waits={
    "requested": Wait("the operator's batch, or the creator's cancel; the operator's page lists every one waiting"),
    "batched": Wait("the operator marking the batch executed once the bank ran it, or returning the line"),
    "paid": Wait("nothing, unless the bank sends the transfer back weeks later and the operator returns the line"),
})


class Withdrawal(Base):
    """Money a creator asked to be paid out: moved from available to payable at once, paid by the operator's bank.

    The payout details are copied in when it is asked, so a later change of
    them never redirects money already asked for.
    """

    __tablename__ = "stl_withdrawals"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_stl_withdrawals_amount"),
        Index("ix_stl_withdrawals_user", "username", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: `sepa` for a euro withdrawal to an IBAN (in the batch's pain.001 file), `other` for the operator's hand.
    method: Mapped[str] = mapped_column(String(8))
    account_holder: Mapped[str] = mapped_column(String(70), default="")
    iban: Mapped[str | None] = mapped_column(String(34), nullable=True)
    bic: Mapped[str | None] = mapped_column(String(11), nullable=True)
    instructions: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("stl_withdrawal_batches.id"), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(String(300), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


BATCH_STATES = StateGraph("stl_withdrawal_batches", born=["approved"], final=["executed"], moves={
    ("approved", "executed"): "the operator marked it executed after the bank ran its file",
}, waits={
    "approved": Wait("the operator marking it executed (mecene withdrawals executed, /admin/withdrawals) once the "
                     "bank has run its file; listed as waiting until then"),
})


class WithdrawalBatch(Base):
    """Withdrawals approved together, in one currency: one SEPA file for the bank, one list for the rest."""

    __tablename__ = "stl_withdrawal_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
