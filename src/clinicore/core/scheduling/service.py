"""Scheduling use cases: practitioners and their hours, booking rules, busy blocks, availability, booking.

No double booking: the rule check and the insert run in one transaction that serialises on the
practitioners (PostgreSQL: row locks plus the exclusion constraint as a backstop; SQLite: the
transaction holds the write lock from its first statement, ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.crm import repository as crm_repository
from clinicore.core.events import service as event_service
from clinicore.core.models import (
    Appointment,
    AppointmentStatus,
    BookingSettings,
    BusyBlock,
    DateOverride,
    Practitioner,
    WorkingHoursRule,
)
from clinicore.core.scheduling import repository
from clinicore.core.scheduling.availability import (
    BookingRules,
    DayPart,
    Interval,
    LocalRange,
    PractitionerCalendar,
    Slot,
    WorkingHours,
    booking_violation,
    clinic_slots,
)
from clinicore.core.scheduling.ical import appointments_calendar
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.crypto import SecretBox, sha256_hex
from clinicore.kit.errors import Conflict, InvalidInput, NotFound

VIOLATION_MESSAGES = {
    "invalid_range": "ends_at must be after scheduled_at",
    "minimum_notice": "the slot starts sooner than the clinic's minimum notice allows",
    "horizon": "the slot is further ahead than the clinic's booking horizon",
    "working_hours": "the slot is outside the practitioner's working hours",
    "buffer": "the slot is too close to another appointment or block (buffer)",
    "busy": "the slot overlaps a busy block",
}
MAX_DURATION = repository.MAX_APPOINTMENT_LENGTH

# Allowed status changes; "confirm" (waiting_confirmation -> confirmed) re-checks every booking rule.
STATUS_TRANSITIONS: Mapping[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.waiting_confirmation: frozenset(
        {AppointmentStatus.confirmed, AppointmentStatus.declined, AppointmentStatus.cancelled}
    ),
    AppointmentStatus.confirmed: frozenset(
        {AppointmentStatus.completed, AppointmentStatus.missed, AppointmentStatus.cancelled}
    ),
    AppointmentStatus.declined: frozenset(),
    AppointmentStatus.cancelled: frozenset(),
    AppointmentStatus.missed: frozenset({AppointmentStatus.completed}),
    AppointmentStatus.completed: frozenset(),
}


@dataclass(frozen=True, slots=True)
class BookingRequest:
    starts_at: datetime
    ends_at: datetime
    title: str
    notes: str | None = None
    practitioner_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    status: AppointmentStatus = AppointmentStatus.confirmed


# --- settings and practitioners -------------------------------------------------------------------


async def get_booking_settings(
    session: AsyncSession, *, clinic_id: uuid.UUID, clock: Clock = system_clock
) -> BookingSettings:
    settings = await repository.get_booking_settings(session, clinic_id)
    if settings is None:
        settings = BookingSettings(
            clinic_id=clinic_id,
            buffer_before_minutes=0,
            buffer_after_minutes=0,
            minimum_notice_minutes=60,
            horizon_days=60,
            default_length_minutes=30,
            updated_at=clock.now(),
        )
        session.add(settings)
        await session.flush()
    return settings


async def update_booking_settings(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    buffer_before_minutes: int,
    buffer_after_minutes: int,
    minimum_notice_minutes: int,
    horizon_days: int,
    default_length_minutes: int,
    slot_interval_minutes: int | None,
    clock: Clock = system_clock,
) -> BookingSettings:
    values = {
        "buffer_before_minutes": (buffer_before_minutes, 0, 24 * 60),
        "buffer_after_minutes": (buffer_after_minutes, 0, 24 * 60),
        "minimum_notice_minutes": (minimum_notice_minutes, 0, 365 * 24 * 60),
        "horizon_days": (horizon_days, 0, 730),
        "default_length_minutes": (default_length_minutes, 5, 24 * 60),
    }
    for name, (value, low, high) in values.items():
        if not low <= value <= high:
            raise InvalidInput(f"{name}: must be between {low} and {high}", field=name)
    if slot_interval_minutes is not None and not 5 <= slot_interval_minutes <= 24 * 60:
        raise InvalidInput("slot_interval_minutes: must be between 5 and 1440", field="slot_interval_minutes")
    settings = await get_booking_settings(session, clinic_id=clinic_id, clock=clock)
    for name, (value, _, _) in values.items():
        setattr(settings, name, value)
    settings.slot_interval_minutes = slot_interval_minutes
    settings.updated_at = clock.now()
    return settings


async def create_practitioner(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    name: str,
    email: str | None = None,
    time_zone: str | None = None,
    is_bookable: bool = True,
    clock: Clock = system_clock,
) -> Practitioner:
    if not name.strip():
        raise InvalidInput("name: must not be empty", field="name")
    clinic = await tenancy_service.get_clinic(session, clinic_id)
    now = clock.now()
    practitioner = Practitioner(
        clinic_id=clinic_id,
        name=name.strip(),
        email=tenancy_service.normalise_email(email) if email else None,
        time_zone=tenancy_service.validate_time_zone(time_zone or clinic.time_zone),
        is_bookable=is_bookable,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(practitioner)
    await session.flush()
    return practitioner


async def list_practitioners(
    session: AsyncSession, *, clinic_id: uuid.UUID, bookable_only: bool = False
) -> Sequence[Practitioner]:
    return await repository.list_practitioners(session, clinic_id=clinic_id, bookable_only=bookable_only)


async def get_practitioner(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_id: uuid.UUID
) -> Practitioner:
    practitioner = await repository.get_practitioner(
        session, clinic_id=clinic_id, practitioner_id=practitioner_id
    )
    if practitioner is None:
        raise NotFound("practitioner not found")
    return practitioner


async def set_weekly_hours(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    practitioner_id: uuid.UUID,
    weekly: Mapping[int, Sequence[LocalRange]],
) -> None:
    """Replace the practitioner's weekly ranges (0 = Monday)."""
    await get_practitioner(session, clinic_id=clinic_id, practitioner_id=practitioner_id)
    await repository.delete_weekly_hours(session, practitioner_id)
    for weekday, ranges in weekly.items():
        if not 0 <= weekday <= 6:
            raise InvalidInput("weekday: must be 0 (Monday) to 6 (Sunday)", field="weekday")
        for local_range in ranges:
            session.add(
                WorkingHoursRule(
                    clinic_id=clinic_id,
                    practitioner_id=practitioner_id,
                    weekday=weekday,
                    start_time=local_range.start,
                    end_time=local_range.end,
                )
            )
    await session.flush()


