"""Typed inputs and results of the scheduling use cases (surfaces and pages build the inputs)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from clinicore.core.models import AppointmentStatus, ReminderChannel
from clinicore.kit.inputs import NOT_GIVEN, Given


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingRequest:
    """A new appointment. Without ``practitioner_id`` the least-loaded free bookable practitioner gets it.

    Without ``ends_at`` it lasts its service's duration (the clinic's default length without a service);
    without a title it takes its service's name. The client is ``client_id`` when given (one of the
    clinic's clients), else the client the lead becomes or links to, else none.
    """

    starts_at: datetime
    ends_at: datetime | None = None
    title: str = ""
    notes: str | None = None
    practitioner_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None
    service_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    status: AppointmentStatus = AppointmentStatus.confirmed
    # Booked by the client itself (the booking widget); who booked it, by name; how to remind the client
    # (None: no reminder).
    booked_by_client: bool = False
    created_by: str | None = None
    reminder_channel: ReminderChannel | None = None


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
    reminder_channel: Given[ReminderChannel | None] = NOT_GIVEN
    # Another service (the price becomes its price; without a new end, the length its duration) or location.
    service_id: Given[uuid.UUID] = NOT_GIVEN
    location_id: Given[uuid.UUID] = NOT_GIVEN


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    """An iCalendar feed: its display name and its ``text/calendar`` body."""

    name: str
    body: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceInput:
    """A service to create (``name`` and ``duration_minutes`` required) or the changes to one: a field
    left ``NOT_GIVEN`` is not written; ``None`` clears the price or the description."""

    name: Given[str] = NOT_GIVEN
    duration_minutes: Given[int] = NOT_GIVEN
    price: Given[Decimal | None] = NOT_GIVEN
    description: Given[str | None] = NOT_GIVEN
    is_active: Given[bool] = NOT_GIVEN
    telehealth: Given[bool] = NOT_GIVEN  # seen by video: its appointments get a video room

    def given(self) -> dict[str, Any]:
        return _given(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationInput:
    """A location to create (``name`` required) or the changes to one: a field left ``NOT_GIVEN`` is not
    written; ``None`` clears it. ``time_zone`` None means the clinic's."""

    name: Given[str] = NOT_GIVEN
    address_line_1: Given[str | None] = NOT_GIVEN
    address_line_2: Given[str | None] = NOT_GIVEN
    city: Given[str | None] = NOT_GIVEN
    state: Given[str | None] = NOT_GIVEN
    zip_code: Given[str | None] = NOT_GIVEN
    time_zone: Given[str | None] = NOT_GIVEN
    is_active: Given[bool] = NOT_GIVEN

    def given(self) -> dict[str, Any]:
        return _given(self)


def _given(data: ServiceInput | LocationInput) -> dict[str, Any]:
    return {
        field.name: getattr(data, field.name)
        for field in fields(data)
        if getattr(data, field.name) is not NOT_GIVEN
    }
