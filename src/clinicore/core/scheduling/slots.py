"""Open appointment slots: load the calendars the pure availability engine needs, and ask it."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Practitioner
from clinicore.core.scheduling import hours, repository
from clinicore.core.scheduling.availability import (
    BookingRules,
    DayPart,
    Interval,
    PractitionerCalendar,
    Slot,
    clinic_slots,
)
from clinicore.core.scheduling.rules import MAXIMUM_LENGTH, MINIMUM_LENGTH
from clinicore.core.scheduling.settings import booking_rules, read_booking_settings
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput
from clinicore.kit.local_time import local_date, start_of_local_day


async def practitioner_calendars(
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
    working = await hours.working_hours(
        session,
        practitioner_ids=ids,
        first_day=(window_start - timedelta(days=2)).date(),
        last_day=(window_end + timedelta(days=2)).date(),
    )
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
            hours=working[practitioner.id],
            rules=rules,
            busy=busy[practitioner.id],
        )
        for practitioner in practitioners
    ]


FIRST_LOOK_DAYS = 7


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
    """The clinic's first open slots from ``from_day`` (a clinic-local date; default today)."""
    clinic = await tenancy_service.get_clinic(session, clinic_id)
    settings = await read_booking_settings(session, clinic_id=clinic_id, clock=clock)
    duration = duration or timedelta(minutes=settings.default_length_minutes)
    if not MINIMUM_LENGTH <= duration <= MAXIMUM_LENGTH:
        raise InvalidInput("duration: must be between 5 minutes and 24 hours", field="duration")
    rules = booking_rules(settings)
    now = clock.now()
    today = local_date(now, clinic.time_zone)
    first_day = max(from_day or today, today)
    window_start = max(now, start_of_local_day(first_day, clinic.time_zone)) - timedelta(days=1)
    window_end = now + timedelta(days=rules.horizon_days + 2)
    if window_start >= window_end:
        return []
    practitioners = await repository.list_practitioners(session, clinic_id=clinic_id, bookable_only=True)
    if not practitioners:
        return []
    load = await repository.upcoming_load(session, clinic_id=clinic_id, since=now, until=window_end)

    async def first_slots(until: datetime, before: datetime | None) -> list[Slot]:
        calendars = await practitioner_calendars(
            session,
            clinic_id=clinic_id,
            practitioners=practitioners,
            rules=rules,
            window_start=window_start,
            window_end=until,
        )
        return clinic_slots(
            calendars,
            duration=duration,
            now=now,
            clinic_time_zone=clinic.time_zone,
            from_day=first_day,
            preference=preference,
            limit=limit,
            load=load,
            before=before,
        )

    # A first look at FIRST_LOOK_DAYS from ``first_day``: the earliest slots are nearly always there, and
    # reading a week of calendars costs a fraction of reading the whole horizon. The calendars read are
    # complete up to ``before`` (practitioner_calendars pads its window), so the slots found before it are
    # the horizon's first ones, in the same order and given to the same practitioners (the load is the
    # horizon's): with ``limit`` of them the answer is the same as the whole horizon's, else read it all.
    before = start_of_local_day(first_day + timedelta(days=FIRST_LOOK_DAYS), clinic.time_zone)
    if before < window_end:
        slots = await first_slots(before, before)
        if len(slots) == limit:
            return slots
    return await first_slots(window_end, None)