async def set_date_override(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    practitioner_id: uuid.UUID,
    day: date,
    ranges: Sequence[LocalRange],
) -> None:
    """Replace one date's hours; no ranges closes the date."""
    await get_practitioner(session, clinic_id=clinic_id, practitioner_id=practitioner_id)
    await repository.delete_date_override(session, practitioner_id, day)
    rows: list[tuple[time | None, time | None]] = [(r.start, r.end) for r in ranges] or [(None, None)]
    for start, end in rows:
        session.add(
            DateOverride(
                clinic_id=clinic_id, practitioner_id=practitioner_id, date=day, start_time=start, end_time=end
            )
        )
    await session.flush()


async def clear_date_override(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_id: uuid.UUID, day: date
) -> None:
    await get_practitioner(session, clinic_id=clinic_id, practitioner_id=practitioner_id)
    await repository.delete_date_override(session, practitioner_id, day)


async def working_hours_of(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    practitioner_id: uuid.UUID,
    first_day: date,
    last_day: date,
) -> WorkingHours:
    await get_practitioner(session, clinic_id=clinic_id, practitioner_id=practitioner_id)
    hours = await _working_hours(session, [practitioner_id], first_day, last_day)
    return hours[practitioner_id]


async def _working_hours(
    session: AsyncSession, practitioner_ids: Sequence[uuid.UUID], first_day: date, last_day: date
) -> dict[uuid.UUID, WorkingHours]:
    weekly: dict[uuid.UUID, dict[int, list[LocalRange]]] = defaultdict(lambda: defaultdict(list))
    for rule in await repository.weekly_hours(session, practitioner_ids):
        weekly[rule.practitioner_id][rule.weekday].append(LocalRange(rule.start_time, rule.end_time))
    overrides: dict[uuid.UUID, dict[date, list[LocalRange]]] = defaultdict(dict)
    for row in await repository.date_overrides(session, practitioner_ids, first_day, last_day):
        day_ranges = overrides[row.practitioner_id].setdefault(row.date, [])
        if row.start_time is not None and row.end_time is not None:
            day_ranges.append(LocalRange(row.start_time, row.end_time))
    return {
        practitioner_id: WorkingHours(
            weekly=dict(weekly[practitioner_id]), overrides=overrides[practitioner_id]
        )
        for practitioner_id in practitioner_ids
    }


