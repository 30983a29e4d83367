"""IntakeQ Appointments API routes (``/intakeq/api/v1/appointments``): query, read, book, update and
cancel appointments of the one scheduling core, and read the booking settings.

Every booking rule (hours, notice, horizon, overlaps, no double booking) is the core's
(``core/scheduling/booking.py``); what is IntakeQ's alone is checked here: the mandatory fields, the
5-minute ``UtcDateTime``, no change of client or practitioner, a second cancellation refused
(docs/compat/intakeq.md, "Appointments").
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from clinicore.core.models import AppointmentStatus, Clinic
from clinicore.core.scheduling import booking, catalog, details, hours, notices, search
from clinicore.core.scheduling.schemas import AppointmentChanges, BookingRequest
from clinicore.core.staff import service as staff_service
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.kit.inputs import NOT_GIVEN, within_supported_years
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.surfaces.intakeq import appointment_mappers as mappers
from clinicore.surfaces.intakeq import appointment_wire as wire
from clinicore.surfaces.intakeq.auth import PracticeKey
from clinicore.surfaces.intakeq.body import documented_body, json_body, query_flag, query_page, query_value
from clinicore.surfaces.intakeq.wire import Error

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Error, "description": description}
    for status, description in {
        400: "bad request",
        401: "missing or invalid X-Auth-Key",
        404: "not found",
    }.items()
}
router = APIRouter(responses=ERRORS)
PAGE_SIZE = 100
CREATE_FIELDS = (
    "PractitionerId",
    "ClientId",
    "ServiceId",
    "LocationId",
    "Status",
    "UtcDateTime",
    "SendClientEmailNotification",
    "ReminderType",
)
UPDATE_FIELDS = ("Id", "UtcDateTime")
NewBody = Annotated[wire.AppointmentIn, Depends(json_body(wire.AppointmentIn))]
UpdateBody = Annotated[wire.AppointmentUpdateIn, Depends(json_body(wire.AppointmentUpdateIn))]
CancelBody = Annotated[wire.CancellationIn, Depends(json_body(wire.CancellationIn))]


def query_date(request: Request, name: str) -> date | None:
    """A ``yyyy-MM-dd`` query parameter (a local date of the practice), or None when left out."""
    value = (query_value(request, name) or "").strip()
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return within_supported_years(date.fromisoformat(value))
    except ValueError:
        raise InvalidInput(f"{name}: must be a date as yyyy-MM-dd", field=name) from None


def appointment_id(value: str) -> uuid.UUID:
    """A path's or a body's appointment id; one that cannot be ours names nothing (404)."""
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise NotFound("appointment not found") from None


async def _show(session: SessionDep, appointment_row: Any) -> wire.Appointment:
    return mappers.appointment(await details.view_of(session, appointment_row))


async def _service_id(session: SessionDep, clinic: Clinic, value: str) -> uuid.UUID:
    service_id = mappers.parse_uuid(value, field="ServiceId")
    await catalog.service_given(session, clinic_id=clinic.id, service_id=service_id)
    return service_id


async def _location_id(session: SessionDep, clinic: Clinic, value: str) -> uuid.UUID:
    try:
        found = await catalog.get_location_by_number(
            session, clinic_id=clinic.id, number=mappers.location_number(value)
        )
    except NotFound:
        raise InvalidInput("LocationId: no such location", field="LocationId") from None
    return found.id


async def _account_owner(session: SessionDep, clinic: Clinic) -> str:
    """Who books through a practice key: the practice's main user, as IntakeQ names its account owner."""
    for row in await hours.list_practitioners(session, clinic_id=clinic.id):
        if row.is_main:
            return row.name
    return clinic.name


async def _confirm_to_client(session: SessionDep, runtime: Runtime, appointment_row: Any) -> None:
    await notices.queue_confirmation_email(
        session, appointment_row, base_url=runtime.settings.base_url, clock=runtime.clock
    )


@router.get("/appointments/settings", response_model=wire.BookingSettings, summary="Booking settings")
async def get_settings(caller: PracticeKey, session: SessionDep) -> wire.BookingSettings:
    clinic_id = caller.clinic.id
    return mappers.booking_settings(
        locations=await catalog.list_locations(session, clinic_id=clinic_id),
        services=await catalog.list_services(session, clinic_id=clinic_id),
        practitioners=await hours.list_practitioners(session, clinic_id=clinic_id, bookable_only=True),
    )


