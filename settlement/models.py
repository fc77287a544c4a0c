"""Tables owned by the settlement layer (prefix `stl_`).

People are named by local username, creators elsewhere by URI and other
instances by host: no foreign key leaves this package. Amounts are BigInteger
minor units, since PostgreSQL's integer stops short of the 10**12 cap.
"""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from settlement.storage import UTCDateTime


class Base(DeclarativeBase):
    pass


class Account(Base):
    """A ledger account: a donor's wallet, a creator's balance, a payment provider's pay-in, ..."""

    __tablename__ = "stl_accounts"
    __table_args__ = (UniqueConstraint("kind", "owner", "currency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(255))
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
    period: Mapped[str] = mapped_column(String(16))
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    like_activity_id: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
