"""Tables owned by the federation layer (prefix `fed_`).

No foreign keys point outside this package: local actors are named by
username and remote ones by their URI, so `server/` can own accounts freely.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import JSON, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.sql import UTCDateTime
from common.states import StateGraph, Wait


class Base(DeclarativeBase):
    """Every model here maps one Table, which SQLAlchemy types as any FromClause: insert() and update() take a Table."""

    if TYPE_CHECKING:
        __table__: ClassVar[Table]


class LocalActor(Base):
    """An actor served by this instance: a user (Person), the instance (Application), the bot (Service)."""

    __tablename__ = "fed_local_actors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    also_known_as: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RemoteActor(Base):
    """What we believe of a remote actor: its key and inboxes, re-fetched on key failure."""

    __tablename__ = "fed_remote_actors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    key_id: Mapped[str] = mapped_column(String(2048), unique=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    inbox: Mapped[str] = mapped_column(String(2048))
    shared_inbox: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Follower(Base):
    __tablename__ = "fed_followers"
    __table_args__ = (UniqueConstraint("local_username", "follower_uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    local_username: Mapped[str] = mapped_column(String(64))
    follower_uri: Mapped[str] = mapped_column(String(2048))
    follow_id: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Following(Base):
    """A Follow we sent; `accepted` once the remote side answered Accept."""

    __tablename__ = "fed_following"
    __table_args__ = (UniqueConstraint("local_username", "target_uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    local_username: Mapped[str] = mapped_column(String(64))
    target_uri: Mapped[str] = mapped_column(String(2048))
    follow_id: Mapped[str] = mapped_column(String(2048), unique=True)
    accepted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: Attempts before an item is left failed: a handler's error, or a peer away (a prefetch that could not reach it).
INBOX_ATTEMPTS = 5
INBOX_TRANSIENT_ATTEMPTS = 20
INBOX_STATES = StateGraph("fed_inbox_items", born=["pending", "done"], final=[], moves={
    ("pending", "done"): "its handler ran, in the transaction that marks it",
    ("pending", "pending"): "its prefetch or handler raised; the error is kept and it waits before the next try",
    ("pending", "failed"): "INBOX_ATTEMPTS attempts raised (INBOX_TRANSIENT_ATTEMPTS when a peer was away)",
    ("failed", "pending"): "the same activity arrived again, or the operator retried it",
    ("done", "pending"): "the same activity arrived again and its handler answers every copy: a Payout whose "
                         "sender had no answer",
}, waits={
    "pending": Wait("the inbox processor, woken when the group commit stores it, or its poll; after a failure, "
                    "the wait before the next try, doubling from its base",
                    timeout="federation.inbox_retry_base_seconds", after_timeout="pending"),
    "failed": Wait("the peer delivering the activity again, or the operator's retry (mecene inbox --retry)"),
    "done": Wait("nothing, unless its sender delivers it again and its handler answers every copy (a Payout)"),
})


class InboxItem(Base):
    """A verified incoming activity, stored before we answer 2xx; unique id makes inboxes idempotent."""

    __tablename__ = "fed_inbox_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_uri: Mapped[str] = mapped_column(String(2048))
    activity: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=INBOX_STATES.birth("pending"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: After a failure, not tried again before this instant; None when due at once.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OutboxItem(Base):
    """An activity this instance published, served in the actor's outbox."""

    __tablename__ = "fed_outbox_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_username: Mapped[str] = mapped_column(String(64), index=True)
    activity: Mapped[dict[str, Any]] = mapped_column(JSON)
    public: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


DELIVERY_STATES = StateGraph("fed_deliveries", born=["queued"], final=["not_understood"], moves={
    ("queued", "delivered"): "the inbox answered 2xx",
    ("queued", "queued"): "a transient failure: tried again after the retry policy's delay",
    ("queued", "dead"): "a permanent refusal, a blocked domain, or the retry policy's last attempt failed",
    ("queued", "not_understood"): "a permanent 4xx to an activity its receiver may not know (may_be_unknown): "
                                  "that server cannot read the type, which is an answer, not a failure",
    ("dead", "queued"): "the operator retried the dead letter, or its sender sends it again",
    ("delivered", "queued"): "its sender sends it again (a Payout left unanswered)",
}, waits={
    "queued": Wait("a delivery worker claims it once next_attempt_at has come",
                   timeout="delivery.lease_seconds", after_timeout="queued"),
    "dead": Wait("the operator's retry (mecene deliveries --retry, or the queue page)"),
    "delivered": Wait("nothing, unless its sender sends it again"),
})


class Delivery(Base):
    """One activity for one inbox: the row is the queue entry, so a restart loses nothing."""

    __tablename__ = "fed_deliveries"
    __table_args__ = (UniqueConstraint("activity_id", "inbox_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(2048))
    sender_username: Mapped[str] = mapped_column(String(64))
    inbox_url: Mapped[str] = mapped_column(String(2048))
    host: Mapped[str] = mapped_column(String(255), index=True)
    body: Mapped[str] = mapped_column(Text)
    #: The receiver's server may not know the activity's type (a `Flattr` to a server whose NodeInfo could not be
    #: read): a permanent 4xx then ends it `not_understood`, not `dead`.
    may_be_unknown: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default=DELIVERY_STATES.birth("queued"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The process that claimed it (host:port): started again, it takes its own claims back.
    locked_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class HostHealth(Base):
    """Per-host circuit breaker: consecutive failures and until when the circuit stays open."""

    __tablename__ = "fed_host_health"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class KnownInstance(Base):
    """What another server's NodeInfo says: whether it speaks Mecene, in which currencies, through which actor."""

    __tablename__ = "fed_instances"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    software: Mapped[str] = mapped_column(String(64))
    mecene: Mapped[bool] = mapped_column(default=False)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    instance_actor: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    #: The currencies its creators may be paid in (`acceptedCurrencies`, else its `currency` alone).
    accepted_currencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DomainBlock(Base):
    """A domain this instance refuses to federate with: its activities get 403, nothing is delivered to it.

    `domain` is a host name (blocking its subdomains too) or a host:port (that one origin only).
    """

    __tablename__ = "fed_domain_blocks"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
