"""Typed inputs and results of the scheduling use cases (surfaces and pages build the inputs)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from clinicore.core.models import AppointmentStatus
from clinicore.kit.inputs import NOT_GIVEN, Given


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """A new appointment. Without ``practitioner_id`` the least-loaded free bookable practitioner gets it."""

    starts_at: datetime
    ends_at: datetime
    title: str
    notes: str | None = None
    practitioner_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    status: AppointmentStatus = AppointmentStatus.confirmed


@dataclass(frozen=True, slots=True)
class AppointmentChanges:
    """An update of an appointment: only the fields given change (``notes=None`` clears the notes).

    A new ``starts_at`` without ``ends_at`` keeps the appointment's length.
    """

    starts_at: Given[datetime] = NOT_GIVEN
    ends_at: Given[datetime] = NOT_GIVEN
    title: Given[str] = NOT_GIVEN
    notes: Given[str | None] = NOT_GIVEN
    status: Given[AppointmentStatus] = NOT_GIVEN


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    """An iCalendar feed: its display name and its ``text/calendar`` body."""

    name: str
    body: bytes
