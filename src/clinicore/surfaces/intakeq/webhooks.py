"""IntakeQ webhook deliveries: the partner doc's intake-submitted notification.

Body ``{"IntakeId", "Type": "Intake Submitted", "ClientId", "PracticeId", "ExternalPracticeId",
"ExternalClientId"}``, built from the ``intake.submitted`` event's ids (the event carries no answer and
no patient details). IntakeQ signs nothing of its own: deliveries carry the Standard Webhooks headers
that every format carries. An ``intakeq`` endpoint receives ``intake.submitted`` and the appointment
events (``appointment_webhooks.py``): the bodies the format has.
"""

from __future__ import annotations

from typing import Any

from clinicore.core.events.renderers import JSON_CONTENT_TYPE, json_bytes
from clinicore.core.events.schemas import RenderedWebhook
from clinicore.core.models import Event, WebhookEndpoint, WebhookFormat
from clinicore.surfaces.descriptor import WebhookFormatSpec
from clinicore.surfaces.intakeq.appointment_webhooks import APPOINTMENT_EVENTS, appointment_body

INTAKE_SUBMITTED = "intake.submitted"


def intake_submitted_body(payload: dict[str, Any]) -> dict[str, Any]:
    intake = payload["intake"]
    return {
        "IntakeId": intake["id"],
        "Type": "Intake Submitted",
        "ClientId": intake["client_number"],
        "PracticeId": intake["practice_id"],
        "ExternalPracticeId": intake.get("external_practice_id"),
        "ExternalClientId": intake.get("external_client_id"),
    }


def render_intakeq(event: Event, _endpoint: WebhookEndpoint) -> RenderedWebhook:
    if event.type in APPOINTMENT_EVENTS:
        return RenderedWebhook(body=json_bytes(appointment_body(event)), headers=JSON_CONTENT_TYPE)
    if event.type != INTAKE_SUBMITTED:
        raise ValueError(f"IntakeQ has no webhook body for {event.type}")
    return RenderedWebhook(body=json_bytes(intake_submitted_body(event.payload)), headers=JSON_CONTENT_TYPE)


WEBHOOKS = WebhookFormatSpec(
    format=WebhookFormat.intakeq,
    renderer=render_intakeq,
    event_types=(INTAKE_SUBMITTED, *APPOINTMENT_EVENTS),
    events_label="IntakeQ's Intake Submitted and appointment events",
)
