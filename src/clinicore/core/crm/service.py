"""CRM use cases: agents, leads (with idempotent upsert), outbound campaigns and call outcomes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.crm import repository, transitions
from clinicore.core.crm.schemas import LeadInput
from clinicore.core.events import service as event_service
from clinicore.core.models import (
    Agent,
    AgentDirection,
    AttemptOutcome,
    Campaign,
    CampaignContact,
    CampaignContactAttempt,
    CampaignStatus,
    ContactStatus,
    Lead,
    LeadSource,
)
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit import contact
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.kit.ids import new_uuid

MAX_METADATA_BYTES = 4096
TERMINAL_CONTACT_STATUSES = frozenset(
    {ContactStatus.qualified, ContactStatus.not_interested, ContactStatus.exhausted}
)
LEAD_FIELDS = (
    "full_name",
    "phone",
    "email",
    "country",
    "city",
    "language",
    "treatment_interest",
    "notes",
    "source",
    "agent_id",
    "external_metadata",
)


def normalise_phone(raw: str, *, region: str | None = None, field_name: str = "phone") -> str:
    """E.164 of a number in service (a campaign calls it); read in ``region`` (default US) when written
    without a country code."""
    return contact.normalise_phone(raw, field=field_name, region=region, valid=True)


def normalise_country(raw: str | None, field_name: str = "country") -> str | None:
    if raw is None or not raw.strip():
        return None
    code = raw.strip().upper()
    if len(code) != 2 or not code.isalpha() or code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"{field_name}: must be a two-letter ISO country code", field=field_name)
    return code


# --- agents ---------------------------------------------------------------------------------------


async def create_agent(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    name: str,
    direction: AgentDirection,
    phone_number: str | None = None,
    clock: Clock = system_clock,
) -> Agent:
    if not name.strip():
        raise InvalidInput("name: must not be empty", field="name")
    now = clock.now()
    agent = Agent(
        clinic_id=clinic_id,
        name=name.strip(),
        direction=direction,
        phone_number=normalise_phone(phone_number, field_name="phone_number") if phone_number else None,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(agent)
    await session.flush()
    return agent


async def update_agent(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    agent_id: uuid.UUID,
    name: str,
    direction: AgentDirection,
    phone_number: str | None,
    is_active: bool,
    clock: Clock = system_clock,
) -> Agent:
    agent = await get_agent(session, clinic_id=clinic_id, agent_id=agent_id)
    if not name.strip():
        raise InvalidInput("name: must not be empty", field="name")
    agent.name = name.strip()
    agent.direction = direction
    agent.phone_number = normalise_phone(phone_number, field_name="phone_number") if phone_number else None
    agent.is_active = is_active
    agent.updated_at = clock.now()
    return agent


async def get_agent(session: AsyncSession, *, clinic_id: uuid.UUID, agent_id: uuid.UUID) -> Agent:
    agent = await repository.get_agent(session, clinic_id=clinic_id, agent_id=agent_id)
    if agent is None:
        raise NotFound("agent not found")
    return agent


async def list_agents(
    session: AsyncSession, *, clinic_id: uuid.UUID, direction: AgentDirection | None = None
) -> Sequence[Agent]:
    return await repository.list_agents(session, clinic_id=clinic_id, direction=direction)


# --- leads ----------------------------------------------------------------------------------------


def lead_snapshot(lead: Lead) -> dict[str, Any]:
    return {
        "id": str(lead.id),
        "clinic_id": str(lead.clinic_id),
        **{name: getattr(lead, name) for name in LEAD_FIELDS if name != "agent_id"},
        "agent_id": str(lead.agent_id) if lead.agent_id else None,
        "external_source": lead.external_source,
        "external_id": lead.external_id,
        "version": lead.version,
        "created_at": lead.created_at.isoformat(),
        "updated_at": lead.updated_at.isoformat(),
    }


async def _clean_lead_values(session: AsyncSession, clinic_id: uuid.UUID, data: LeadInput) -> dict[str, Any]:
    """The given fields, normalised and checked: only these are written."""
    values = data.given()
    for name in ("full_name", "city", "language", "treatment_interest", "notes"):
        if isinstance(values.get(name), str):
            values[name] = values[name].strip() or None
    if "country" in values:
        values["country"] = normalise_country(values["country"])
    if values.get("phone"):
        values["phone"] = normalise_phone(values["phone"], region=values.get("country"))
    if values.get("email"):
        values["email"] = tenancy_service.normalise_email(values["email"])
    if values.get("source") is not None and values["source"] not in LeadSource.__members__:
        raise InvalidInput(f"source: must be one of {', '.join(LeadSource.__members__)}", field="source")
    metadata = values.get("external_metadata")
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise InvalidInput("external_metadata: must be a JSON object", field="external_metadata")
        values["external_metadata"] = dict(metadata)
        if len(json.dumps(values["external_metadata"], separators=(",", ":")).encode()) > MAX_METADATA_BYTES:
            raise InvalidInput("external_metadata: must be at most 4 KB of JSON", field="external_metadata")
    if values.get("agent_id") is not None:
        agent = await repository.get_agent(session, clinic_id=clinic_id, agent_id=values["agent_id"])
        if agent is None or agent.direction != AgentDirection.outbound:
            raise InvalidInput("agent_id: must be one of the clinic's outbound agents", field="agent_id")
    return values


async def upsert_lead(
    session: AsyncSession, *, clinic_id: uuid.UUID, data: LeadInput, clock: Clock = system_clock
) -> tuple[Lead, bool]:
    """Create a lead, or update the one with the same (external_source, external_id). True when created.

    A new lead needs a phone or an email; an update writes only the fields given, and may not leave the
    lead with neither. Two identical requests racing still make one lead: the unique constraint decides,
    the loser updates.
    """
    if (data.external_source is None) != (data.external_id is None):
        raise InvalidInput(
            "external_id: external_source and external_id must be given together", field="external_id"
        )
    values = await _clean_lead_values(session, clinic_id, data)
    existing = None
    if data.external_source is not None and data.external_id is not None:
        existing = await repository.get_lead_by_external(
            session, clinic_id=clinic_id, external_source=data.external_source, external_id=data.external_id
        )
    if existing is None:
        if not values.get("phone") and not values.get("email"):
            raise InvalidInput("phone or email: at least one is required", field="phone")
        now = clock.now()
        lead = Lead(
            id=new_uuid(),
            clinic_id=clinic_id,
            external_source=data.external_source,
            external_id=data.external_id,
            version=1,
            created_at=now,
            updated_at=now,
            **values,
        )
        if data.external_source is None or data.external_id is None:
            session.add(lead)
            await session.flush()
        elif not await repository.insert_lead_unless_taken(session, lead):
            # A request with the same external id inserted it since our lookup: update that one.
            existing = await repository.get_lead_by_external(
                session,
                clinic_id=clinic_id,
                external_source=data.external_source,
                external_id=data.external_id,
            )
            if existing is None:  # the winner's lead was deleted since; the caller may retry
                raise Conflict("external_id: the lead changed while it was written; try again")
        if existing is None:
            await _emit_lead(session, lead, "lead.created", clock)
            return lead, True
    return await _update_lead(session, existing, values, clock), False


async def _update_lead(session: AsyncSession, lead: Lead, values: Mapping[str, Any], clock: Clock) -> Lead:
    changed = {name: value for name, value in values.items() if getattr(lead, name) != value}
    remaining_phone = changed.get("phone", lead.phone)
    remaining_email = changed.get("email", lead.email)
    if not remaining_phone and not remaining_email:
        raise InvalidInput("phone or email: at least one is required", field="phone")
    if changed:
        for name, value in changed.items():
            setattr(lead, name, value)
        lead.version += 1
        lead.updated_at = clock.now()
        await session.flush()
        await _emit_lead(session, lead, "lead.updated", clock)
    return lead


async def _emit_lead(session: AsyncSession, lead: Lead, event_type: str, clock: Clock) -> None:
    await event_service.emit(
        session,
        clinic_id=lead.clinic_id,
        type=event_type,
        aggregate_type="lead",
        aggregate_id=str(lead.id),
        version=lead.version,
        payload={"lead": lead_snapshot(lead)},
        clock=clock,
    )


async def get_lead(session: AsyncSession, *, clinic_id: uuid.UUID, lead_id: uuid.UUID) -> Lead:
    lead = await repository.get_lead(session, clinic_id=clinic_id, lead_id=lead_id)
    if lead is None:
        raise NotFound("lead not found")
    return lead


async def list_leads(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    updated_since: datetime | None = None,
    source: LeadSource | None = None,
    agent_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Sequence[Lead]:
    return await repository.list_leads(
        session,
        clinic_id=clinic_id,
        updated_since=updated_since,
        source=source,
        agent_id=agent_id,
        limit=limit,
        offset=offset,
    )


# --- campaigns ------------------------------------------------------------------------------------


async def create_campaign(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    name: str,
    agent_id: uuid.UUID | None = None,
    target_country: str | None = None,
    max_attempts: int = 3,
    status: CampaignStatus = CampaignStatus.active,
    clock: Clock = system_clock,
) -> Campaign:
    transitions.require_initial(status)
    if not name.strip():
        raise InvalidInput("name: must not be empty", field="name")
    if not 1 <= max_attempts <= 20:
        raise InvalidInput("max_attempts: must be between 1 and 20", field="max_attempts")
    if agent_id is not None:
        agent = await repository.get_agent(session, clinic_id=clinic_id, agent_id=agent_id)
        if agent is None or agent.direction != AgentDirection.outbound:
            raise InvalidInput("agent_id: must be one of the clinic's outbound agents", field="agent_id")
    now = clock.now()
    campaign = Campaign(
        clinic_id=clinic_id,
        name=name.strip(),
        agent_id=agent_id,
        target_country=normalise_country(target_country, "target_country"),
        max_attempts=max_attempts,
        status=status,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def set_campaign_status(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    campaign_id: uuid.UUID,
    status: CampaignStatus,
    clock: Clock = system_clock,
) -> Campaign:
    """Move the campaign's status as the campaign status table allows (the same status is no change)."""
    campaign = await get_campaign(session, clinic_id=clinic_id, campaign_id=campaign_id)
    current = CampaignStatus(campaign.status)
    transitions.require_move(current, status)
    if status != current:
        campaign.status = status
        campaign.updated_at = clock.now()
    return campaign


