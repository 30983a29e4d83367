"""Pure functions between QualifyBase's wire models and the core's inputs and objects."""

from __future__ import annotations

from typing import Any

from clinicore.core.crm.schemas import LeadInput
from clinicore.core.models import (
    Agent,
    Appointment,
    AppointmentStatus,
    BusyBlock,
    Campaign,
    CampaignContact,
    Lead,
    LeadSource,
)
from clinicore.core.scheduling.availability import Slot
from clinicore.core.scheduling.schemas import AppointmentChanges, BookingRequest
from clinicore.core.tenancy.schemas import ClinicCaller
from clinicore.kit.inputs import NOT_GIVEN
from clinicore.surfaces.qualifybase import wire

# Core field -> QualifyBase field, where the names differ; error messages name these (subapp.wire_fields).
WIRE_FIELDS = {
    "practitioner_id": "assigned_to",
    # An appointment's start is its scheduled_at; a block's stays starts_at.
    "appointment.starts_at": "scheduled_at",
}


# --- wire -> core ---------------------------------------------------------------------------------


def lead_input(body: wire.LeadCreate) -> LeadInput:
    """Only the fields the client sent are given: an upsert leaves the others as they are."""
    sent = body.model_fields_set
    given: dict[str, Any] = {
        name: getattr(body, name)
        for name in (
            "full_name",
            "phone",
            "email",
            "country",
            "city",
            "language",
            "treatment_interest",
            "notes",
            "agent_id",
            "external_metadata",
        )
        if name in sent
    }
    if "source" in sent:
        given["source"] = LeadSource(body.source) if body.source is not None else None
    return LeadInput(**given, external_source=body.external_source, external_id=body.external_id)


def booking_request(body: wire.AppointmentCreate) -> BookingRequest:
    return BookingRequest(
        starts_at=body.scheduled_at,
        ends_at=body.ends_at,
        title=body.title,
        notes=body.notes,
        practitioner_id=body.assigned_to,
        lead_id=body.lead_id,
    )


def appointment_changes(body: wire.AppointmentUpdate) -> AppointmentChanges:
    """Null ``scheduled_at``, ``ends_at``, ``title`` or ``status`` changes nothing; null ``notes`` clears."""
    return AppointmentChanges(
        starts_at=NOT_GIVEN if body.scheduled_at is None else body.scheduled_at,
        ends_at=NOT_GIVEN if body.ends_at is None else body.ends_at,
        title=NOT_GIVEN if body.title is None else body.title,
        notes=body.notes if "notes" in body.model_fields_set else NOT_GIVEN,
        status=NOT_GIVEN if body.status is None else AppointmentStatus(body.status),
    )


# --- core -> wire ---------------------------------------------------------------------------------


def me(caller: ClinicCaller) -> wire.Me:
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
