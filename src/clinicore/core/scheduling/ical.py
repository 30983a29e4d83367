"""iCalendar (RFC 5545) export of appointments, with the ``icalendar`` library."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from icalendar import Calendar, Event

from clinicore.core.models import Appointment, AppointmentStatus

PRODUCT_ID = "-//Clinicore//Scheduling//EN"
_ICAL_STATUS = {
    AppointmentStatus.waiting_confirmation: "TENTATIVE",
    AppointmentStatus.confirmed: "CONFIRMED",
    AppointmentStatus.cancelled: "CANCELLED",
    AppointmentStatus.declined: "CANCELLED",
    AppointmentStatus.missed: "CONFIRMED",
    AppointmentStatus.completed: "CONFIRMED",
}


def appointments_calendar(
    *,
    name: str,
    appointments: Sequence[Appointment],
    practitioner_names: Mapping[uuid.UUID, str],
    generated_at: datetime,
    domain: str,
) -> bytes:
    """One VEVENT per appointment; the summary is the title, never a patient's name or notes (PHI stays out
    of a feed that calendar apps sync to third-party servers)."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for appointment in appointments:
        event = Event()
        event.add("uid", f"{appointment.id}@{domain}")
        event.add("dtstamp", generated_at)
        event.add("dtstart", appointment.starts_at)
        event.add("dtend", appointment.ends_at)
        event.add("summary", appointment.title)
        event.add("status", _ICAL_STATUS[AppointmentStatus(appointment.status)])
        event.add("sequence", appointment.version)
        event.add("last-modified", appointment.updated_at)
        practitioner = practitioner_names.get(appointment.practitioner_id)
        if practitioner:
            event.add("description", f"With {practitioner}")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
