"""Booking and changing appointments.

No double booking: the rule check and the insert run in one transaction that serialises on the
practitioners (PostgreSQL: row locks plus the exclusion constraint as a backstop; SQLite: the
transaction holds the write lock from its first statement, ``BEGIN IMMEDIATE``).

Every status write goes through the status table (``transitions``); every time written goes through the
length and time-zone rules (``rules``) and the availability engine's ``booking_violation``.

An appointment is for a client: the one the booking names (``client_id``, the IntakeQ case), else the one
its lead becomes or links to. A lead keeps that client (``leads.client_id``), so its later bookings name
the same one; the first time, the client is matched by the lead's normalised email, else by its phone
for a client without email only (``people.service.match_client``), else created with the clinic's next
number. The lead's row is locked while it is linked, so two bookings of one lead make one client.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.crm import repository as crm_repository
from clinicore.core.events import service as event_service
from clinicore.core.models import Appointment, AppointmentStatus, Client, Lead, Practitioner, Service
from clinicore.core.people import service as people_service
from clinicore.core.scheduling import catalog, details, hours, reminders, repository, transitions, video_rooms
from clinicore.core.scheduling.availability import (
    Interval,
    PractitionerCalendar,
    Violation,
    booking_violation,
)
from clinicore.core.scheduling.rules import VIOLATION_MESSAGES, require_appointment_times, violation_error
from clinicore.core.scheduling.schemas import AppointmentChanges, BookingRequest
from clinicore.core.scheduling.settings import booking_rules, get_booking_settings
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.kit.inputs import NOT_GIVEN


def appointment_snapshot(appointment: Appointment) -> dict[str, Any]:
    """The core event payload for an appointment (each surface's renderer maps it to its wire format)."""
    return {
        "id": str(appointment.id),
        "clinic_id": str(appointment.clinic_id),
        "practitioner_id": str(appointment.practitioner_id),
        "lead_id": str(appointment.lead_id) if appointment.lead_id else None,
        "client_id": str(appointment.client_id) if appointment.client_id else None,
        "service_id": str(appointment.service_id) if appointment.service_id else None,
        "location_id": str(appointment.location_id) if appointment.location_id else None,
        "price": str(appointment.price) if appointment.price is not None else None,
        "title": appointment.title,
        "notes": appointment.notes,
        "status": appointment.status,
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "source": appointment.source,
        "booked_by_client": appointment.booked_by_client,
        "version": appointment.version,
        "created_at": appointment.created_at.isoformat(),
        "updated_at": appointment.updated_at.isoformat(),
        "cancelled_at": appointment.cancelled_at.isoformat() if appointment.cancelled_at else None,
    }


async def _emit(
    session: AsyncSession,
    appointment: Appointment,
    event_type: str,
    *,
    clock: Clock,
    previous: Mapping[str, str] | None = None,
    previous_status: str | None = None,
    by_client: bool = False,
) -> None:
    """The event of a change: the appointment's snapshot and its view (``details``); an update says the
    status it moved from (``previous_status``), a reschedule the times (``previous``); ``by_client``: the
    client made the change itself (the booking widget)."""
    payload: dict[str, Any] = {
        "appointment": appointment_snapshot(appointment),
        "view": (await details.view_of(session, appointment)).to_payload(),
        "by_client": by_client,
    }
    if previous:
        payload["previous"] = dict(previous)
    if previous_status is not None:
        payload["previous_status"] = previous_status
    await event_service.emit(
        session,
        clinic_id=appointment.clinic_id,
        type=event_type,
        aggregate_type="appointment",
        aggregate_id=str(appointment.id),
        version=appointment.version,
        payload=payload,
        clock=clock,
    )


async def _choose_practitioner(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    candidates: Sequence[Practitioner],
    starts_at: datetime,
    ends_at: datetime,
    excluding_appointment: uuid.UUID | None,
    clock: Clock,
) -> Practitioner:
    """Lock the candidates, re-check every rule, and return the least-loaded one that may take the slot.

    What no booking writes (the settings, working hours and overrides, busy blocks, and the load that
    only orders the candidates) is read before the lock, so the lock is held for one read, the
    appointments that hold time near the slot (which every booking of these practitioners writes under
    the same lock), and the insert that follows."""
    ids = [practitioner.id for practitioner in candidates]
    settings = await get_booking_settings(session, clinic_id=clinic_id, clock=clock)
    rules = booking_rules(settings)
    now = clock.now()
    working = await hours.working_hours(
        session,
        practitioner_ids=ids,
        first_day=(starts_at - timedelta(days=2)).date(),
        last_day=(ends_at + timedelta(days=2)).date(),
    )
    # As slots.practitioner_calendars pads it: a buffer may reach a day's worth beyond the slot.
    padding = rules.buffer_before + rules.buffer_after + timedelta(days=1)
    window_start, window_end = starts_at - padding, ends_at + padding
    busy: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    for block in await repository.busy_blocks(
        session, clinic_id=clinic_id, window_start=window_start, window_end=window_end
    ):
        for practitioner_id in [block.practitioner_id] if block.practitioner_id else ids:
            busy[practitioner_id].append(Interval(block.starts_at, block.ends_at))
    load = (
        await repository.upcoming_load(
            session, clinic_id=clinic_id, since=now, until=now + timedelta(days=365)
        )
        if len(candidates) > 1
        else {}
    )
    await repository.lock_practitioners(session, clinic_id=clinic_id, practitioner_ids=ids)
    overlapping: set[uuid.UUID] = set()
    for practitioner_id, busy_start, busy_end in await repository.busy_appointments(
        session,
        clinic_id=clinic_id,
        practitioner_ids=ids,
        window_start=window_start,
        window_end=window_end,
        excluding=excluding_appointment,
    ):
        busy[practitioner_id].append(Interval(busy_start, busy_end))
        if busy_start < ends_at and busy_end > starts_at:
            overlapping.add(practitioner_id)
    free: list[Practitioner] = []
    violations: list[Violation] = []
    for practitioner in candidates:
        if practitioner.id in overlapping:
            continue
        calendar = PractitionerCalendar(
            practitioner_id=practitioner.id,
            time_zone=practitioner.time_zone,
            hours=working[practitioner.id],
            rules=rules,
            busy=busy[practitioner.id],
        )
        violation = booking_violation(calendar, start=starts_at, end=ends_at, now=now)
        if violation is None:
            free.append(practitioner)
        else:
            violations.append(violation)
    if free:
        return min(free, key=lambda p: (load.get(p.id, 0), str(p.id)))
    if not violations:  # every candidate already has an appointment then
        raise Conflict("the slot is already booked")
    raise violation_error(min(violations, key=list(VIOLATION_MESSAGES).index))


async def _flush_guarding_overlap(session: AsyncSession) -> None:
    """The exclusion constraint (PostgreSQL) is the last word on overlaps: a violation is a conflict."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if "ex_appointments_practitioner_overlap" in str(exc.orig):
            raise Conflict("the slot is already booked") from None
        raise


async def _service_given(session: AsyncSession, *, clinic_id: uuid.UUID, service_id: uuid.UUID) -> Service:
    service = await catalog.service_given(session, clinic_id=clinic_id, service_id=service_id)
    if not service.is_active:
        raise InvalidInput("service_id: the service is not offered any more", field="service_id")
    return service


async def _length(
    session: AsyncSession, *, clinic_id: uuid.UUID, service: Service | None, clock: Clock
) -> timedelta:
    """An appointment's length when its end is not given: its service's, else the clinic's default."""
    if service is not None:
        return timedelta(minutes=service.duration_minutes)
    settings = await get_booking_settings(session, clinic_id=clinic_id, clock=clock)
    return timedelta(minutes=settings.default_length_minutes)


async def _client_given(session: AsyncSession, *, clinic_id: uuid.UUID, client_id: uuid.UUID) -> Client:
    client = await people_service.get_client(session, clinic_id=clinic_id, client_id=client_id)
    if client is None:
        raise NotFound("client_id: no such client in this clinic", field="client_id")
    return client


async def _appointment_client(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    lead: Lead | None,
    client: Client | None,
    clock: Clock,
) -> uuid.UUID | None:
    """The appointment's client: the one named, else the one the lead becomes or links to (see the module
    docstring). Linking a lead is bookkeeping: the lead's version and ``updated_at`` stay as they are.

    A lead already linked to the client it would be linked to is only read: its row is locked (and read
    afresh) only when this booking links it, so bookings of one linked lead do not queue behind each other."""
    if lead is None:
        return client.id if client is not None else None
    if lead.client_id is not None and (client is None or lead.client_id == client.id):
        return lead.client_id
    locked = await crm_repository.lock_lead(session, clinic_id=clinic_id, lead_id=lead.id)
    if locked is None:
        raise NotFound("lead_id: no such lead in this clinic", field="lead_id")
    if client is not None:
        if locked.client_id is not None and locked.client_id != client.id:
            raise InvalidInput("client_id: the lead is linked to another client", field="client_id")
        locked.client_id = client.id
        return client.id
    if locked.client_id is None:
        linked = await people_service.client_for_contact(
            session,
            clinic_id=clinic_id,
            full_name=locked.full_name,
            email=locked.email,
            phone=locked.phone,
            clock=clock,
        )
        locked.client_id = linked.id
    return locked.client_id


async def book_appointment(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    request: BookingRequest,
    source: str,
    clock: Clock = system_clock,
) -> Appointment:
    """Book ``request``; ``source`` records what booked it (a surface's or a page's name)."""
    clinic = await tenancy_service.get_clinic(session, clinic_id)
    if not clinic.booking_enabled:
        raise InvalidInput("booking is switched off for this clinic", rule="scheduling.booking_disabled")
    # References in the request must be the clinic's own; another clinic's id reads as unknown.
    chosen = (
        await hours.practitioner_given(session, clinic_id=clinic_id, practitioner_id=request.practitioner_id)
        if request.practitioner_id is not None
        else None
    )
    service = (
        await _service_given(session, clinic_id=clinic_id, service_id=request.service_id)
        if request.service_id is not None
        else None
    )
    transitions.require_initial(request.status)
    ends_at = request.ends_at
    if ends_at is None:
        ends_at = request.starts_at + await _length(
            session, clinic_id=clinic_id, service=service, clock=clock
        )
    require_appointment_times(request.starts_at, ends_at)
    title = request.title.strip() or (service.name if service is not None else "")
    if not title:
        raise InvalidInput("title: must not be empty", field="title", subject="appointment")
    lead = (
        await crm_repository.get_lead(session, clinic_id=clinic_id, lead_id=request.lead_id)
        if request.lead_id is not None
        else None
    )
    if request.lead_id is not None and lead is None:
        raise NotFound("lead_id: no such lead in this clinic", field="lead_id")
    client = (
        await _client_given(session, clinic_id=clinic_id, client_id=request.client_id)
        if request.client_id is not None
        else None
    )
    location = (
        await catalog.location_given(session, clinic_id=clinic_id, location_id=request.location_id)
        if request.location_id is not None
        else None
    )
    if location is not None and not location.is_active:
        raise InvalidInput("location_id: the location is closed", field="location_id")
    if chosen is not None:
        if not chosen.is_active:
            raise InvalidInput("practitioner_id: the practitioner is not active", field="practitioner_id")
        candidates: Sequence[Practitioner] = [chosen]
    else:
        candidates = await repository.list_practitioners(session, clinic_id=clinic_id, bookable_only=True)
        if not candidates:
            raise InvalidInput(
                "practitioner_id: the clinic has no bookable practitioner", field="practitioner_id"
            )
    practitioner = await _choose_practitioner(
        session,
        clinic_id=clinic_id,
        candidates=candidates,
        starts_at=request.starts_at,
        ends_at=ends_at,
        excluding_appointment=None,
        clock=clock,
    )
    client_id = await _appointment_client(session, clinic_id=clinic_id, lead=lead, client=client, clock=clock)
    now = clock.now()
    appointment = Appointment(
        clinic_id=clinic_id,
        practitioner_id=practitioner.id,
        lead_id=request.lead_id,
        client_id=client_id,
        service_id=service.id if service is not None else None,
        location_id=location.id if location is not None else None,
        price=service.price if service is not None else None,
        title=title,
        notes=request.notes,
        status=request.status,
        starts_at=request.starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        source=source,
        booked_by_client=request.booked_by_client,
        created_by=(request.created_by or "").strip()[:200] or None,
        reminder_channel=request.reminder_channel,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    await _flush_guarding_overlap(session)
    await reminders.plan(session, appointment, clock=clock)
    await video_rooms.sync_room(session, appointment, clock=clock)
    await _emit(session, appointment, "appointment.created", clock=clock, by_client=request.booked_by_client)
    return appointment


async def get_appointment(
    session: AsyncSession, *, clinic_id: uuid.UUID, appointment_id: uuid.UUID
) -> Appointment:
    appointment = await repository.get_appointment(
        session, clinic_id=clinic_id, appointment_id=appointment_id
    )
    if appointment is None:
        raise NotFound("appointment not found")
    return appointment


async def list_appointments(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    statuses: Sequence[AppointmentStatus] | None = None,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    practitioner_id: uuid.UUID | None = None,
    lead_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Sequence[Appointment]:
    """Appointments (not deleted) by start time, filtered; ``starts_before`` is exclusive."""
    return await repository.list_appointments(
        session,
        clinic_id=clinic_id,
        statuses=[str(status) for status in statuses] if statuses else None,
        starts_from=starts_from,
        starts_before=starts_before,
        practitioner_id=practitioner_id,
        lead_id=lead_id,
        client_id=client_id,
        limit=limit,
        offset=offset,
    )


async def update_appointment(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    appointment_id: uuid.UUID,
    changes: AppointmentChanges,
    clock: Clock = system_clock,
    by_client: bool = False,
) -> Appointment:
    """Reschedule, retitle, annotate, move the status or change how the client is reminded; every
    change re-checks what it must, and moves or drops the appointment's reminder.

    An update that changes nothing returns the appointment as it is (no new version, no event).
    """
    appointment = await get_appointment(session, clinic_id=clinic_id, appointment_id=appointment_id)
    current = AppointmentStatus(appointment.status)
    status = None if changes.status is NOT_GIVEN else changes.status
    transitions.require_update(current, status)

    starts_at = None if changes.starts_at is NOT_GIVEN else changes.starts_at
    ends_at = None if changes.ends_at is NOT_GIVEN else changes.ends_at
    new_service = (
        await _service_given(session, clinic_id=clinic_id, service_id=changes.service_id)
        if changes.service_id is not NOT_GIVEN and changes.service_id != appointment.service_id
        else None
    )
    new_location = (
        await catalog.location_given(session, clinic_id=clinic_id, location_id=changes.location_id)
        if changes.location_id is not NOT_GIVEN and changes.location_id != appointment.location_id
        else None
    )
    if new_location is not None and not new_location.is_active:
        raise InvalidInput("location_id: the location is closed", field="location_id")
    new_start = starts_at or appointment.starts_at
    length = (
        timedelta(minutes=new_service.duration_minutes)
        if new_service is not None
        else appointment.ends_at - appointment.starts_at
    )
    new_end = ends_at or (new_start + length if starts_at or new_service else appointment.ends_at)
    rescheduled = (new_start, new_end) != (appointment.starts_at, appointment.ends_at)
    confirming = status is not None and transitions.rechecks_booking_rules(current, status)
    previous = {"starts_at": appointment.starts_at.isoformat(), "ends_at": appointment.ends_at.isoformat()}
    if rescheduled or confirming:
        require_appointment_times(new_start, new_end)
        practitioner = await hours.get_practitioner(
            session, clinic_id=clinic_id, practitioner_id=appointment.practitioner_id
        )
        await _choose_practitioner(
            session,
            clinic_id=clinic_id,
            candidates=[practitioner],
            starts_at=new_start,
            ends_at=new_end,
            excluding_appointment=appointment.id,
            clock=clock,
        )
    changed = rescheduled or (status is not None and status != current)
    if changes.title is not NOT_GIVEN and changes.title.strip() != appointment.title:
        if not changes.title.strip():
            raise InvalidInput("title: must not be empty", field="title", subject="appointment")
        appointment.title, changed = changes.title.strip(), True
    if changes.notes is not NOT_GIVEN and changes.notes != appointment.notes:
        appointment.notes, changed = changes.notes, True
    if changes.reminder_channel is not NOT_GIVEN and changes.reminder_channel != appointment.reminder_channel:
        appointment.reminder_channel, changed = changes.reminder_channel, True
    if new_service is not None:
        appointment.service_id, appointment.price, changed = new_service.id, new_service.price, True
    if new_location is not None:
        appointment.location_id, changed = new_location.id, True
    if not changed:
        return appointment
    appointment.starts_at, appointment.ends_at = new_start.astimezone(UTC), new_end.astimezone(UTC)
    if status is not None:
        appointment.status = status
    appointment.version += 1
    appointment.updated_at = clock.now()
    await _flush_guarding_overlap(session)
    await reminders.plan(session, appointment, clock=clock)
    await video_rooms.sync_room(session, appointment, clock=clock)
    await _emit(
        session,
        appointment,
        "appointment.updated",
        clock=clock,
        previous=previous if rescheduled else None,
        previous_status=str(current) if status is not None and status != current else None,
        by_client=by_client,
    )
    return appointment


async def cancel_appointment(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    appointment_id: uuid.UUID,
    reason: str | None = None,
    clock: Clock = system_clock,
    by_client: bool = False,
) -> Appointment:
    """Soft cancel; cancelling a cancelled appointment returns it unchanged (no second event)."""
    appointment = await get_appointment(session, clinic_id=clinic_id, appointment_id=appointment_id)
    if not transitions.require_cancel(AppointmentStatus(appointment.status)):
        return appointment
    now = clock.now()
    appointment.status = AppointmentStatus.cancelled
    appointment.cancelled_at = now
    appointment.cancellation_reason = reason
    appointment.version += 1
    appointment.updated_at = now
    await session.flush()
    await reminders.plan(session, appointment, clock=clock)
    await _emit(session, appointment, "appointment.cancelled", clock=clock, by_client=by_client)
    return appointment


async def delete_appointment(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    appointment_id: uuid.UUID,
    clock: Clock = system_clock,
) -> Appointment:
    """Soft delete (``deleted_at``): the appointment is hidden from then on, its time released and its
    reminder dropped; it stays listed among the deleted ones for ``deleted.DELETED_RETENTION``.
    Deleting a deleted appointment is a 404 like any unknown one."""
    appointment = await get_appointment(session, clinic_id=clinic_id, appointment_id=appointment_id)
    now = clock.now()
    appointment.deleted_at = now
    appointment.version += 1
    appointment.updated_at = now
    await session.flush()
    await reminders.plan(session, appointment, clock=clock)
    await _emit(session, appointment, "appointment.deleted", clock=clock)
    return appointment


async def reassign_appointments(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    from_practitioner_id: uuid.UUID,
    to_practitioner_id: uuid.UUID,
    clock: Clock = system_clock,
) -> int:
    """Move every appointment of one practitioner (past, cancelled and deleted ones too: they are its
    history) to another, each with a new version and an ``appointment.updated`` event. Refused, moving
    nothing, when one that holds time would overlap one of the other practitioner's."""
    await repository.lock_practitioners(
        session, clinic_id=clinic_id, practitioner_ids=[from_practitioner_id, to_practitioner_id]
    )
    if await repository.appointments_overlap(
        session, clinic_id=clinic_id, practitioner_ids=(from_practitioner_id, to_practitioner_id)
    ):
        raise Conflict(
            "the other practitioner has appointments at the same times", rule="scheduling.reassign_overlap"
        )
    moving = await repository.appointments_of_practitioner(
        session, clinic_id=clinic_id, practitioner_id=from_practitioner_id
    )
    now = clock.now()
    for appointment in moving:
        appointment.practitioner_id = to_practitioner_id
        appointment.version += 1
        appointment.updated_at = now
    await _flush_guarding_overlap(session)
    for appointment in moving:
        if appointment.deleted_at is None:
            await _emit(
                session,
                appointment,
                "appointment.updated",
                clock=clock,
                previous={"practitioner_id": str(from_practitioner_id)},
            )
    return len(moving)
