"""A clinic's booking settings: buffers, minimum notice, horizon, default length and slot interval."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import BookingSettings
from clinicore.core.scheduling import repository
from clinicore.core.scheduling.availability import BookingRules
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput


def _default_booking_settings(clinic_id: uuid.UUID, clock: Clock) -> BookingSettings:
    return BookingSettings(
        clinic_id=clinic_id,
        buffer_before_minutes=0,
        buffer_after_minutes=0,
        minimum_notice_minutes=60,
        horizon_days=60,
        default_length_minutes=30,
        updated_at=clock.now(),
    )


async def get_booking_settings(
    session: AsyncSession, *, clinic_id: uuid.UUID, clock: Clock = system_clock
) -> BookingSettings:
    """The clinic's settings, created with the defaults on first use."""
    settings = await repository.get_booking_settings(session, clinic_id)
    if settings is None:
        settings = _default_booking_settings(clinic_id, clock)
        session.add(settings)
        await session.flush()
    return settings


async def read_booking_settings(
    session: AsyncSession, *, clinic_id: uuid.UUID, clock: Clock = system_clock
) -> BookingSettings:
    """The clinic's settings for a read: the stored ones, or the defaults ``get_booking_settings`` would
    store (not stored here, so a read-only unit of work can use it)."""
    settings = await repository.get_booking_settings(session, clinic_id)
    return settings if settings is not None else _default_booking_settings(clinic_id, clock)


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


def booking_rules(settings: BookingSettings) -> BookingRules:
    """The settings as the availability engine reads them."""
    return BookingRules(
        buffer_before=timedelta(minutes=settings.buffer_before_minutes),
        buffer_after=timedelta(minutes=settings.buffer_after_minutes),
        minimum_notice=timedelta(minutes=settings.minimum_notice_minutes),
        horizon_days=settings.horizon_days,
        slot_interval=timedelta(minutes=settings.slot_interval_minutes)
        if settings.slot_interval_minutes
        else None,
    )
