"""Pure functions from core objects to QualifyBase's wire models."""

from __future__ import annotations

from clinicore.core.models import Agent, Appointment, BusyBlock, Campaign, CampaignContact, Lead
from clinicore.core.scheduling.availability import Slot
from clinicore.core.tenancy.schemas import AuthenticatedKey
from clinicore.surfaces.qualifybase import wire


def me(caller: AuthenticatedKey) -> wire.Me:
    assert caller.clinic is not None
    return wire.Me(
        clinic=wire.MeClinic(id=caller.clinic.id, name=caller.clinic.name, time_zone=caller.clinic.time_zone),
        api_key=wire.MeApiKey(
            id=caller.key.id,
            name=caller.key.name,
            prefix=caller.key.prefix,
            created_at=caller.key.created_at,
            last_used_at=caller.key.last_used_at,
        ),
    )


def lead(row: Lead) -> wire.Lead:
    return wire.Lead.model_validate(row, from_attributes=True)


def agent(row: Agent) -> wire.Agent:
    return wire.Agent(
        id=row.id,
        name=row.name,
        direction=row.direction,
        phone_number=row.phone_number,
        active=row.is_active,
        created_at=row.created_at,
    )


def slot(row: Slot) -> wire.Slot:
    return wire.Slot(starts_at=row.start, ends_at=row.end, assigned_to=row.practitioner_id)


def appointment(row: Appointment) -> wire.Appointment:
    return wire.Appointment(
        id=row.id,
        lead_id=row.lead_id,
        assigned_to=row.practitioner_id,
        status=row.status,
        title=row.title,
        notes=row.notes,
        scheduled_at=row.starts_at,
        ends_at=row.ends_at,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        cancelled_at=row.cancelled_at,
    )


def campaign(row: Campaign, total_contacts: int) -> wire.Campaign:
    return wire.Campaign(
        id=row.id,
        name=row.name,
        status=row.status,
        agent_id=row.agent_id,
        target_country=row.target_country,
        total_contacts=total_contacts,
        created_at=row.created_at,
    )


def contact(row: CampaignContact) -> wire.Contact:
    return wire.Contact.model_validate(row, from_attributes=True)


def block(row: BusyBlock) -> wire.Block:
    return wire.Block(
        id=row.id,
        external_source=row.external_source,
        external_id=row.external_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        title=row.title,
        assigned_to=row.practitioner_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
