"""Searching a clinic's appointments: by client, dates, status, practitioner, last change, and among
the deleted ones.

- Dates are local dates in the clinic's zone: ``starts_on``/``starts_until`` take the whole local day
  (``starts_until`` is inclusive), ``updated_since`` starts at the beginning of its local day.
- ``client_text`` matches a part of the client's name ("First Last") or email, without case.
- A deleted appointment is found only among the deleted ones (``deleted_only``), and only for
  ``DELETED_RETENTION`` after its deletion: after that, never again.
- Newest first (by start, then id, so that pages never overlap or skip).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Appointment, AppointmentStatus, Client, Practitioner
from clinicore.kit.local_time import start_of_local_day

DELETED_RETENTION = timedelta(days=10)
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class AppointmentSearch:
    client_text: str | None = None
    starts_on: date | None = None
    starts_until: date | None = None
    statuses: tuple[AppointmentStatus, ...] | None = None
    practitioner_email: str | None = None
    updated_since: date | None = None
    deleted_only: bool = False


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_appointments(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    time_zone: str,
    search: AppointmentSearch,
    now: datetime,
    limit: int,
    offset: int,
) -> Sequence[Appointment]:
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(Appointment).where(Appointment.clinic_id == clinic_id)
    if search.deleted_only:
        query = query.where(
            Appointment.deleted_at.is_not(None), Appointment.deleted_at > now - DELETED_RETENTION
        )
    else:
        query = query.where(Appointment.deleted_at.is_(None))
    if search.starts_on is not None:
        query = query.where(Appointment.starts_at >= start_of_local_day(search.starts_on, time_zone))
    if search.starts_until is not None:
        next_day = search.starts_until + timedelta(days=1)
        query = query.where(Appointment.starts_at < start_of_local_day(next_day, time_zone))
    if search.updated_since is not None:
        query = query.where(Appointment.updated_at >= start_of_local_day(search.updated_since, time_zone))
    if search.statuses:
        query = query.where(Appointment.status.in_([str(status) for status in search.statuses]))
    if search.practitioner_email:
        practitioners = select(Practitioner.id).where(
            Practitioner.clinic_id == clinic_id,
            func.lower(Practitioner.email) == search.practitioner_email.strip().lower(),
        )
        query = query.where(Appointment.practitioner_id.in_(practitioners))
    if search.client_text and search.client_text.strip():
        pattern = _like(search.client_text.strip())
        full_name = func.lower(Client.first_name + " " + Client.last_name)
        clients = select(Client.id).where(
            Client.clinic_id == clinic_id,
            or_(
                full_name.like(pattern, escape="\\"),
                func.lower(func.coalesce(Client.email, "")).like(pattern, escape="\\"),
            ),
        )
        query = query.where(Appointment.client_id.in_(clients))
    query = query.order_by(Appointment.starts_at.desc(), Appointment.id.desc()).limit(limit).offset(offset)
    return (await session.scalars(query)).all()
