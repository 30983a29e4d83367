"""All scheduling queries. Every lookup takes the clinic id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from clinicore.core.models import (
    RELEASED_STATUSES,
    Appointment,
    BookingSettings,
    BusyBlock,
    DateOverride,
    Location,
    Practitioner,
    Service,
    WorkingHoursRule,
)

# Booking and rescheduling refuse longer appointments (rules.MAXIMUM_LENGTH), so an appointment that
# overlaps a window starts at most this long before it.
MAX_APPOINTMENT_LENGTH = timedelta(hours=24)


def holds_time() -> ColumnElement[bool]:
    """Appointments that keep the practitioner's time (mirrors the PostgreSQL exclusion constraint)."""
    return Appointment.status.not_in(
        [str(status) for status in RELEASED_STATUSES]
    ) & Appointment.deleted_at.is_(None)


async def get_booking_settings(session: AsyncSession, clinic_id: uuid.UUID) -> BookingSettings | None:
    return await session.get(BookingSettings, clinic_id)


async def get_practitioner(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_id: uuid.UUID
) -> Practitioner | None:
    return await session.scalar(
        select(Practitioner).where(Practitioner.id == practitioner_id, Practitioner.clinic_id == clinic_id)
    )


async def list_practitioners(
    session: AsyncSession, *, clinic_id: uuid.UUID, bookable_only: bool = False
) -> Sequence[Practitioner]:
    query = select(Practitioner).where(Practitioner.clinic_id == clinic_id)
    if bookable_only:
        query = query.where(Practitioner.is_bookable.is_(True), Practitioner.is_active.is_(True))
    return (await session.scalars(query.order_by(Practitioner.name, Practitioner.id))).all()


async def lock_practitioners(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_ids: Sequence[uuid.UUID]
) -> Sequence[uuid.UUID]:
    """Row-lock the practitioners (PostgreSQL) in id order, so concurrent bookings serialise without deadlock.

    On SQLite the transaction already holds the write lock (BEGIN IMMEDIATE); FOR UPDATE is not emitted.
    """
    query = (
        select(Practitioner.id)
        .where(Practitioner.clinic_id == clinic_id, Practitioner.id.in_(practitioner_ids))
        .order_by(Practitioner.id)
        .with_for_update()
    )
    return (await session.scalars(query)).all()


async def practitioner_by_calendar_token(session: AsyncSession, token_digest: str) -> Practitioner | None:
    return await session.scalar(
        select(Practitioner).where(Practitioner.calendar_token_digest == token_digest)
    )


async def settings_by_calendar_token(session: AsyncSession, token_digest: str) -> BookingSettings | None:
    return await session.scalar(
        select(BookingSettings).where(BookingSettings.calendar_token_digest == token_digest)
    )


async def weekly_hours(
    session: AsyncSession, practitioner_ids: Sequence[uuid.UUID]
) -> Sequence[WorkingHoursRule]:
    query = select(WorkingHoursRule).where(WorkingHoursRule.practitioner_id.in_(practitioner_ids))
    return (
        await session.scalars(query.order_by(WorkingHoursRule.weekday, WorkingHoursRule.start_time))
    ).all()


async def date_overrides(
    session: AsyncSession, practitioner_ids: Sequence[uuid.UUID], first_day: date, last_day: date
) -> Sequence[DateOverride]:
    query = select(DateOverride).where(
        DateOverride.practitioner_id.in_(practitioner_ids),
        DateOverride.date >= first_day,
        DateOverride.date <= last_day,
    )
    return (await session.scalars(query.order_by(DateOverride.date, DateOverride.start_time))).all()


async def delete_weekly_hours(session: AsyncSession, practitioner_id: uuid.UUID) -> None:
    await session.execute(delete(WorkingHoursRule).where(WorkingHoursRule.practitioner_id == practitioner_id))


async def delete_date_override(session: AsyncSession, practitioner_id: uuid.UUID, day: date) -> None:
    await session.execute(
        delete(DateOverride).where(DateOverride.practitioner_id == practitioner_id, DateOverride.date == day)
    )


