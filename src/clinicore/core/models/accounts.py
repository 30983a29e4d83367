"""Sign-in sessions of the people who work at a desk rather than in the clinic console: providers (the
provider desk) and pharmacy users (the pharmacy desk). As for console sessions, the cookie holds a random
token and we keep only its digest; the session lasts until ``expires_at`` or sign-out."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base, UUIDPrimaryKey


class DeskAccountKind(StrEnum):
    provider = "provider"  # providers.id
    pharmacy_user = "pharmacy_user"  # pharmacy_users.id


class DeskSession(UUIDPrimaryKey, Base):
    __tablename__ = "desk_sessions"
    __table_args__ = (Index("ix_desk_sessions_account", "account_kind", "account_id"),)

    account_kind: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[uuid.UUID]  # a provider or a pharmacy user, by ``account_kind``
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