# --- busy blocks ----------------------------------------------------------------------------------


async def upsert_block(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    external_source: str,
    external_id: str,
    starts_at: datetime,
    ends_at: datetime,
    title: str | None = None,
    practitioner_id: uuid.UUID | None = None,
    clock: Clock = system_clock,
) -> tuple[BusyBlock, bool]:
    """Create or update the block (external_source, external_id); True when it was created."""
    if ends_at <= starts_at:
        raise InvalidInput("ends_at: must be after starts_at", field="ends_at")
    if practitioner_id is not None:
        await get_practitioner(session, clinic_id=clinic_id, practitioner_id=practitioner_id)
    now = clock.now()
    fields = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "title": title,
        "practitioner_id": practitioner_id,
        "updated_at": now,
    }
    block = await repository.get_block(
        session, clinic_id=clinic_id, external_source=external_source, external_id=external_id
    )
    if block is None:
        block = BusyBlock(
            clinic_id=clinic_id,
            external_source=external_source,
            external_id=external_id,
            created_at=now,
            **fields,
        )
        try:
            async with session.begin_nested():
                session.add(block)
                await session.flush()
            return block, True
        except IntegrityError:  # a concurrent request created it first: update theirs
            block = await repository.get_block(
                session, clinic_id=clinic_id, external_source=external_source, external_id=external_id
            )
            if block is None:
                raise
    for name, value in fields.items():
        setattr(block, name, value)
    await session.flush()
    return block, False


async def delete_block(
    session: AsyncSession, *, clinic_id: uuid.UUID, external_source: str, external_id: str
) -> bool:
    block = await repository.get_block(
        session, clinic_id=clinic_id, external_source=external_source, external_id=external_id
    )
    if block is None:
        return False
    await repository.delete_block(session, block.id)
    return True


async def list_blocks(
    session: AsyncSession, *, clinic_id: uuid.UUID, clock: Clock = system_clock
) -> Sequence[BusyBlock]:
    return await repository.list_blocks(session, clinic_id=clinic_id, since=clock.now() - timedelta(days=1))


# --- availability ---------------------------------------------------------------------------------


def booking_rules(settings: BookingSettings) -> BookingRules:
    return BookingRules(
        buffer_before=timedelta(minutes=settings.buffer_before_minutes),
        buffer_after=timedelta(minutes=settings.buffer_after_minutes),
        minimum_notice=timedelta(minutes=settings.minimum_notice_minutes),
        horizon_days=settings.horizon_days,
        slot_interval=timedelta(minutes=settings.slot_interval_minutes)
        if settings.slot_interval_minutes
        else None,
    )


async def _calendars(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    practitioners: Sequence[Practitioner],
    rules: BookingRules,
    window_start: datetime,
    window_end: datetime,
    excluding_appointment: uuid.UUID | None = None,
) -> list[PractitionerCalendar]:
    """Everything the pure engine needs for these practitioners over [window_start, window_end)."""
    ids = [practitioner.id for practitioner in practitioners]
    first_day = (window_start - timedelta(days=2)).date()
    last_day = (window_end + timedelta(days=2)).date()
    hours = await _working_hours(session, ids, first_day, last_day)
    padding = rules.buffer_before + rules.buffer_after + timedelta(days=1)
    busy: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    for practitioner_id, starts_at, ends_at in await repository.busy_appointments(
        session,
        clinic_id=clinic_id,
        practitioner_ids=ids,
        window_start=window_start - padding,
        window_end=window_end + padding,
        excluding=excluding_appointment,
    ):
        busy[practitioner_id].append(Interval(starts_at, ends_at))
    for block in await repository.busy_blocks(
        session, clinic_id=clinic_id, window_start=window_start - padding, window_end=window_end + padding
    ):
        for practitioner_id in [block.practitioner_id] if block.practitioner_id else ids:
            busy[practitioner_id].append(Interval(block.starts_at, block.ends_at))
    return [
        PractitionerCalendar(
            practitioner_id=practitioner.id,
            time_zone=practitioner.time_zone,
            hours=hours[practitioner.id],
            rules=rules,
            busy=busy[practitioner.id],
        )
        for practitioner in practitioners
    ]