async def busy_appointments(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    practitioner_ids: Sequence[uuid.UUID],
    window_start: datetime,
    window_end: datetime,
    excluding: uuid.UUID | None = None,
) -> Sequence[tuple[uuid.UUID, datetime, datetime]]:
    """(practitioner_id, starts_at, ends_at) of appointments that hold time inside the window."""
    query = select(Appointment.practitioner_id, Appointment.starts_at, Appointment.ends_at).where(
        Appointment.clinic_id == clinic_id,
        Appointment.practitioner_id.in_(practitioner_ids),
        Appointment.starts_at < window_end,
        # Bounded below too, so the index does not walk the whole past: no appointment lasts longer.
        Appointment.starts_at >= window_start - MAX_APPOINTMENT_LENGTH,
        Appointment.ends_at > window_start,
        holds_time(),
    )
    if excluding is not None:
        query = query.where(Appointment.id != excluding)
    rows = await session.execute(query)
    return [(row[0], row[1], row[2]) for row in rows]


async def appointments_of_practitioner(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_id: uuid.UUID
) -> Sequence[Appointment]:
    """Every appointment row of the practitioner, deleted ones included."""
    query = select(Appointment).where(
        Appointment.clinic_id == clinic_id, Appointment.practitioner_id == practitioner_id
    )
    return (await session.scalars(query.order_by(Appointment.starts_at, Appointment.id))).all()


async def appointments_overlap(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_ids: tuple[uuid.UUID, uuid.UUID]
) -> bool:
    """Whether an appointment of the first practitioner and one of the second that both hold time overlap."""
    other = aliased(Appointment)
    query = (
        select(Appointment.id)
        .join(
            other,
            (other.clinic_id == clinic_id)
            & (other.practitioner_id == practitioner_ids[1])
            & (other.starts_at < Appointment.ends_at)
            & (other.ends_at > Appointment.starts_at)
            & other.status.not_in([str(status) for status in RELEASED_STATUSES])
            & other.deleted_at.is_(None),
        )
        .where(
            Appointment.clinic_id == clinic_id,
            Appointment.practitioner_id == practitioner_ids[0],
            holds_time(),
        )
        .limit(1)
    )
    return (await session.scalar(query)) is not None


async def busy_blocks(
    session: AsyncSession, *, clinic_id: uuid.UUID, window_start: datetime, window_end: datetime
) -> Sequence[BusyBlock]:
    query = select(BusyBlock).where(
        BusyBlock.clinic_id == clinic_id, BusyBlock.starts_at < window_end, BusyBlock.ends_at > window_start
    )
    return (await session.scalars(query)).all()


async def upcoming_load(
    session: AsyncSession, *, clinic_id: uuid.UUID, since: datetime, until: datetime
) -> dict[uuid.UUID, int]:
    """How many appointments each practitioner holds in [since, until): the least loaded gets the next one."""
    rows = await session.execute(
        select(Appointment.practitioner_id, func.count())
        .where(
            Appointment.clinic_id == clinic_id, Appointment.starts_at >= since, Appointment.starts_at < until
        )
        .where(holds_time())
        .group_by(Appointment.practitioner_id)
    )
    return {row[0]: int(row[1]) for row in rows}


async def get_block(
    session: AsyncSession, *, clinic_id: uuid.UUID, external_source: str, external_id: str
) -> BusyBlock | None:
    return await session.scalar(
        select(BusyBlock).where(
            BusyBlock.clinic_id == clinic_id,
            BusyBlock.external_source == external_source,
            BusyBlock.external_id == external_id,
        )
    )


async def list_blocks(session: AsyncSession, *, clinic_id: uuid.UUID, since: datetime) -> Sequence[BusyBlock]:
    query = select(BusyBlock).where(BusyBlock.clinic_id == clinic_id, BusyBlock.ends_at > since)
    return (await session.scalars(query.order_by(BusyBlock.starts_at))).all()


