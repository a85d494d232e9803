"""Failed sign-ins and used subscribe tokens, kept briefly so every web process sees them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._common import UTCDateTime, utcnow


class AuthFailure(Base):
    """One wrong admin token (form or Bearer): a keyed hash of the client address, never the address."""

    __tablename__ = "auth_failures"
    __table_args__ = (
        Index("ix_auth_failures_client", "scope", "client_hash", "created_at"),
        Index("ix_auth_failures_created", "scope", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # admin
    client_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsedFormToken(Base):
    """A subscribe token that was used (a keyed hash of it), kept until the token expires anyway.

    The primary key makes the use atomic: of two requests with one token, one insert wins.
    """

    __tablename__ = "used_form_tokens"
    __table_args__ = (Index("ix_used_form_tokens_expires", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
