"""Tables owned by the server: accounts, API tokens, things, the flattrs they received, and the bot's state.

No foreign keys point into other packages: actors and ledger accounts are
named by username, remote actors by their URI.
"""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.sql import UTCDateTime
from common.states import StateGraph, Wait


class Base(DeclarativeBase):
    pass


class User(Base):
    """A person with an account here; their actor is the federation LocalActor of the same username."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    is_admin: Mapped[bool] = mapped_column(default=False)
    also_send_like: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Argon2id hash; None for accounts made on the command line until a password is set.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    #: An address its owner confirmed by a link sent to it; None until then, and for accounts without one.
    email: Mapped[str | None] = mapped_column(String(320), nullable=True, default=None)
    #: The language this person chose for their pages and emails ("en", "fr"); None until they choose,
    #: when pages follow their browser and emails are in English.
    language: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    #: The monthly "where your money went" and "what you earned" emails.
    mail_summaries: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: Every other email that is not a receipt (withdrawal notices, changed payout details, operator alerts).
    mail_notices: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: In the unsubscribe link of every email but receipts: it turns both of the above off, without a login.
    unsubscribe_token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True, default=None)


class WebSession(Base):
    """A browser session: only the SHA-256 of its cookie is kept, with the CSRF token its forms carry."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A personal access token; only its SHA-256 is kept, so a database leak reveals no token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Thing(Base):
    """Something a local creator wants flattred: a URL of theirs (a Page) or a note written here (a Note)."""

    __tablename__ = "things"
    __table_args__ = (
        #: A creator's things in offering order, for the API's list of them, deleted ones included.
        Index("ix_things_creator_id", "creator", "id"),
        #: A page of a creator's live things, newest first, read from this index alone: no sort and no row
        #: of another creator or of a deleted thing, however many there are (see `creator_things.live_things`).
        Index("ix_things_live_creator_id", "creator", "id", sqlite_where=text("deleted_at IS NULL"),
              postgresql_where=text("deleted_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    creator: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReceivedFlattr(Base):
    """A flattr of a local thing, by a donor here or anywhere: what the creator sees before any money moves."""

    __tablename__ = "received_flattrs"
    __table_args__ = (
        UniqueConstraint("thing_id", "donor_uri", "period"),
        #: Period first: a creator's page counts this period's flattrs without reading the past ones.
        Index("ix_received_flattrs_period_thing", "period", "thing_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    thing_id: Mapped[int] = mapped_column(ForeignKey("things.id"))
    donor_uri: Mapped[str] = mapped_column(String(2048))
    period: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BotCodeTry(Base):
    """A code a remote account sent the bot that linked nothing: counted, so that codes cannot be guessed."""

    __tablename__ = "bot_code_tries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_uri: Mapped[str] = mapped_column(String(2048), index=True)
    tried_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkCode(Base):
    """A one-time code a user sends the bot from Mastodon; only its SHA-256 is kept, like a token."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LinkedAccount(Base):
    """A fediverse account proven to belong to a user here; one account links to one user only."""

    __tablename__ = "linked_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    actor_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The bot follows the account and flattrs every public post it boosts.
    auto_flattr_boosts: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class BotNotice(Base):
    """When the bot last told an account something it must not repeat often (e.g. how to link)."""

    __tablename__ = "bot_notices"
    __table_args__ = (UniqueConstraint("actor_uri", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_uri: Mapped[str] = mapped_column(String(2048))
    kind: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


BOT_TASK_ATTEMPTS = 3
BOT_TASK_STATES = StateGraph("bot_tasks", born=["pending"], final=["done", "failed"], moves={
    ("pending", "done"): "flattred or refused, and the asker answered in the same transaction",
    ("pending", "pending"): "an attempt raised; the next run tries again",
    ("pending", "failed"): "BOT_TASK_ATTEMPTS attempts raised; the error stays on the row",
}, waits={"pending": Wait("the task worker, woken when the inbox commits the request, or its poll")})


class BotTask(Base):
    """A flattr asked of the bot (or a boost to flattr), done after the inbox transaction: it needs the network."""

    __tablename__ = "bot_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    actor_uri: Mapped[str] = mapped_column(String(2048))
    note_id: Mapped[str] = mapped_column(String(2048))
    url: Mapped[str] = mapped_column(String(2048))
    #: False for a boost flattred automatically: a DM for every boost would be noise.
    answer: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: The language of the message that asked, when we speak it: the answer is written in it.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=BOT_TASK_STATES.birth("pending"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BotOptOut(Base):
    """An account that answered "stop": the bot sends it no more escrow notices."""

    __tablename__ = "bot_opt_outs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


MAIL_STATES = StateGraph("mail_outbox", born=["queued"], final=["sent", "dead"], moves={
    ("queued", "sent"): "the SMTP server accepted it",
    ("queued", "queued"): "the SMTP server was away or answered a transient error: tried again after a growing wait",
    ("queued", "dead"): "the SMTP server refused it for good (5xx), or mail.max_attempts tries failed",
}, waits={"queued": Wait("a mail worker claims it once next_attempt_at has come",
                         timeout="mail.lease_seconds", after_timeout="queued")})


class MailMessage(Base):
    """An email in the outbox: the row is the queue, written in the transaction of the event it tells of.

    `key` names that event (a top-up's receipt, a period's summary for one
    person), so the same event never queues two; the message is rendered from
    `kind`'s templates and `context` when it is sent.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(64), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(16))
    #: JSON: what the templates show (amounts as minor units and currency, links' tokens).
    context: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=MAIL_STATES.birth("queued"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The process that claimed it (host and process id), for an operator reading the table.
    locked_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MailToken(Base):
    """A single-use link sent by email: to confirm an address, or to set a new password; only its SHA-256 is kept."""

    __tablename__ = "mail_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(String(64), index=True)
    #: The address being confirmed (for a password reset, the one the link went to).
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
