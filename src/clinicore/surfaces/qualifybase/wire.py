"""QualifyBase's exact JSON: snake_case fields, ISO 8601 UTC timestamps with milliseconds and ``Z``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from clinicore.kit.inputs import SupportedDateTime


def format_timestamp(moment: datetime) -> str:
    """``2026-05-15T11:00:00.000Z``; the year always has four digits (``0842-06-30T…``), as RFC 3339 says."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


Timestamp = Annotated[
    datetime,
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2026-05-15T11:00:00.000Z"}),
]

LeadSourceName = Literal[
    "website", "instagram", "whatsapp", "facebook", "tiktok", "referral", "email", "paid_ads", "other"
]
AppointmentStatusName = Literal[
    "waiting_confirmation", "confirmed", "declined", "cancelled", "missed", "completed"
]
ContactStatusName = Literal["pending", "qualified", "not_interested", "callback_requested", "exhausted"]
EventName = Literal[
    "lead.created",
    "lead.updated",
    "appointment.created",
    "appointment.updated",
    "appointment.cancelled",
    "campaign.contact.qualified",
    "campaign.contact.not_interested",
    "campaign.contact.exhausted",
    "campaign.contact.callback_requested",
]


class Request(BaseModel):
    """Request bodies ignore unknown fields, as integrators send whatever their tool maps."""

    model_config = ConfigDict(extra="ignore")


class Error(BaseModel):
    error: Literal["invalid_input", "unauthorized", "not_found", "conflict", "rate_limited", "internal_error"]
    message: str


# --- me -------------------------------------------------------------------------------------------


class MeClinic(BaseModel):
    id: uuid.UUID
    name: str
    time_zone: str


class MeApiKey(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: Timestamp
    last_used_at: Timestamp | None


class Me(BaseModel):
    clinic: MeClinic
    api_key: MeApiKey


# --- leads and agents -----------------------------------------------------------------------------


class LeadCreate(Request):
    full_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    country: str | None = Field(default=None, max_length=2)
    city: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=35)
    treatment_interest: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=5000)
    source: LeadSourceName | None = None
    agent_id: uuid.UUID | None = None
    external_source: str | None = Field(default=None, min_length=1, max_length=100)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    external_metadata: dict[str, Any] | None = None


class Lead(BaseModel):
    id: uuid.UUID
    full_name: str | None
    phone: str | None
    email: str | None
    country: str | None
    city: str | None
    language: str | None
    treatment_interest: str | None
    notes: str | None
    source: LeadSourceName | None
    agent_id: uuid.UUID | None
    external_source: str | None
    external_id: str | None
    external_metadata: dict[str, Any] | None
    created_at: Timestamp
    updated_at: Timestamp


class Page(BaseModel):
    limit: int
    offset: int
    has_more: bool


class LeadList(Page):
    leads: list[Lead]


class Agent(BaseModel):
    id: uuid.UUID
    name: str
    direction: Literal["inbound", "outbound"]
    phone_number: str | None
    active: bool
    created_at: Timestamp


class AgentList(BaseModel):
    agents: list[Agent]


# --- availability and appointments ----------------------------------------------------------------


class Slot(BaseModel):
    starts_at: Timestamp
    ends_at: Timestamp
    assigned_to: uuid.UUID


class Availability(BaseModel):
    slots: list[Slot]


class AppointmentCreate(Request):
    lead_id: uuid.UUID
    scheduled_at: SupportedDateTime
    ends_at: SupportedDateTime
    title: str = Field(min_length=1, max_length=300)
    assigned_to: uuid.UUID | None = None
    notes: str | None = Field(default=None, max_length=5000)


class AppointmentUpdate(Request):
    scheduled_at: SupportedDateTime | None = None
    ends_at: SupportedDateTime | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    notes: str | None = Field(default=None, max_length=5000)
    status: AppointmentStatusName | None = None


class Appointment(BaseModel):
    id: uuid.UUID
    lead_id: uuid.UUID | None
    assigned_to: uuid.UUID | None
    status: AppointmentStatusName
    title: str
    notes: str | None
    scheduled_at: Timestamp
    ends_at: Timestamp
    version: int
    created_at: Timestamp
    updated_at: Timestamp
    cancelled_at: Timestamp | None


class AppointmentList(Page):
    appointments: list[Appointment]


# --- campaigns ------------------------------------------------------------------------------------


class Campaign(BaseModel):
    id: uuid.UUID
    name: str
    status: Literal["draft", "active", "paused", "completed"]
    agent_id: uuid.UUID | None
    target_country: str | None
    total_contacts: int
    created_at: Timestamp


class CampaignList(BaseModel):
    campaigns: list[Campaign]


class ContactCreate(Request):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=40)
    interest: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    country: str | None = Field(default=None, max_length=2)
    email: str | None = Field(default=None, max_length=320)
    language: str | None = Field(default=None, max_length=35)
    notes: str | None = Field(default=None, max_length=5000)


class Contact(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    name: str
    phone: str
    email: str | None
    interest: str
    city: str
    country: str | None
    language: str | None
    notes: str | None
    status: ContactStatusName
    validation_status: Literal["valid", "duplicate", "country_mismatch"]
    attempts: int
    last_attempt_at: Timestamp | None
    callback_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class ContactList(Page):
    contacts: list[Contact]


# --- blocks ---------------------------------------------------------------------------------------


class BlockUpsert(Request):
    external_source: str = Field(min_length=1, max_length=100)
    external_id: str = Field(min_length=1, max_length=200)
    starts_at: SupportedDateTime
    ends_at: SupportedDateTime
    title: str | None = Field(default=None, max_length=300)
    assigned_to: uuid.UUID | None = Field(
        default=None, description="A practitioner; absent blocks the clinic"
    )


class Block(BaseModel):
    id: uuid.UUID
    external_source: str
    external_id: str
    starts_at: Timestamp
    ends_at: Timestamp
    title: str | None
    assigned_to: uuid.UUID | None
    created_at: Timestamp
    updated_at: Timestamp


# --- webhooks -------------------------------------------------------------------------------------


class WebhookCreate(Request):
    url: str = Field(min_length=1, max_length=2048)
    events: list[EventName] = Field(min_length=1, description="Event types to receive")


class Webhook(BaseModel):
    id: uuid.UUID
    url: str
    events: list[EventName]
    enabled: bool
    created_at: Timestamp


class WebhookCreated(Webhook):
    signingSecret: str = Field(description="whsec_… secret, shown once")


class WebhookList(BaseModel):
    webhooks: list[Webhook]


class WebhookDelivery(BaseModel):
    """The body of every delivery: ``{"id": "evt_…", "type", "created", "data": {...}}``."""

    id: str
    type: EventName
    created: Timestamp
    data: dict[str, Any]