async def find_slots(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    duration: timedelta | None = None,
    from_day: date | None = None,
    preference: DayPart | None = None,
    limit: int = 5,
    clock: Clock = system_clock,
) -> list[Slot]:
    clinic = await tenancy_service.get_clinic(session, clinic_id)
    settings = await get_booking_settings(session, clinic_id=clinic_id, clock=clock)
    duration = duration or timedelta(minutes=settings.default_length_minutes)
    if not timedelta(minutes=5) <= duration <= MAX_DURATION:
        raise InvalidInput("duration: must be between 5 minutes and 24 hours", field="duration")
    rules = booking_rules(settings)
    now = clock.now()
    zone = ZoneInfo(clinic.time_zone)
    today = now.astimezone(zone).date()
    first_day = max(from_day or today, today)
    window_start = max(now, datetime.combine(first_day, time(0), zone).astimezone(UTC)) - timedelta(days=1)
    window_end = now + timedelta(days=rules.horizon_days + 2)
    if window_start >= window_end:
        return []
    practitioners = await repository.list_practitioners(session, clinic_id=clinic_id, bookable_only=True)
    if not practitioners:
        return []
    calendars = await _calendars(
        session,
        clinic_id=clinic_id,
        practitioners=practitioners,
        rules=rules,
        window_start=window_start,
        window_end=window_end,
    )
    load = await repository.upcoming_load(session, clinic_id=clinic_id, since=now, until=window_end)
    return clinic_slots(
        calendars,
        duration=duration,
        now=now,
        clinic_time_zone=clinic.time_zone,
        from_day=first_day,
        preference=preference,
        limit=limit,
        load=load,
    )


# --- booking --------------------------------------------------------------------------------------


def appointment_snapshot(appointment: Appointment) -> dict[str, Any]:
    """The core event payload for an appointment (each surface's renderer maps it to its wire format)."""
    return {
        "id": str(appointment.id),
        "clinic_id": str(appointment.clinic_id),
        "practitioner_id": str(appointment.practitioner_id),
        "lead_id": str(appointment.lead_id) if appointment.lead_id else None,
        "title": appointment.title,
        "notes": appointment.notes,
        "status": appointment.status,
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "source": appointment.source,
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
) -> None:
    payload: dict[str, Any] = {"appointment": appointment_snapshot(appointment)}
    if previous:
        payload["previous"] = dict(previous)
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


