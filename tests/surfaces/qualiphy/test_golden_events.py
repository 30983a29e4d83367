"""Golden Qualiphy webhook bodies (tests/surfaces/qualiphy/golden/event_{1,2,3}.json): the renderer
makes exactly these from the snapshots of a GLP-1 exam approved, confirmed and shipped; and the bodies
a real run delivers have the same fields with the same types."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from clinicore.core.events.renderers import json_bytes
from clinicore.core.models import Event, WebhookEndpoint
from clinicore.core.telehealth.events import (
    PATIENT_EXAM_COMPLETED,
    PRESCRIPTION_CONFIRMED,
    PRESCRIPTION_SHIPPED,
)
from clinicore.surfaces.qualiphy.webhooks import render_qualiphy

GOLDEN = Path(__file__).parent / "golden"
EXAM_URL = (
    "https://clinicore.example.com/documents/consultations/100231.pdf"
    "?expires=1931094000&signature=5b0e1f0c2d9a4e6f8a7b3c1d2e4f6a8b"
)


def snapshot(status: str, *, with_prescription: bool, with_shipment: bool) -> dict[str, Any]:
    prescription = {
        "id": "0b7c2a52-8f0e-4f8e-9d3e-2f1f3b6c9a10",
        "status": {"confirmed_by_pharmacy": "confirmed", "shipped": "shipped"}.get(status, "written"),
        "pharmacy_id": 101,
        "order_set_id": 5002,
        "pharmacy_name": "Empower Partner Pharmacy",
        "pharmacy_ncpdpid": "4412345",
        "pharmacy_address": "1 Compounding Way, Houston, TX",
        "pharmacy_phone": "+15125550100",
        "written_at": "2031-03-03T15:20:00.000Z",
        "confirmed_at": "2031-03-03T18:05:00.000Z",
        "shipped_at": "2031-03-04T14:30:00.000Z" if with_shipment else None,
        "items": [
            {
                "drug_name": "Semaglutide",
                "strength": "0.50 mg/0.5 mL",
                "form": "injection",
                "ndc": "12345-678-90",
                "quantity": "2.5",
                "quantity_units": "mL",
                "refills": 1,
                "days_supply": 28,
                "directions": "Inject 0.50 mg under the skin once a week.",
                "schedule_code": None,
            },
            {
                "drug_name": "Ondansetron",
                "strength": "4 mg",
                "form": "tablet",
                "ndc": "00000-111-22",
                "quantity": "30",
                "quantity_units": "tablets",
                "refills": 0,
                "days_supply": 30,
                "directions": "One tablet by mouth as needed for nausea.",
                "schedule_code": None,
            },
        ],
    }
    return {
        "patient_exam": {
            "id": 100231,
            "exam_id": 1003,
            "exam_title": "GLP-1 Weight Loss",
            "rx_type": "rx",
            "status": status,
            "outcome": "Approved",
            "reason": "Good candidate: BMI 31, no contraindications.",
            "decided_at": "2031-03-03T15:20:00.000Z",
            "is_test": False,
            "version": 5,
        },
        "meeting": {"id": "6f1d0a4e-3b5c-4d7e-8f90-1a2b3c4d5e6f", "additional_data": '{"order_id":"A-1002"}'},
        "clinic": {
            "id": "c3d4e5f6-0000-4000-8000-000000000001",
            "number": 4021,
            "name": "Glow Medspa",
            "brand_name": None,
        },
        "patient": {
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "jane.doe@patients.example.com",
            "phone": "+15552223232",
        },
        "provider": {"id": "9a8b7c6d-0000-4000-8000-000000000002", "name": "Liza Park", "credentials": "NP"},
        "questions_answers": [
            {
                "no": 1,
                "question": "Are you currently pregnant or breastfeeding?",
                "type": "single",
                "answers": ["No"],
            },
            {
                "no": 2,
                "question": "Which of these conditions do you have?",
                "type": "multiple",
                "answers": ["Hypertension", "Other: Asthma"],
            },
            {
                "no": 3,
                "question": "List any medications you take.",
                "type": "text",
                "answers": ["Lisinopril 10 mg"],
            },
        ],
        "document": {"url": EXAM_URL, "expires_at": "2031-03-04T15:20:00.000Z"},
        "prescription": prescription if with_prescription else None,
        "shipments": (
            [
                {
                    "tracking_number": "1Z999AA10123456784",
                    "delivery_service": "UPS Ground",
                    "carrier": "UPS",
                    "shipped_at": "2031-03-04T14:30:00.000Z",
                }
            ]
            if with_shipment
            else []
        ),
    }


CASES = {
    1: (PATIENT_EXAM_COMPLETED, snapshot("completed", with_prescription=False, with_shipment=False)),
    2: (
        PRESCRIPTION_CONFIRMED,
        snapshot("confirmed_by_pharmacy", with_prescription=True, with_shipment=False),
    ),
    3: (PRESCRIPTION_SHIPPED, snapshot("shipped", with_prescription=True, with_shipment=True)),
}


def rendered(number: int) -> Any:
    event_type, payload = CASES[number]
    event = Event(
        id="evt_golden",
        clinic_id=uuid.uuid4(),
        type=event_type,
        aggregate_type="meeting",
        aggregate_id=payload["meeting"]["id"],
        aggregate_version=number,
        payload=json.loads(json_bytes(payload)),
        occurred_at=datetime(2031, 3, 3, 15, 20, tzinfo=UTC),
    )
    return json.loads(render_qualiphy(event, WebhookEndpoint()).body)


def golden(number: int) -> Any:
    return json.loads((GOLDEN / f"event_{number}.json").read_text())


@pytest.mark.parametrize("number", [1, 2, 3])
def test_the_renderer_makes_the_golden_body(number: int) -> None:
    assert rendered(number) == golden(number)


def shape(value: Any) -> Any:
    """Field names and JSON types, recursively (a null matches any type)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def same_shape(actual: Any, expected: Any, where: str = "body") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), where
        for key in expected:
            same_shape(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), where
        for item in actual:
            same_shape(item, expected[0], f"{where}[]")
    elif expected is not None and actual is not None:
        assert type(actual) is type(expected) or {type(actual), type(expected)} <= {int, float}, where


def test_the_golden_bodies_repeat_the_first_item_and_the_first_tracking_entry_at_the_top() -> None:
    second, third = golden(2), golden(3)
    first_item = second["prescription"][0]
    assert {key: second[key] for key in first_item} == first_item
    assert third["tracking_number"] == third["prescription_tracking"][0]["tracking_number"]
    assert third["delivery_service"] == third["prescription_tracking"][0]["delivery_service"]
    assert set(golden(1)) < set(second) < set(third)
