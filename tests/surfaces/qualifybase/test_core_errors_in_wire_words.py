"""Core rules answered in QualifyBase's words: its 400 envelope, its field names (``assigned_to``,
``scheduled_at`` for an appointment but ``starts_at`` for a block), whatever the core calls them."""

from __future__ import annotations

import uuid
from typing import Any

from tests.factories import create_lead, create_practitioner
from tests.surfaces.qualifybase.conftest import QualifyBaseClinic

NINE = "2031-03-03T14:00:00Z"  # Monday 09:00 in New York


async def book(qb: QualifyBaseClinic, **fields: Any) -> Any:
    lead = await create_lead(qb.runtime, qb.arranged.clinic)
    body = {
        "lead_id": str(lead.id),
        "scheduled_at": NINE,
        "ends_at": "2031-03-03T14:30:00Z",
        "title": "Visit",
    }
    return await qb.client.post("/appointments", json=body | fields)


class TestAppointments:
    async def test_a_one_minute_booking_is_a_400(self, qb: QualifyBaseClinic) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        response = await book(qb, ends_at="2031-03-03T14:01:00Z")
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_input",
            "message": "ends_at: an appointment lasts at least 5 minutes",
        }
        assert (await qb.client.get("/appointments")).json()["appointments"] == []

    async def test_a_start_without_a_time_zone_names_scheduled_at(self, qb: QualifyBaseClinic) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        response = await book(qb, scheduled_at="2031-03-03T09:00:00", ends_at="2031-03-03T09:30:00")
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_input",
            "message": "scheduled_at: must include a time zone (use Z for UTC)",
        }

    async def test_an_end_before_the_start_names_scheduled_at(self, qb: QualifyBaseClinic) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        response = await book(qb, ends_at="2031-03-03T13:00:00Z")
        assert response.json() == {"error": "invalid_input", "message": "ends_at: must be after scheduled_at"}

    async def test_an_unknown_practitioner_is_invalid_assigned_to(self, qb: QualifyBaseClinic) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        response = await book(qb, assigned_to=str(uuid.uuid4()))
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_input",
            "message": "assigned_to: no such practitioner in this clinic",
        }

    async def test_an_unknown_lead_is_invalid_lead_id(self, qb: QualifyBaseClinic) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        response = await book(qb, lead_id=str(uuid.uuid4()))
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_input",
            "message": "lead_id: no such lead in this clinic",
        }

    async def test_a_clinic_without_practitioners_names_assigned_to(self, qb: QualifyBaseClinic) -> None:
        response = await book(qb)
        assert response.json() == {
            "error": "invalid_input",
            "message": "assigned_to: the clinic has no bookable practitioner",
        }


class TestBlocks:
    async def test_a_block_start_without_a_time_zone_names_starts_at(self, qb: QualifyBaseClinic) -> None:
        block = {
            "external_source": "google_calendar",
            "external_id": "evt_1",
            "starts_at": "2031-03-03T09:00:00",
            "ends_at": "2031-03-03T10:00:00Z",
        }
        response = await qb.client.post("/availability/blocks", json=block)
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_input",
            "message": "starts_at: must include a time zone (use Z for UTC)",
        }

    async def test_a_block_ending_before_it_starts_names_starts_at(self, qb: QualifyBaseClinic) -> None:
        block = {
            "external_source": "g",
            "external_id": "1",
            "starts_at": NINE,
            "ends_at": "2031-03-03T13:00:00Z",
        }
        response = await qb.client.post("/availability/blocks", json=block)
        assert response.json() == {"error": "invalid_input", "message": "ends_at: must be after starts_at"}