async def delete_block(session: AsyncSession, block_id: uuid.UUID) -> None:
    await session.execute(delete(BusyBlock).where(BusyBlock.id == block_id))


async def get_appointment(
    session: AsyncSession, *, clinic_id: uuid.UUID, appointment_id: uuid.UUID
) -> Appointment | None:
    return await session.scalar(
        select(Appointment).where(
            Appointment.id == appointment_id,
            Appointment.clinic_id == clinic_id,
            Appointment.deleted_at.is_(None),
        )
    )


async def list_appointments(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    statuses: Sequence[str] | None = None,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    practitioner_id: uuid.UUID | None = None,
    lead_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
    limit: int,
    offset: int,
) -> Sequence[Appointment]:
    query = select(Appointment).where(Appointment.clinic_id == clinic_id, Appointment.deleted_at.is_(None))
    if statuses:
        query = query.where(Appointment.status.in_(statuses))
    if starts_from is not None:
        query = query.where(Appointment.starts_at >= starts_from)
    if starts_before is not None:
        query = query.where(Appointment.starts_at < starts_before)
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    if lead_id is not None:
        query = query.where(Appointment.lead_id == lead_id)
    if client_id is not None:
        query = query.where(Appointment.client_id == client_id)
    query = query.order_by(Appointment.starts_at, Appointment.id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def appointments_overlapping(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    window_start: datetime,
    window_end: datetime,
    practitioner_id: uuid.UUID | None = None,
) -> Sequence[Appointment]:
    """Active appointments touching the window, for calendars and feeds."""
    query = select(Appointment).where(
        Appointment.clinic_id == clinic_id,
        Appointment.starts_at < window_end,
        Appointment.starts_at >= window_start - MAX_APPOINTMENT_LENGTH,
        Appointment.ends_at > window_start,
        Appointment.deleted_at.is_(None),
    )
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    return (await session.scalars(query.order_by(Appointment.starts_at))).all()


# --- the service catalog and locations ------------------------------------------------------------


async def get_service(
    session: AsyncSession, *, clinic_id: uuid.UUID, service_id: uuid.UUID
) -> Service | None:
    return await session.scalar(
        select(Service).where(Service.id == service_id, Service.clinic_id == clinic_id)
    )


async def service_named(session: AsyncSession, *, clinic_id: uuid.UUID, name: str) -> Service | None:
    """The clinic's service with this name, compared without case."""
    return await session.scalar(
        select(Service)
        .where(Service.clinic_id == clinic_id, func.lower(Service.name) == name.lower())
        .limit(1)
    )


async def list_services(
    session: AsyncSession, *, clinic_id: uuid.UUID, include_inactive: bool
) -> Sequence[Service]:
    query = select(Service).where(Service.clinic_id == clinic_id)
    if not include_inactive:
        query = query.where(Service.is_active.is_(True))
    return (await session.scalars(query.order_by(Service.name, Service.id))).all()


async def get_location(
    session: AsyncSession, *, clinic_id: uuid.UUID, location_id: uuid.UUID
) -> Location | None:
    return await session.scalar(
        select(Location).where(Location.id == location_id, Location.clinic_id == clinic_id)
    )


async def location_by_number(session: AsyncSession, *, clinic_id: uuid.UUID, number: int) -> Location | None:
    return await session.scalar(
        select(Location).where(Location.clinic_id == clinic_id, Location.number == number)
    )


async def location_named(session: AsyncSession, *, clinic_id: uuid.UUID, name: str) -> Location | None:
    """The clinic's location with this name, compared without case."""
    return await session.scalar(
        select(Location)
        .where(Location.clinic_id == clinic_id, func.lower(Location.name) == name.lower())
        .limit(1)
    )


async def list_locations(
    session: AsyncSession, *, clinic_id: uuid.UUID, include_inactive: bool
) -> Sequence[Location]:
    query = select(Location).where(Location.clinic_id == clinic_id)
    if not include_inactive:
        query = query.where(Location.is_active.is_(True))
    return (await session.scalars(query.order_by(Location.number))).all()