async def get_campaign(session: AsyncSession, *, clinic_id: uuid.UUID, campaign_id: uuid.UUID) -> Campaign:
    campaign = await repository.get_campaign(session, clinic_id=clinic_id, campaign_id=campaign_id)
    if campaign is None:
        raise NotFound("campaign not found")
    return campaign


async def list_campaigns(session: AsyncSession, *, clinic_id: uuid.UUID) -> list[tuple[Campaign, int]]:
    """Each campaign with its total number of contacts."""
    campaigns = await repository.list_campaigns(session, clinic_id=clinic_id)
    counts = await repository.contact_counts(session, campaign_ids=[campaign.id for campaign in campaigns])
    return [(campaign, counts.get(campaign.id, 0)) for campaign in campaigns]


async def add_contact(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    campaign_id: uuid.UUID,
    name: str,
    phone: str,
    interest: str,
    city: str,
    country: str | None = None,
    email: str | None = None,
    language: str | None = None,
    notes: str | None = None,
    clock: Clock = system_clock,
) -> CampaignContact:
    """Add a contact. ``validation_status`` tells whether a dialer may call it: ``valid``, ``duplicate``
    (the phone is already in the campaign) or ``country_mismatch`` (not the campaign's target country)."""
    campaign = await get_campaign(session, clinic_id=clinic_id, campaign_id=campaign_id)
    if not transitions.takes_contacts(CampaignStatus(campaign.status)):
        raise Conflict(f"the campaign is {campaign.status} and takes no new contacts")
    for label, value in (("name", name), ("interest", interest), ("city", city)):
        if not value.strip():
            raise InvalidInput(f"{label}: must not be empty", field=label)
    country_code = normalise_country(country)
    e164 = normalise_phone(phone, region=country_code or campaign.target_country)
    phone_country = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    if await repository.campaign_has_phone(session, campaign_id=campaign_id, phone=e164):
        validation = "duplicate"
    elif campaign.target_country and phone_country != campaign.target_country:
        validation = "country_mismatch"
    else:
        validation = "valid"
    now = clock.now()
    contact = CampaignContact(
        clinic_id=clinic_id,
        campaign_id=campaign_id,
        name=name.strip(),
        phone=e164,
        interest=interest.strip(),
        city=city.strip(),
        country=country_code,
        email=tenancy_service.normalise_email(email) if email else None,
        language=(language or "").strip() or None,
        notes=notes,
        status=ContactStatus.pending,
        validation_status=validation,
        attempts=0,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(contact)
    await session.flush()
    return contact


async def list_contacts(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    campaign_id: uuid.UUID | None = None,
    status: ContactStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Sequence[CampaignContact]:
    return await repository.list_contacts(
        session, clinic_id=clinic_id, campaign_id=campaign_id, status=status, limit=limit, offset=offset
    )


async def get_contact(
    session: AsyncSession, *, clinic_id: uuid.UUID, contact_id: uuid.UUID
) -> CampaignContact:
    contact = await repository.get_contact(session, clinic_id=clinic_id, contact_id=contact_id)
    if contact is None:
        raise NotFound("campaign contact not found")
    return contact


async def list_attempts(
    session: AsyncSession, *, clinic_id: uuid.UUID, contact_id: uuid.UUID
) -> Sequence[CampaignContactAttempt]:
    return await repository.list_attempts(session, clinic_id=clinic_id, contact_id=contact_id)


def contact_snapshot(contact: CampaignContact) -> dict[str, Any]:
    return {
        "id": str(contact.id),
        "clinic_id": str(contact.clinic_id),
        "campaign_id": str(contact.campaign_id),
        "name": contact.name,
        "phone": contact.phone,
        "email": contact.email,
        "interest": contact.interest,
        "city": contact.city,
        "country": contact.country,
        "language": contact.language,
        "notes": contact.notes,
        "status": contact.status,
        "validation_status": contact.validation_status,
        "attempts": contact.attempts,
        "last_attempt_at": contact.last_attempt_at.isoformat() if contact.last_attempt_at else None,
        "callback_at": contact.callback_at.isoformat() if contact.callback_at else None,
        "version": contact.version,
        "created_at": contact.created_at.isoformat(),
        "updated_at": contact.updated_at.isoformat(),
    }


def next_contact_status(outcome: AttemptOutcome, attempts: int, max_attempts: int) -> ContactStatus:
    """The contact's status after its ``attempts``-th call ended with ``outcome``."""
    if outcome is AttemptOutcome.qualified:
        return ContactStatus.qualified
    if outcome is AttemptOutcome.not_interested:
        return ContactStatus.not_interested
    if attempts >= max_attempts:
        return ContactStatus.exhausted
    return (
        ContactStatus.callback_requested
        if outcome is AttemptOutcome.callback_requested
        else ContactStatus.pending
    )


async def record_attempt(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    contact_id: uuid.UUID,
    outcome: AttemptOutcome,
    callback_at: datetime | None = None,
    notes: str | None = None,
    recorded_by: str,
    clock: Clock = system_clock,
) -> CampaignContact:
    contact = await get_contact(session, clinic_id=clinic_id, contact_id=contact_id)
    if contact.status in TERMINAL_CONTACT_STATUSES:
        raise Conflict(f"the contact is {contact.status}; no more attempts are recorded")
    now = clock.now()
    if outcome is AttemptOutcome.callback_requested:
        if callback_at is None:
            raise InvalidInput(
                "callback_at: required when the outcome is callback_requested", field="callback_at"
            )
        if callback_at.tzinfo is None or callback_at <= now:
            raise InvalidInput("callback_at: must be a future time with a time zone", field="callback_at")
    elif callback_at is not None:
        raise InvalidInput("callback_at: only for the callback_requested outcome", field="callback_at")
    campaign = await get_campaign(session, clinic_id=clinic_id, campaign_id=contact.campaign_id)
    session.add(
        CampaignContactAttempt(
            clinic_id=clinic_id,
            contact_id=contact.id,
            outcome=outcome,
            callback_at=callback_at,
            notes=notes,
            recorded_by=recorded_by,
            occurred_at=now,
        )
    )
    contact.attempts += 1
    contact.last_attempt_at = now
    status = next_contact_status(outcome, contact.attempts, campaign.max_attempts)
    contact.callback_at = callback_at if status is ContactStatus.callback_requested else None
    previous_status = contact.status
    contact.status = status
    contact.version += 1
    contact.updated_at = now
    await session.flush()
    if status is not ContactStatus.pending and (
        status != previous_status or status is ContactStatus.callback_requested
    ):
        await event_service.emit(
            session,
            clinic_id=clinic_id,
            type=f"campaign.contact.{status}",
            aggregate_type="campaign_contact",
            aggregate_id=str(contact.id),
            version=contact.version,
            payload={"contact": contact_snapshot(contact)},
            clock=clock,
        )
    return contact
