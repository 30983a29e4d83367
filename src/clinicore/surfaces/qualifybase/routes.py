"""QualifyBase routes: parse the wire model, call one core service, map the result."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from clinicore.core.audit.service import Actor
from clinicore.core.crm import service as crm_service
from clinicore.core.events import service as event_service
from clinicore.core.models import (
    AgentDirection,
    AppointmentStatus,
    ContactStatus,
    LeadSource,
    WebhookEndpoint,
    WebhookFormat,
)
from clinicore.core.scheduling import blocks as block_service
from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling import slots as slot_service
from clinicore.core.scheduling.availability import DayPart
from clinicore.kit.errors import InvalidInput
from clinicore.kit.inputs import within_supported_years
from clinicore.kit.local_time import start_of_local_day
from clinicore.kit.paging import one_page
from clinicore.requests import RuntimeDep, SessionDep, reads_only
from clinicore.surfaces.qualifybase import mappers, wire
from clinicore.surfaces.qualifybase.auth import QualifyBaseKey

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": wire.Error, "description": description}
    for status, description in {
        400: "invalid_input",
        401: "unauthorized",
        404: "not_found",
        409: "conflict",
        429: "rate_limited (with Retry-After)",
    }.items()
}
router = APIRouter(responses=ERRORS)
Limit = Annotated[int, Query(ge=1, le=100, description="Page size (1-100)")]
Offset = Annotated[int, Query(ge=0, le=100_000, description="Rows to skip")]


def clinic_id_of(caller: QualifyBaseKey) -> uuid.UUID:
    return caller.clinic.id


def parse_instant(
    value: str | None, *, time_zone: str, name: str, end_of_day: bool = False
) -> datetime | None:
    """An ISO 8601 instant, or a date meaning that day's local midnight (the next one for ``end_of_day``)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = within_supported_years(date.fromisoformat(value))
            return start_of_local_day(day + (timedelta(days=1) if end_of_day else timedelta(0)), time_zone)
        moment = within_supported_years(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as error:
        reason = (
            str(error)
            if str(error).startswith("must be between")
            else "must be an ISO 8601 date or date-time"
        )
        raise InvalidInput(f"{name}: {reason}", field=name) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{name}: must include a time zone (use Z for UTC)", field=name)
    return moment.astimezone(UTC)


@router.get("/me", response_model=wire.Me, summary="The authenticated clinic and API-key metadata")
@reads_only
async def get_me(caller: QualifyBaseKey) -> wire.Me:
    return mappers.me(caller)


# --- leads ----------------------------------------------------------------------------------------


@router.get("/leads", response_model=wire.LeadList, summary="List leads for the authenticated clinic")
async def list_leads(
    caller: QualifyBaseKey,
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    updated_since: Annotated[str | None, Query(description="ISO 8601 instant or date")] = None,
    source: wire.LeadSourceName | None = None,
    agent_id: uuid.UUID | None = None,
) -> wire.LeadList:
    clinic = caller.clinic
    assert clinic is not None
    since = parse_instant(updated_since, time_zone=clinic.time_zone, name="updated_since")
    page = await one_page(
        lambda rows: crm_service.list_leads(
            session,
            clinic_id=clinic.id,
            updated_since=since,
            source=LeadSource(source) if source else None,
            agent_id=agent_id,
            limit=rows,
            offset=offset,
        ),
        limit=limit,
    )
    return wire.LeadList(
        leads=[mappers.lead(row) for row in page.items], limit=limit, offset=offset, has_more=page.has_more
    )


@router.post(
    "/leads",
    response_model=wire.Lead,
    status_code=201,
    summary="Create or update a lead (idempotent with external_source + external_id)",
    responses={200: {"model": wire.Lead, "description": "An existing lead was updated"}},
)
async def upsert_lead(
    body: wire.LeadCreate,
    caller: QualifyBaseKey,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> wire.Lead:
    lead, created = await crm_service.upsert_lead(
        session, clinic_id=clinic_id_of(caller), data=mappers.lead_input(body), clock=runtime.clock
    )
    response.status_code = 201 if created else 200
    return mappers.lead(lead)


@router.get("/agents", response_model=wire.AgentList, summary="List agents, optionally by direction")
async def list_agents(
    caller: QualifyBaseKey, session: SessionDep, direction: AgentDirection | None = None
) -> wire.AgentList:
    rows = await crm_service.list_agents(session, clinic_id=clinic_id_of(caller), direction=direction)
    return wire.AgentList(agents=[mappers.agent(row) for row in rows])


# --- availability and appointments ----------------------------------------------------------------


@router.get("/availability", response_model=wire.Availability, summary="Find open appointment slots")
@reads_only
async def get_availability(
    caller: QualifyBaseKey,
    session: SessionDep,
    runtime: RuntimeDep,
    from_: Annotated[date | None, Query(alias="from", description="First local date (YYYY-MM-DD)")] = None,
    preference: Annotated[DayPart | None, Query(description="morning, afternoon or evening (local)")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
) -> wire.Availability:
    slots = await slot_service.find_slots(
        session,
        clinic_id=clinic_id_of(caller),
        from_day=from_,
        preference=preference,
        limit=limit,
        clock=runtime.clock,
    )
    return wire.Availability(slots=[mappers.slot(slot) for slot in slots])


@router.post("/appointments", response_model=wire.Appointment, status_code=201, summary="Book an appointment")
async def book_appointment(
    body: wire.AppointmentCreate, caller: QualifyBaseKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Appointment:
    appointment = await booking_service.book_appointment(
        session,
        clinic_id=clinic_id_of(caller),
        request=mappers.booking_request(body),
        source="qualifybase",
        clock=runtime.clock,
    )
    return mappers.appointment(appointment)


@router.get("/appointments", response_model=wire.AppointmentList, summary="List appointments")
@reads_only
async def list_appointments(
    caller: QualifyBaseKey,
    session: SessionDep,
    status: wire.AppointmentStatusName | None = None,
    from_: Annotated[
        str | None, Query(alias="from", description="Starts at or after (date or instant)")
    ] = None,
    to: Annotated[str | None, Query(description="Starts before (a date includes that whole day)")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> wire.AppointmentList:
    clinic = caller.clinic
    assert clinic is not None
    starts_from = parse_instant(from_, time_zone=clinic.time_zone, name="from")
    starts_before = parse_instant(to, time_zone=clinic.time_zone, name="to", end_of_day=True)
    page = await one_page(
        lambda rows: booking_service.list_appointments(
            session,
            clinic_id=clinic.id,
            statuses=[AppointmentStatus(status)] if status else None,
            starts_from=starts_from,
            starts_before=starts_before,
            limit=rows,
            offset=offset,
        ),
        limit=limit,
    )
    return wire.AppointmentList(
        appointments=[mappers.appointment(row) for row in page.items],
        limit=limit,
        offset=offset,
        has_more=page.has_more,
    )


@router.get(
    "/appointments/{appointment_id}", response_model=wire.Appointment, summary="Fetch one appointment"
)
@reads_only
async def get_appointment(
    appointment_id: uuid.UUID, caller: QualifyBaseKey, session: SessionDep
) -> wire.Appointment:
    row = await booking_service.get_appointment(
        session, clinic_id=clinic_id_of(caller), appointment_id=appointment_id
    )
    return mappers.appointment(row)


@router.patch(
    "/appointments/{appointment_id}",
    response_model=wire.Appointment,
    summary="Reschedule or update an appointment",
)
async def update_appointment(
    appointment_id: uuid.UUID,
    body: wire.AppointmentUpdate,
    caller: QualifyBaseKey,
    session: SessionDep,
    runtime: RuntimeDep,
) -> wire.Appointment:
    row = await booking_service.update_appointment(
        session,
        clinic_id=clinic_id_of(caller),
        appointment_id=appointment_id,
        changes=mappers.appointment_changes(body),
        clock=runtime.clock,
    )
    return mappers.appointment(row)


@router.delete(
    "/appointments/{appointment_id}", response_model=wire.Appointment, summary="Soft-cancel an appointment"
)
async def cancel_appointment(
    appointment_id: uuid.UUID, caller: QualifyBaseKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Appointment:
    row = await booking_service.cancel_appointment(
        session, clinic_id=clinic_id_of(caller), appointment_id=appointment_id, clock=runtime.clock
    )
    return mappers.appointment(row)


# --- campaigns ------------------------------------------------------------------------------------


@router.get("/campaigns", response_model=wire.CampaignList, summary="List outbound campaigns")
async def list_campaigns(caller: QualifyBaseKey, session: SessionDep) -> wire.CampaignList:
    rows = await crm_service.list_campaigns(session, clinic_id=clinic_id_of(caller))
    return wire.CampaignList(campaigns=[mappers.campaign(campaign, total) for campaign, total in rows])


@router.get(
    "/campaigns/contacts", response_model=wire.ContactList, summary="List campaign contacts across campaigns"
)
async def list_contacts(
    caller: QualifyBaseKey,
    session: SessionDep,
    status: wire.ContactStatusName | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> wire.ContactList:
    page = await one_page(
        lambda rows: crm_service.list_contacts(
            session,
            clinic_id=clinic_id_of(caller),
            status=ContactStatus(status) if status else None,
            limit=rows,
            offset=offset,
        ),
        limit=limit,
    )
    return wire.ContactList(
        contacts=[mappers.contact(row) for row in page.items],
        limit=limit,
        offset=offset,
        has_more=page.has_more,
    )


@router.post(
    "/campaigns/{campaign_id}/contacts",
    response_model=wire.Contact,
    status_code=201,
    summary="Add one contact to an outbound campaign",
)
async def add_contact(
    campaign_id: uuid.UUID,
    body: wire.ContactCreate,
    caller: QualifyBaseKey,
    session: SessionDep,
    runtime: RuntimeDep,
) -> wire.Contact:
    row = await crm_service.add_contact(
        session,
        clinic_id=clinic_id_of(caller),
        campaign_id=campaign_id,
        name=body.name,
        phone=body.phone,
        interest=body.interest,
        city=body.city,
        country=body.country,
        email=body.email,
        language=body.language,
        notes=body.notes,
        clock=runtime.clock,
    )
    return mappers.contact(row)


# --- blocks ---------------------------------------------------------------------------------------


@router.post(
    "/availability/blocks",
    response_model=wire.Block,
    status_code=201,
    summary="Upsert a busy block from an external calendar event",
    responses={200: {"model": wire.Block, "description": "An existing block was updated"}},
)
async def upsert_block(
    body: wire.BlockUpsert,
    caller: QualifyBaseKey,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> wire.Block:
    block, created = await block_service.upsert_block(
        session,
        clinic_id=clinic_id_of(caller),
        external_source=body.external_source,
        external_id=body.external_id,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        title=body.title,
        practitioner_id=body.assigned_to,
        clock=runtime.clock,
    )
    response.status_code = 201 if created else 200
    return mappers.block(block)


@router.delete(
    "/availability/blocks",
    status_code=204,
    summary="Delete a busy block by external source and external ID (204 even when already gone)",
    response_class=Response,
)
async def delete_block(
    caller: QualifyBaseKey,
    session: SessionDep,
    external_source: Annotated[str, Query(min_length=1, max_length=100)],
    external_id: Annotated[str, Query(min_length=1, max_length=200)],
) -> Response:
    await block_service.delete_block(
        session, clinic_id=clinic_id_of(caller), external_source=external_source, external_id=external_id
    )
    return Response(status_code=204)


# --- webhooks -------------------------------------------------------------------------------------


def _webhook(endpoint: WebhookEndpoint) -> wire.Webhook:
    return wire.Webhook(
        id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.event_types or []),
        enabled=endpoint.enabled,
        created_at=endpoint.created_at,
    )


@router.get(
    "/webhooks", response_model=wire.WebhookList, summary="List webhook endpoints created by this API key"
)
async def list_webhooks(caller: QualifyBaseKey, session: SessionDep) -> wire.WebhookList:
    endpoints = await event_service.list_endpoints_owned_by(
        session, clinic_id=clinic_id_of(caller), owner_key_id=caller.key.id, format=WebhookFormat.qualifybase
    )
    return wire.WebhookList(webhooks=[_webhook(endpoint) for endpoint in endpoints])


@router.post(
    "/webhooks",
    response_model=wire.WebhookCreated,
    status_code=201,
    summary="Create a webhook endpoint and receive its signing secret once",
)
async def create_webhook(
    body: wire.WebhookCreate, caller: QualifyBaseKey, session: SessionDep, runtime: RuntimeDep
) -> wire.WebhookCreated:
    created = await event_service.create_endpoint(
        session,
        box=runtime.box,
        clinic_id=clinic_id_of(caller),
        format=WebhookFormat.qualifybase,
        url=body.url,
        allow_private_targets=runtime.settings.private_webhooks_allowed,
        event_types=list(dict.fromkeys(body.events)),
        owner_key_id=caller.key.id,
        actor=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    return wire.WebhookCreated(**_webhook(created.endpoint).model_dump(), signingSecret=created.secret)


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a webhook endpoint owned by this API key",
)
async def delete_webhook(
    webhook_id: uuid.UUID, caller: QualifyBaseKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await event_service.delete_endpoint_owned_by(
        session,
        clinic_id=clinic_id_of(caller),
        endpoint_id=webhook_id,
        owner_key_id=caller.key.id,
        actor=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    return Response(status_code=204)
