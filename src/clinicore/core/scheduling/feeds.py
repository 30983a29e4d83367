"""iCalendar feeds behind secret URLs, one per practitioner and one per clinic.

The token is the credential (calendar apps cannot sign in): looked up by its SHA-256 digest, kept
encrypted so that the console can show the URL again, and rotated to revoke the old one at once.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import BookingSettings, Practitioner
from clinicore.core.scheduling import hours, repository
from clinicore.core.scheduling.ical import appointments_calendar
from clinicore.core.scheduling.schemas import CalendarFeed
from clinicore.core.scheduling.settings import get_booking_settings
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.crypto import SecretBox, sha256_hex
from clinicore.kit.errors import NotFound

FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=365)


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
        owner = await hours.get_practitioner(session, clinic_id=clinic_id, practitioner_id=practitioner_id)
    else:
        owner = await get_booking_settings(session, clinic_id=clinic_id, clock=clock)
    owner.calendar_token_digest = sha256_hex(token)
    owner.calendar_token_encrypted = box.encrypt(token)
    await session.flush()
    return token


async def calendar_feed(
    session: AsyncSession, *, token: str, domain: str, clock: Clock = system_clock
) -> CalendarFeed:
    """The iCalendar feed behind a secret URL: a practitioner's, or the whole clinic's."""
    digest = sha256_hex(token)
    practitioner = await repository.practitioner_by_calendar_token(session, digest)
    if practitioner is not None:
        clinic_id = practitioner.clinic_id
    else:
        settings = await repository.settings_by_calendar_token(session, digest)
        if settings is None:
            raise NotFound("calendar not found")
        clinic_id = settings.clinic_id
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
        owner = await hours.get_practitioner(session, clinic_id=clinic_id, practitioner_id=practitioner_id)
    else:
        owner = await repository.get_booking_settings(session, clinic_id)
    if owner is None or owner.calendar_token_encrypted is None:
        return None
    return box.decrypt(owner.calendar_token_encrypted)
