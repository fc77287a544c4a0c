"""Tables owned by the server: local accounts (prefix none, no foreign keys into other packages)."""

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from federation.models import UTCDateTime


class Base(DeclarativeBase):
    pass


class User(Base):
    """A person with an account here; their actor is the federation LocalActor of the same username."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