def _validate_times(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("scheduled_at: must include a time zone (use Z for UTC)", field="scheduled_at")
    if ends_at <= starts_at:
        raise InvalidInput("ends_at: must be after scheduled_at", field="ends_at")
    if ends_at - starts_at > MAX_DURATION:
        raise InvalidInput("ends_at: an appointment lasts at most 24 hours", field="ends_at")


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
    """Lock the candidates, re-check every rule, and return the least-loaded one that may take the slot."""
    await repository.lock_practitioners(
        session, clinic_id=clinic_id, practitioner_ids=[p.id for p in candidates]
    )
    settings = await get_booking_settings(session, clinic_id=clinic_id, clock=clock)
    rules = booking_rules(settings)
    now = clock.now()
    overlapping = {
        practitioner_id
        for practitioner_id, _, _ in await repository.busy_appointments(
            session,
            clinic_id=clinic_id,
            practitioner_ids=[p.id for p in candidates],
            window_start=starts_at,
            window_end=ends_at,
            excluding=excluding_appointment,
        )
    }
    calendars = await _calendars(
        session,
        clinic_id=clinic_id,
        practitioners=candidates,
        rules=rules,
        window_start=starts_at,
        window_end=ends_at,
        excluding_appointment=excluding_appointment,
    )
    load = await repository.upcoming_load(
        session, clinic_id=clinic_id, since=now, until=now + timedelta(days=365)
    )
    free: list[Practitioner] = []
    violations: list[str] = []
    for practitioner, calendar in zip(candidates, calendars, strict=True):
        if practitioner.id in overlapping:
            continue
        violation = booking_violation(calendar, start=starts_at, end=ends_at, now=now)
        if violation is None:
            free.append(practitioner)
        else:
            violations.append(violation)
    if free:
        return min(free, key=lambda p: (load.get(p.id, 0), str(p.id)))
    if not violations:  # every candidate already has an appointment then
        raise Conflict("the slot is already booked")
    rule = min(violations, key=list(VIOLATION_MESSAGES).index)
    raise InvalidInput(f"{rule}: {VIOLATION_MESSAGES[rule]}", field=rule)


async def _flush_guarding_overlap(session: AsyncSession) -> None:
    """The exclusion constraint (PostgreSQL) is the last word on overlaps: a violation is a conflict."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if "ex_appointments_practitioner_overlap" in str(exc.orig):
            raise Conflict("the slot is already booked") from None
        raise


async def book_appointment(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    request: BookingRequest,
    source: str,
    clock: Clock = system_clock,
) -> Appointment:
    _validate_times(request.starts_at, request.ends_at)
    if not request.title.strip():
        raise InvalidInput("title: must not be empty", field="title")
    # References in the request must be the clinic's own; another clinic's id reads as unknown.
    if (
        request.lead_id is not None
        and await crm_repository.get_lead(session, clinic_id=clinic_id, lead_id=request.lead_id) is None
    ):
        raise InvalidInput("lead_id: no such lead in this clinic", field="lead_id")
    if request.practitioner_id is not None:
        practitioner = await get_practitioner(
            session, clinic_id=clinic_id, practitioner_id=request.practitioner_id
        )
        candidates: Sequence[Practitioner] = [practitioner]
        if not practitioner.is_active:
            raise InvalidInput("assigned_to: the practitioner is not active", field="assigned_to")
    else:
        candidates = await repository.list_practitioners(session, clinic_id=clinic_id, bookable_only=True)
        if not candidates:
            raise InvalidInput("assigned_to: the clinic has no bookable practitioner", field="assigned_to")
    practitioner = await _choose_practitioner(
        session,
        clinic_id=clinic_id,
        candidates=candidates,
        starts_at=request.starts_at,
        ends_at=request.ends_at,
        excluding_appointment=None,
        clock=clock,
    )
    now = clock.now()
    appointment = Appointment(
        clinic_id=clinic_id,
        practitioner_id=practitioner.id,
        lead_id=request.lead_id,
        title=request.title.strip(),
        notes=request.notes,
        status=request.status,
        starts_at=request.starts_at.astimezone(UTC),
        ends_at=request.ends_at.astimezone(UTC),
        source=source,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    await _flush_guarding_overlap(session)
    await _emit(session, appointment, "appointment.created", clock=clock)
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
    limit: int = 50,
    offset: int = 0,
) -> Sequence[Appointment]:
    return await repository.list_appointments(
        session,
        clinic_id=clinic_id,
        statuses=[str(status) for status in statuses] if statuses else None,
        starts_from=starts_from,
        starts_before=starts_before,
        practitioner_id=practitioner_id,
        lead_id=lead_id,
        limit=limit,
        offset=offset,
    )


_UNSET: Any = object()


async def update_appointment(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    appointment_id: uuid.UUID,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    title: str | None = None,
    notes: str | None = _UNSET,
    status: AppointmentStatus | None = None,
    clock: Clock = system_clock,
) -> Appointment:
    """Reschedule, retitle, annotate or move the status; every change re-checks what it must."""
    appointment = await get_appointment(session, clinic_id=clinic_id, appointment_id=appointment_id)
    current = AppointmentStatus(appointment.status)
    if current in (AppointmentStatus.cancelled, AppointmentStatus.declined):
        raise Conflict(f"the appointment is {current} and can no longer change")
    if status is not None and status != current and status not in STATUS_TRANSITIONS[current]:
        raise InvalidInput(f"status: cannot change from {current} to {status}", field="status")
    if status is AppointmentStatus.cancelled:
        raise InvalidInput("status: cancel with DELETE", field="status")

    new_start = starts_at or appointment.starts_at
    new_end = ends_at or (
        new_start + (appointment.ends_at - appointment.starts_at) if starts_at else appointment.ends_at
    )
    rescheduled = (new_start, new_end) != (appointment.starts_at, appointment.ends_at)
    confirming = status is AppointmentStatus.confirmed and current is AppointmentStatus.waiting_confirmation
    previous = {"starts_at": appointment.starts_at.isoformat(), "ends_at": appointment.ends_at.isoformat()}
    if rescheduled or confirming:
        _validate_times(new_start, new_end)
        practitioner = await get_practitioner(
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
    if title is not None and title.strip() != appointment.title:
        if not title.strip():
            raise InvalidInput("title: must not be empty", field="title")
        appointment.title, changed = title.strip(), True
    if notes is not _UNSET and notes != appointment.notes:
        appointment.notes, changed = notes, True
    if not changed:
        return appointment
    appointment.starts_at, appointment.ends_at = new_start.astimezone(UTC), new_end.astimezone(UTC)
    if status is not None:
        appointment.status = status
    appointment.version += 1
    appointment.updated_at = clock.now()
    await _flush_guarding_overlap(session)
    await _emit(
        session, appointment, "appointment.updated", clock=clock, previous=previous if rescheduled else None
    )
    return appointment


async def cancel_appointment(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    appointment_id: uuid.UUID,
    reason: str | None = None,
    clock: Clock = system_clock,
) -> Appointment:
    """Soft cancel; cancelling a cancelled appointment returns it unchanged (no second event)."""
    appointment = await get_appointment(session, clinic_id=clinic_id, appointment_id=appointment_id)
    if appointment.status == AppointmentStatus.cancelled:
        return appointment
    if appointment.status in (AppointmentStatus.declined, AppointmentStatus.completed):
        raise Conflict(f"the appointment is {appointment.status} and cannot be cancelled")
    now = clock.now()
    appointment.status = AppointmentStatus.cancelled
    appointment.cancelled_at = now
    appointment.cancellation_reason = reason
    appointment.version += 1
    appointment.updated_at = now
    await session.flush()
    await _emit(session, appointment, "appointment.cancelled", clock=clock)
    return appointment


# --- calendar feeds -------------------------------------------------------------------------------


async def rotate_calendar_token(
    session: AsyncSession,
    *,
    box: SecretBox,
    clinic_id: uuid.UUID,
    practitioner_id: uuid.UUID | None = None,
    clock: Clock = system_clock,
) -> str:
    """A new secret token for the iCalendar feed of a practitioner (or the clinic); the old one stops."""
    token = secrets.token_urlsafe(24)
    owner: Practitioner | BookingSettings
    if practitioner_id is not None:
        owner = await get_practitioner(session, clinic_id=clinic_id, practitioner_id=practitioner_id)
    else:
        owner = await get_booking_settings(session, clinic_id=clinic_id, clock=clock)
    owner.calendar_token_digest = sha256_hex(token)
    owner.calendar_token_encrypted = box.encrypt(token)
    await session.flush()
    return token


FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    name: str
    body: bytes


async def calendar_feed(
    session: AsyncSession, *, token: str, domain: str, clock: Clock = system_clock
) -> CalendarFeed:
    """The iCalendar feed behind a secret URL: a practitioner's, or the whole clinic's."""
    digest = sha256_hex(token)
    practitioner = await repository.practitioner_by_calendar_token(session, digest)
    settings = None if practitioner else await repository.settings_by_calendar_token(session, digest)
    if practitioner is None and settings is None:
        raise NotFound("calendar not found")
    clinic_id = practitioner.clinic_id if practitioner else settings.clinic_id  # type: ignore[union-attr]
    clinic = await tenancy_service.get_clinic(session, clinic_id)
    now = clock.now()
    appointments = await repository.appointments_overlapping(
        session,
        clinic_id=clinic_id,
        window_start=now - FEED_PAST,
        window_end=now + FEED_FUTURE,
        practitioner_id=practitioner.id if practitioner else None,
    )
    names = {p.id: p.name for p in await repository.list_practitioners(session, clinic_id=clinic_id)}
    name = f"{clinic.name}: {practitioner.name}" if practitioner else clinic.name
    return CalendarFeed(
        name=name,
        body=appointments_calendar(
            name=name, appointments=appointments, practitioner_names=names, generated_at=now, domain=domain
        ),
    )


async def calendar_token(
    session: AsyncSession, *, box: SecretBox, clinic_id: uuid.UUID, practitioner_id: uuid.UUID | None = None
) -> str | None:
    """The current feed token (shown in the console), or None when no feed was created yet."""
    owner: Practitioner | BookingSettings | None
    if practitioner_id is not None:
        owner = await get_practitioner(session, clinic_id=clinic_id, practitioner_id=practitioner_id)
    else:
        owner = await repository.get_booking_settings(session, clinic_id)
    if owner is None or owner.calendar_token_encrypted is None:
        return None
    return box.decrypt(owner.calendar_token_encrypted)
