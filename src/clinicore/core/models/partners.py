"""Partner console users and their sessions: the people of a partner (the software company that
white-labels Clinicore) who sign in to the partner console to manage its brand, hosts, master roles and
master forms."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base, UUIDPrimaryKey


class PartnerUser(UUIDPrimaryKey, Base):
    """A person who signs in to the partner console; the email is unique among partner users."""

    __tablename__ = "partner_users"

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class PartnerConsoleSession(UUIDPrimaryKey, Base):
    """A signed-in partner console session; the cookie holds a random token, we keep only its digest."""

    __tablename__ = "partner_console_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partner_users.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
