"""IntakeQ's appointment webhook bodies, from the core's appointment events (whatever surface or page
made the change: the IntakeQ or QualifyBase API, the console, the booking widget).

Body ``{EventType, ActionPerformedByClient, Appointment, ClientId, PracticeId, ExternalPracticeId,
ExternalClientId}``; ``Appointment`` is the object ``GET /appointments/{id}`` answers, built from the
event's view (``payload["view"]``) so that both say the same. One core event is one body:

- ``appointment.created`` -> ``AppointmentCreated``; ``appointment.cancelled`` -> ``AppointmentCanceled``;
  ``appointment.deleted`` -> ``AppointmentDeleted``.
- ``appointment.updated``: a new time -> ``AppointmentRescheduled`` (also when the status moved in the
  same change); else the new status: ``AppointmentConfirmed``, ``AppointmentDeclined``,
  ``AppointmentMissed``; any other change (a title, notes, the reminder, completed) ->
  ``AppointmentUpdated``, a type of ours that IntakeQ's doc does not list (docs/compat/intakeq.md).
"""

from __future__ import annotations

from typing import Any

from clinicore.core.models import AppointmentStatus, Event
from clinicore.core.scheduling.details import AppointmentView
from clinicore.surfaces.intakeq import appointment_mappers

APPOINTMENT_EVENTS = (
    "appointment.created",
    "appointment.updated",
    "appointment.cancelled",
    "appointment.deleted",
)
_PLAIN = {
    "appointment.created": "AppointmentCreated",
    "appointment.cancelled": "AppointmentCanceled",
    "appointment.deleted": "AppointmentDeleted",
}
_STATUS_MOVES = {
    AppointmentStatus.confirmed: "AppointmentConfirmed",
    AppointmentStatus.declined: "AppointmentDeclined",
    AppointmentStatus.missed: "AppointmentMissed",
}
UPDATED = "AppointmentUpdated"


def event_type_of(event: Event) -> str:
    if event.type in _PLAIN:
        return _PLAIN[event.type]
    if event.type != "appointment.updated":
        raise ValueError(f"IntakeQ has no appointment webhook body for {event.type}")
    payload = event.payload
    if payload.get("previous"):
        return "AppointmentRescheduled"
    if payload.get("previous_status"):
        return _STATUS_MOVES.get(AppointmentStatus(payload["appointment"]["status"]), UPDATED)
    return UPDATED


def appointment_body(event: Event) -> dict[str, Any]:
    if "view" not in event.payload:
        raise ValueError(f"the {event.type} event has no appointment view (made before IntakeQ appointments)")
    view = AppointmentView.from_payload(event.payload["view"])
    return {
        "EventType": event_type_of(event),
        "ActionPerformedByClient": bool(event.payload.get("by_client", False)),
        "Appointment": appointment_mappers.appointment(view).model_dump(mode="json"),
        "ClientId": view.client_number,
        "PracticeId": view.practice_id,
        "ExternalPracticeId": view.external_practice_id,
        "ExternalClientId": view.client_external_id,
    }