@router.get("/appointments", response_model=list[wire.AppointmentListItem], summary="Query appointments")
async def query_appointments(
    request: Request, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> list[wire.AppointmentListItem]:
    status_word = (query_value(request, "status") or "").strip()
    statuses = mappers.status_filter(status_word) if status_word else None
    wanted = search.AppointmentSearch(
        client_text=(query_value(request, "client") or "").strip() or None,
        starts_on=query_date(request, "startDate"),
        starts_until=query_date(request, "endDate"),
        statuses=statuses,
        practitioner_email=(query_value(request, "practitionerEmail") or "").strip() or None,
        updated_since=query_date(request, "updatedSince"),
        deleted_only=query_flag(request, "deletedOnly"),
    )
    page = query_page(request)
    rows = await search.search_appointments(
        session,
        clinic_id=caller.clinic.id,
        time_zone=caller.clinic.time_zone,
        search=wanted,
        now=runtime.clock.now(),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return [mappers.list_item(view) for view in await details.views_of(session, rows)]


@router.get("/appointments/{appointment_ref}", response_model=wire.Appointment, summary="An appointment")
async def get_appointment(appointment_ref: str, caller: PracticeKey, session: SessionDep) -> wire.Appointment:
    found = await booking.get_appointment(
        session, clinic_id=caller.clinic.id, appointment_id=appointment_id(appointment_ref)
    )
    return await _show(session, found)


@router.post(
    "/appointments",
    openapi_extra=documented_body(wire.AppointmentIn),
    response_model=wire.Appointment,
    summary="Create an appointment",
)
async def create_appointment(
    body: NewBody, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Appointment:
    mappers.require_fields(body, CREATE_FIELDS)
    assert body.PractitionerId is not None and body.ClientId is not None and body.ServiceId is not None
    assert body.LocationId is not None and body.Status is not None and body.UtcDateTime is not None
    assert body.ReminderType is not None
    status = mappers.settable_status(body.Status)
    if body.SendClientEmailNotification and status is not AppointmentStatus.confirmed:
        raise InvalidInput(
            "SendClientEmailNotification: can only be true when Status is Confirmed",
            field="SendClientEmailNotification",
        )
    starts_at = mappers.slot_start(body.UtcDateTime)
    channel = mappers.reminder_channel(body.ReminderType)
    clinic = caller.clinic
    try:
        practitioner = await staff_service.practitioner_by_reference(
            session, clinic_id=clinic.id, reference=body.PractitionerId
        )
    except NotFound:
        raise InvalidInput("PractitionerId: no such practitioner", field="PractitionerId") from None
    client = await details.client_by_number(session, clinic_id=clinic.id, number=body.ClientId)
    if client is None:
        raise InvalidInput("ClientId: no such client", field="ClientId")
    created = await booking.book_appointment(
        session,
        clinic_id=clinic.id,
        request=BookingRequest(
            starts_at=starts_at,
            practitioner_id=practitioner.id,
            client_id=client.id,
            service_id=await _service_id(session, clinic, body.ServiceId),
            location_id=await _location_id(session, clinic, body.LocationId),
            status=status,
            created_by=await _account_owner(session, clinic),
            reminder_channel=channel,
        ),
        source="intakeq",
        clock=runtime.clock,
    )
    if body.SendClientEmailNotification:
        await _confirm_to_client(session, runtime, created)
    return await _show(session, created)


@router.put(
    "/appointments",
    openapi_extra=documented_body(wire.AppointmentUpdateIn),
    response_model=wire.Appointment,
    summary="Update an appointment",
)
async def update_appointment(
    body: UpdateBody, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Appointment:
    mappers.require_fields(body, UPDATE_FIELDS)
    assert body.Id is not None and body.UtcDateTime is not None
    clinic = caller.clinic
    try:
        current = await booking.get_appointment(
            session, clinic_id=clinic.id, appointment_id=appointment_id(body.Id)
        )
    except NotFound:
        raise InvalidInput("Id: no such appointment", field="Id") from None
    view = await details.view_of(session, current)
    if body.ClientId is not None and body.ClientId != view.client_number:
        raise InvalidInput("ClientId: the client of an appointment cannot be changed", field="ClientId")
    if body.PractitionerId is not None and body.PractitionerId.strip().lower() not in (
        view.practitioner_id.hex,
        str(view.practitioner_id),
    ):
        raise InvalidInput(
            "PractitionerId: the practitioner of an appointment cannot be changed", field="PractitionerId"
        )
    status = mappers.settable_status(body.Status) if body.Status is not None else None
    changes = AppointmentChanges(
        starts_at=mappers.slot_start(body.UtcDateTime),
        status=status if status is not None else NOT_GIVEN,
        reminder_channel=(
            mappers.reminder_channel(body.ReminderType) if body.ReminderType is not None else NOT_GIVEN
        ),
        service_id=(
            await _service_id(session, clinic, body.ServiceId) if body.ServiceId is not None else NOT_GIVEN
        ),
        location_id=(
            await _location_id(session, clinic, body.LocationId) if body.LocationId is not None else NOT_GIVEN
        ),
    )
    updated = await booking.update_appointment(
        session, clinic_id=clinic.id, appointment_id=current.id, changes=changes, clock=runtime.clock
    )
    if body.SendClientEmailNotification:  # the core refuses it for an appointment not confirmed
        await _confirm_to_client(session, runtime, updated)
    return await _show(session, updated)


@router.post(
    "/appointments/cancellation",
    openapi_extra=documented_body(wire.CancellationIn),
    response_model=wire.Appointment,
    summary="Cancel an appointment",
)
async def cancel_appointment(
    body: CancelBody, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Appointment:
    mappers.require_fields(body, ("AppointmentId",))
    assert body.AppointmentId is not None
    try:
        current = await booking.get_appointment(
            session, clinic_id=caller.clinic.id, appointment_id=appointment_id(body.AppointmentId)
        )
    except NotFound:
        raise InvalidInput("AppointmentId: no such appointment", field="AppointmentId") from None
    if current.status == AppointmentStatus.cancelled:
        raise InvalidInput("AppointmentId: the appointment is already canceled", field="AppointmentId")
    cancelled = await booking.cancel_appointment(
        session,
        clinic_id=caller.clinic.id,
        appointment_id=current.id,
        reason=(body.Reason or "").strip() or None,
        clock=runtime.clock,
    )
    return await _show(session, cancelled)
