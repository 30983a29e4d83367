"""Practitioners and when they work: weekly hours and date overrides, in the practitioner's local time."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, time

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import DateOverride, Practitioner, WorkingHoursRule
from clinicore.core.scheduling import repository
from clinicore.core.scheduling.availability import LocalRange, WorkingHours
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput, NotFound

# --- practitioners --------------------------------------------------------------------------------


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
    """The practitioner addressed by a request; another clinic's reads as missing."""
    practitioner = await repository.get_practitioner(
        session, clinic_id=clinic_id, practitioner_id=practitioner_id
    )
    if practitioner is None:
        raise NotFound("practitioner not found")
    return practitioner


async def practitioner_given(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_id: uuid.UUID
) -> Practitioner:
    """A practitioner named in a request's input (a booking's, a block's): unknown is a ``NotFound`` that
    names the field, so that a surface can answer it as the bad input it is for the request."""
    practitioner = await repository.get_practitioner(
        session, clinic_id=clinic_id, practitioner_id=practitioner_id
    )
    if practitioner is None:
        raise NotFound("practitioner_id: no such practitioner in this clinic", field="practitioner_id")
    return practitioner


# --- working hours --------------------------------------------------------------------------------


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
    hours = await working_hours(
        session, practitioner_ids=[practitioner_id], first_day=first_day, last_day=last_day
    )
    return hours[practitioner_id]


async def working_hours(
    session: AsyncSession, *, practitioner_ids: Sequence[uuid.UUID], first_day: date, last_day: date
) -> dict[uuid.UUID, WorkingHours]:
    """Each practitioner's weekly hours and its overrides dated ``first_day..last_day`` (ids checked)."""
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
