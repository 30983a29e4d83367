"""Partners, clinics, clinic users, console sessions and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinicore.core.models.base import Base, UUIDPrimaryKey


class Partner(UUIDPrimaryKey, Base):
    """An IntakeQ partner: a software company that white-labels Clinicore for its clinics.

    The brand (name, logo, colours) dresses its practices' console pages, form pages and emails.
    ``host_names`` are the hosts it serves Clinicore under (the first one is where links point);
    ``allowed_redirect_hosts`` are the hosts a filled form may send the browser back to;
    ``frame_origins`` are the parent origins allowed to embed the console in an iframe
    (``Content-Security-Policy: frame-ancestors``); ``form_notification_url`` is the link of the staff
    email when a form is submitted, with ``[form-id]`` replaced by the intake's id.
    """

    __tablename__ = "partners"

    name: Mapped[str] = mapped_column(String(200))
    brand_name: Mapped[str | None] = mapped_column(String(200))
    brand_logo_url: Mapped[str | None] = mapped_column(String(500))
    brand_color: Mapped[str | None] = mapped_column(String(7))
    brand_accent_color: Mapped[str | None] = mapped_column(String(7))
    host_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    allowed_redirect_hosts: Mapped[list[str]] = mapped_column(JSON, default=list)
    frame_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    form_notification_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]


class Clinic(UUIDPrimaryKey, Base):
    """A clinic is the Qualiphy clinic, the QualifyBase clinic and the IntakeQ practice at once."""

    __tablename__ = "clinics"
    __table_args__ = (UniqueConstraint("partner_id", "external_practice_id"),)

    partner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("partners.id", ondelete="RESTRICT"))
    number: Mapped[int] = mapped_column(Integer, unique=True)  # Qualiphy's numeric clinic_id
    practice_id: Mapped[str] = mapped_column(String(16), unique=True)  # IntakeQ's practice "Id"
    external_practice_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    time_zone: Mapped[str] = mapped_column(String(64))
    address_street: Mapped[str | None] = mapped_column(String(200))
    address_city: Mapped[str | None] = mapped_column(String(100))
    address_state: Mapped[str | None] = mapped_column(String(2))
    address_zip: Mapped[str | None] = mapped_column(String(10))
    address_country: Mapped[str] = mapped_column(String(2), default="US")
    brand_name: Mapped[str | None] = mapped_column(String(200))
    brand_color: Mapped[str | None] = mapped_column(String(7))
    brand_logo_url: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    auto_invites: Mapped[bool] = mapped_column(Boolean, default=True)
    # Parts of the clinic its partner switches on and off (IntakeQ FormsEnabled / BookingEnabled).
    forms_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    booking_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Deleted by its partner: hidden and unreachable (keys revoked), its records kept.
    deleted_at: Mapped[datetime | None]

    partner: Mapped[Partner | None] = relationship(lazy="raise")


class ClinicUserRole(StrEnum):
    admin = "admin"
    staff = "staff"


class ClinicUser(UUIDPrimaryKey, Base):
    """A person who signs in to the clinic console.

    With a password (``password_hash``) a user signs in by email, so among such users an email is unique
    (a partial unique index). A practitioner or assistant signed in by its partner's single sign-on has a
    user of its own, linked by ``practitioner_id`` or ``assistant_id``, without a password: it can never
    sign in by email, and what it may do is its staff role's (core/staff/sign_in.py).
    """

    __tablename__ = "clinic_users"
    __table_args__ = (
        Index(
            "uq_clinic_users_password_email",
            "email",
            unique=True,
            sqlite_where=text("password_hash IS NOT NULL"),
            postgresql_where=text("password_hash IS NOT NULL"),
        ),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), unique=True
    )
    assistant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assistants.id", ondelete="CASCADE"), unique=True
    )
    role: Mapped[str] = mapped_column(String(16), default=ClinicUserRole.admin)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    clinic: Mapped[Clinic] = relationship(lazy="raise")


class ConsoleSession(UUIDPrimaryKey, Base):
    """A signed-in console session; the cookie holds a random token, we keep only its digest."""

    __tablename__ = "console_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic_users.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ConsoleSignInToken(UUIDPrimaryKey, Base):
    """A single sign-on token (IntakeQ's ephemeral token) for one console user: random, single use,
    short-lived; we keep only its digest. ``used_at`` is set by the one request that uses it."""

    __tablename__ = "console_sign_in_tokens"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic_users.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class ApiKeyKind(StrEnum):
    qualifybase = "qualifybase"  # qbk_live_…, hashed, shown once
    qualiphy = "qualiphy"  # api_key, encrypted and retrievable
    intakeq_practice = "intakeq_practice"  # X-Auth-Key of a practice, encrypted and retrievable
    intakeq_partner = "intakeq_partner"  # X-Auth-Key of a partner, hashed
    native = "native"  # ck_…, hashed


class ApiKey(UUIDPrimaryKey, Base):
    """Every key kind in one table: a SHA-256 digest for lookup, ciphertext only for retrievable kinds."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_kind_prefix", "kind", "prefix"),)

    clinic_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    encrypted_secret: Mapped[str | None] = mapped_column(String(500))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clinic_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
