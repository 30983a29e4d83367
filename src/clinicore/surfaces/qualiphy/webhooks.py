"""Qualiphy webhook bodies, sent to the invite's ``webhook_url`` (the engine adds the Standard Webhooks
headers): ``event`` 1 when an exam is decided (every exam, Missed included), 2 when the pharmacy
confirms an Rx exam's prescription, 3 when it ships.

A pure function of the event's snapshot (core/telehealth/snapshots.py). Field names and types follow
Qualiphy's published sample and the clients that read it (docs/compat/qualiphy.md):
``patient_email``/``patient_phone_number``; event 2 repeats the first prescription item at the top level
(``drug_details``, ``quantity``, ``refill_amount``, ``duration_days``...); event 3 repeats the first
tracking entry's ``tracking_number`` and ``delivery_service``. Every body carries ``meeting_uuid``;
event 3 repeats ``exam_status`` (receivers switch on ``event``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from clinicore.core.events.renderers import JSON_CONTENT_TYPE, json_bytes
from clinicore.core.events.schemas import RenderedWebhook
from clinicore.core.models import (
    Event,
    ExamOutcome,
    PatientExamStatus,
    RxType,
    WebhookEndpoint,
    WebhookFormat,
)
from clinicore.core.telehealth.events import (
    PATIENT_EXAM_COMPLETED,
    PRESCRIPTION_CONFIRMED,
    PRESCRIPTION_SHIPPED,
)
from clinicore.surfaces.descriptor import WebhookFormatSpec

EVENT_NUMBERS = {PATIENT_EXAM_COMPLETED: 1, PRESCRIPTION_CONFIRMED: 2, PRESCRIPTION_SHIPPED: 3}
# rx_status: where the treatment order stands when the event fires.
RX_NOT_APPLICABLE = "Not Applicable"  # GFE exams
RX_NOT_PRESCRIBED = "Not Prescribed"  # an Rx exam that was not approved
RX_PENDING = "Pending"  # approved, the order not written yet
RX_STATUS_BY_EXAM_STATUS = {
    PatientExamStatus.prescribed: "Prescribed",
    PatientExamStatus.confirmed_by_pharmacy: "Pharmacy Confirmed",  # Qualiphy's sample word
    PatientExamStatus.shipped: "Shipped",
}
MULTIPLE_ANSWER_SEPARATOR = ", "


def rx_status(exam: Mapping[str, Any]) -> str:
    if exam["rx_type"] != RxType.rx:
        return RX_NOT_APPLICABLE
    if exam["status"] in RX_STATUS_BY_EXAM_STATUS:
        return RX_STATUS_BY_EXAM_STATUS[exam["status"]]
    return RX_PENDING if exam["outcome"] == ExamOutcome.approved else RX_NOT_PRESCRIBED


def wire_quantity(quantity: str | None) -> int | float | str | None:
    """A number, as clients read it (``"30"`` -> 30, ``"2.5"`` -> 2.5); anything else as written."""
    if quantity is None:
        return None
    try:
        value = Decimal(quantity)
    except InvalidOperation:
        return quantity
    if not value.is_finite():
        return quantity
    return int(value) if value == value.to_integral_value() else float(value)


def provider_name(provider: Mapping[str, Any] | None) -> str | None:
    if provider is None:
        return None
    credentials = provider.get("credentials")
    return f"{provider['name']}, {credentials}" if credentials else str(provider["name"])


def prescription_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "drug_details": {
            "drug_name": item["drug_name"],
            "strength": item["strength"],
            "dosage_form_type": item["form"],
            "ndc_number": item["ndc"],
        },
        "quantity": wire_quantity(item["quantity"]),
        "quantity_units": item["quantity_units"],
        "refill_amount": item["refills"],
        "duration_days": item["days_supply"],
        "directions": item["directions"],
        "schedule_code": item["schedule_code"] or "",  # a string, "" when none (clients concatenate it)
    }


def tracking_entry(shipment: Mapping[str, Any], prescription: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "tracking_number": shipment["tracking_number"],
        "delivery_service": shipment["delivery_service"],
        "ship_carrier": shipment["carrier"],
        "pharmacy_location": prescription["pharmacy_name"],
    }


def qualiphy_body(event_number: int, snapshot: Mapping[str, Any]) -> dict[str, Any]:
    exam = snapshot["patient_exam"]
    patient = snapshot["patient"]
    body: dict[str, Any] = {
        "event": event_number,
        "meeting_uuid": str(snapshot["meeting"]["id"]),
        "patient_exam_id": exam["id"],
        "exam_id": exam["exam_id"],
        "exam_name": exam["exam_title"],
        "exam_status": exam["outcome"],
        "rx_status": rx_status(exam),
        "reason": exam["reason"],
        "exam_url": snapshot["document"]["url"],
        "provider_name": provider_name(snapshot["provider"]),
        "clinic_name": snapshot["clinic"]["name"],
        "patient_email": patient["email"],
        "patient_phone_number": patient["phone"],
        "questions_answers": [
            {
                "no": row["no"],
                "question": row["question"],
                "answer": MULTIPLE_ANSWER_SEPARATOR.join(row["answers"]),
            }
            for row in snapshot["questions_answers"]
        ],
        # Echoed exactly as the invite sent it: a string stays a string, an object an object.
        "additional_data": snapshot["meeting"]["additional_data"],
    }
    prescription = snapshot["prescription"]
    if event_number >= 2 and prescription is not None:
        items = [prescription_item(item) for item in prescription["items"]]
        # One prescription per patient exam: its number is the patient_exam_id.
        body["prescription_id"] = exam["id"]
        body["pharmacy_name"] = prescription["pharmacy_name"]
        if items:
            body.update(items[0])
        body["prescription"] = items
    if event_number == 3 and prescription is not None:
        tracking = [tracking_entry(shipment, prescription) for shipment in snapshot["shipments"]]
        if tracking:
            body["tracking_number"] = tracking[0]["tracking_number"]
            body["delivery_service"] = tracking[0]["delivery_service"]
            body["created_at"] = snapshot["shipments"][0]["shipped_at"]
        body["prescription_tracking"] = tracking
    return body


def render_qualiphy(event: Event, _endpoint: WebhookEndpoint) -> RenderedWebhook:
    event_number = EVENT_NUMBERS.get(event.type)
    if event_number is None:
        raise ValueError(f"Qualiphy has no webhook body for {event.type}")
    return RenderedWebhook(
        body=json_bytes(qualiphy_body(event_number, event.payload)), headers=JSON_CONTENT_TYPE
    )


# Qualiphy has a body for events 1/2/3 only: a clinic's qualiphy endpoint subscribes to those (all three
# when it names none) and gets no webhook.test (docs/compat/webhooks.md).
WEBHOOKS = WebhookFormatSpec(
    format=WebhookFormat.qualiphy,
    renderer=render_qualiphy,
    event_types=tuple(EVENT_NUMBERS),
    events_label="Qualiphy events 1, 2 and 3",
    # Events 1/2/3 of one meeting reach the receiver in order (docs/compat/qualiphy.md).
    strict_order=True,
)
