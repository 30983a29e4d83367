"""Leads, the AI/phone agents they are routed to, outbound campaigns and their contacts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base, UUIDPrimaryKey


class AgentDirection(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class Agent(UUIDPrimaryKey, Base):
    __tablename__ = "agents"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(16))
    phone_number: Mapped[str | None] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LeadSource(StrEnum):
    website = "website"
    instagram = "instagram"
    whatsapp = "whatsapp"
    facebook = "facebook"
    tiktok = "tiktok"
    referral = "referral"
    email = "email"
    paid_ads = "paid_ads"
    other = "other"


class Lead(UUIDPrimaryKey, Base):
    """A prospect; with (external_source, external_id) a create is an upsert (unique per clinic).

    ``client_id`` is the client the lead became when it first booked (kept, so that its later bookings
    name the same client even after its contact details change)."""

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("clinic_id", "external_source", "external_id"),
        Index("ix_leads_clinic_id_updated_at", "clinic_id", "updated_at"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    full_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    country: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(35))
    treatment_interest: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(32))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    external_source: Mapped[str | None] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(200))
    external_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CampaignStatus(StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    completed = "completed"


class Campaign(UUIDPrimaryKey, Base):
    __tablename__ = "campaigns"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.active)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    target_country: Mapped[str | None] = mapped_column(String(2))
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContactStatus(StrEnum):
    pending = "pending"
    qualified = "qualified"
    not_interested = "not_interested"
    callback_requested = "callback_requested"
    exhausted = "exhausted"


class AttemptOutcome(StrEnum):
    qualified = "qualified"
    not_interested = "not_interested"
    no_answer = "no_answer"
    callback_requested = "callback_requested"


class CampaignContact(UUIDPrimaryKey, Base):
    __tablename__ = "campaign_contacts"
    __table_args__ = (Index("ix_campaign_contacts_clinic_id_created_at", "clinic_id", "created_at"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    interest: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str | None] = mapped_column(String(35))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default=ContactStatus.pending)
    validation_status: Mapped[str] = mapped_column(String(32))  # valid | invalid_phone
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None]
    callback_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CampaignContactAttempt(UUIDPrimaryKey, Base):
    """One call attempt on a contact, recorded by staff in the console or by a dialer (native API)."""

    __tablename__ = "campaign_contact_attempts"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaign_contacts.id", ondelete="CASCADE"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(32))
    callback_at: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))  # "user:<id>" | "api_key:<id>"
    occurred_at: Mapped[datetime]
