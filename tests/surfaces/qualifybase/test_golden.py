"""Contract tests against the examples in QualifyBase's own documentation (golden/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from clinicore.core.models import Event
from clinicore.surfaces.qualifybase.webhooks import render_qualifybase
from tests.factories import create_agent, create_campaign, create_lead, create_practitioner
from tests.surfaces.qualifybase.conftest import QualifyBaseClinic

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text())
    return loaded


def assert_same_shape(ours: Any, theirs: Any, path: str = "$") -> None:
    """Every field of the doc's example is in ours, with the same JSON type (the doc's null: any type)."""
    if theirs is None:
        return
    assert type(ours) is type(theirs) or (ours is None), (
        f"{path}: {type(ours).__name__} vs {type(theirs).__name__}"
    )
    if isinstance(theirs, dict):
        missing = set(theirs) - set(ours)
        assert not missing, f"{path}: missing {sorted(missing)}"
        for key, value in theirs.items():
            assert_same_shape(ours[key], value, f"{path}.{key}")


class TestDocRequestsAreAccepted:
    async def test_the_lead_example(self, qb: QualifyBaseClinic) -> None:
        agent = await create_agent(qb.runtime, qb.arranged.clinic)
        body = golden("lead_create_request") | {"agent_id": str(agent.id)}
        response = await qb.client.post("/leads", json=body)
        assert response.status_code == 201
        assert_same_shape(response.json(), body)

    async def test_the_booking_example(self, qb: QualifyBaseClinic) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        lead = await create_lead(qb.runtime, qb.arranged.clinic)
        body = golden("appointment_create_request") | {
            "lead_id": str(lead.id),
            "scheduled_at": "2031-03-04T14:00:00Z",
            "ends_at": "2031-03-04T14:30:00Z",
        }
        response = await qb.client.post("/appointments", json=body)
        assert response.status_code == 201
        assert_same_shape(response.json(), golden("webhook_appointment_created")["data"]["appointment"])

    async def test_the_campaign_contact_example(self, qb: QualifyBaseClinic) -> None:
        campaign = await create_campaign(qb.runtime, qb.arranged.clinic, target_country="US")
        body = golden("campaign_contact_request")
        response = await qb.client.post(f"/campaigns/{campaign.id}/contacts", json=body)
        assert response.status_code == 201
        assert_same_shape(response.json(), body)

    async def test_the_block_example(self, qb: QualifyBaseClinic) -> None:
        body = golden("availability_block_request")
        response = await qb.client.post("/availability/blocks", json=body)
        assert response.status_code == 201
        ours = response.json()
        assert ours["external_id"] == "evt_abc123" and ours["starts_at"] == "2026-05-15T11:00:00.000Z"


class TestWebhookBody:
    async def test_an_appointment_created_delivery_has_the_docs_shape(self, qb: QualifyBaseClinic) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        lead = await create_lead(qb.runtime, qb.arranged.clinic)
        booked = await qb.client.post(
            "/appointments",
            json={
                "lead_id": str(lead.id),
                "title": "Consultation",
                "scheduled_at": "2031-03-04T14:00:00Z",
                "ends_at": "2031-03-04T14:30:00Z",
            },
        )
        async with qb.runtime.sessions() as session:
            event = await session.scalar(
                select(Event).where(
                    Event.clinic_id == qb.arranged.clinic.id, Event.type == "appointment.created"
                )
            )
        assert event is not None
        rendered = render_qualifybase(event, None)  # type: ignore[arg-type]
        body = json.loads(rendered.body)
        assert_same_shape(body, golden("webhook_appointment_created"))
        assert body["data"]["appointment"] == booked.json()
        assert body["created"].endswith("Z") and len(body["created"]) == 24
