from __future__ import annotations

from typing import Any

from clinicore.core.models import Practitioner
from tests.factories import create_lead, create_practitioner, set_booking_rules
from tests.surfaces.qualifybase.conftest import QualifyBaseClinic

# Monday 2031-03-03 in New York is UTC-5: 09:00 local = 14:00Z.
NINE = "2031-03-03T14:00:00Z"
NINE_THIRTY = "2031-03-03T14:30:00Z"
TEN = "2031-03-03T15:00:00Z"


async def two_practitioners(qb: QualifyBaseClinic) -> tuple[Practitioner, Practitioner]:
    first = await create_practitioner(qb.runtime, qb.arranged.clinic, name="Dr. A")
    second = await create_practitioner(qb.runtime, qb.arranged.clinic, name="Dr. B")
    return (first, second) if str(first.id) < str(second.id) else (second, first)


async def book(qb: QualifyBaseClinic, lead_id: str, start: str, end: str, **extra: Any) -> Any:
    body = {"lead_id": lead_id, "scheduled_at": start, "ends_at": end, "title": "Consultation"} | extra
    return await qb.client.post("/appointments", json=body)


class TestAvailability:
    async def test_slots_start_at_opening_and_go_to_the_least_loaded(self, qb: QualifyBaseClinic) -> None:
        first, second = await two_practitioners(qb)
        slots = (await qb.client.get("/availability")).json()["slots"]
        assert [slot["starts_at"] for slot in slots] == [
            "2031-03-03T14:00:00.000Z",
            "2031-03-03T14:30:00.000Z",
            "2031-03-03T15:00:00.000Z",
            "2031-03-03T15:30:00.000Z",
            "2031-03-03T16:00:00.000Z",
        ]
        assert slots[0] == {
            "starts_at": "2031-03-03T14:00:00.000Z",
            "ends_at": "2031-03-03T14:30:00.000Z",
            "assigned_to": str(first.id),
        }
        lead = await create_lead(qb.runtime, qb.arranged.clinic)
        assert (await book(qb, str(lead.id), NINE, NINE_THIRTY, assigned_to=str(first.id))).status_code == 201
        slots = (await qb.client.get("/availability?limit=1")).json()["slots"]
        assert slots == [
            {
                "starts_at": "2031-03-03T14:00:00.000Z",
                "ends_at": "2031-03-03T14:30:00.000Z",
                "assigned_to": str(second.id),
            }
        ]

    async def test_preference_from_and_limit(self, qb: QualifyBaseClinic) -> None:
        await two_practitioners(qb)
        afternoon = (await qb.client.get("/availability?preference=afternoon&limit=1")).json()["slots"]
        assert afternoon[0]["starts_at"] == "2031-03-03T17:00:00.000Z"  # 12:00 local
        morning = (await qb.client.get("/availability?from=2031-03-05&preference=morning&limit=100")).json()[
            "slots"
        ]
        assert morning[0]["starts_at"] == "2031-03-05T14:00:00.000Z"
        assert len(morning) == 100
        assert (await qb.client.get("/availability?preference=evening")).json()["slots"] == []
        for query in ("limit=0", "limit=101", "preference=night", "from=03/05/2031"):
            response = await qb.client.get(f"/availability?{query}")
            assert response.status_code == 400, query
            assert response.json()["error"] == "invalid_input"

    async def test_a_clinic_without_practitioners_has_no_slots(self, qb: QualifyBaseClinic) -> None:
        assert (await qb.client.get("/availability")).json() == {"slots": []}

    async def test_blocks_remove_slots_and_deleting_them_restores_them(self, qb: QualifyBaseClinic) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        block = {
            "external_source": "google_calendar",
            "external_id": "evt_abc123",
            "starts_at": NINE,
            "ends_at": TEN,
            "title": "External consultation",
        }
        created = await qb.client.post("/availability/blocks", json=block)
        assert created.status_code == 201
        assert created.json()["assigned_to"] is None
        assert (await qb.client.get("/availability?limit=1")).json()["slots"][0][
            "starts_at"
        ] == "2031-03-03T15:00:00.000Z"
        updated = await qb.client.post("/availability/blocks", json=block | {"ends_at": NINE_THIRTY})
        assert updated.status_code == 200 and updated.json()["id"] == created.json()["id"]
        assert (await qb.client.get("/availability?limit=1")).json()["slots"][0][
            "starts_at"
        ] == "2031-03-03T14:30:00.000Z"
        deleted = await qb.client.delete(
            "/availability/blocks?external_source=google_calendar&external_id=evt_abc123"
        )
        assert deleted.status_code == 204 and deleted.content == b""
        again = await qb.client.delete(
            "/availability/blocks?external_source=google_calendar&external_id=evt_abc123"
        )
        assert again.status_code == 204
        assert (await qb.client.get("/availability?limit=1")).json()["slots"][0][
            "starts_at"
        ] == "2031-03-03T14:00:00.000Z"

    async def test_block_validation(self, qb: QualifyBaseClinic) -> None:
        bad = {"external_source": "g", "external_id": "1", "starts_at": TEN, "ends_at": NINE}
        assert (await qb.client.post("/availability/blocks", json=bad)).status_code == 400
        assert (await qb.client.delete("/availability/blocks?external_source=g")).status_code == 400
        foreign = bad | {
            "starts_at": NINE,
            "ends_at": TEN,
            "assigned_to": "00000000-0000-4000-8000-000000000000",
        }
        response = await qb.client.post("/availability/blocks", json=foreign)
        assert response.status_code == 400 and response.json()["message"].startswith("assigned_to")


class TestBooking:
    async def test_booking_returns_the_appointment(self, qb: QualifyBaseClinic) -> None:
        first, _ = await two_practitioners(qb)
        lead = await create_lead(qb.runtime, qb.arranged.clinic)
        response = await book(qb, str(lead.id), NINE, NINE_THIRTY, notes="first visit")
        assert response.status_code == 201
        body = response.json()
        assert body | {"id": None, "created_at": None, "updated_at": None} == {
            "id": None,
            "lead_id": str(lead.id),
            "assigned_to": str(first.id),
            "status": "confirmed",
            "title": "Consultation",
            "notes": "first visit",
            "scheduled_at": "2031-03-03T14:00:00.000Z",
            "ends_at": "2031-03-03T14:30:00.000Z",
            "version": 1,
            "created_at": None,
            "updated_at": None,
            "cancelled_at": None,
        }
        fetched = await qb.client.get(f"/appointments/{body['id']}")
        assert fetched.json() == body

    async def test_a_taken_slot_is_409(self, qb: QualifyBaseClinic) -> None:
        first, second = await two_practitioners(qb)
        lead = await create_lead(qb.runtime, qb.arranged.clinic)
        one = await book(qb, str(lead.id), NINE, NINE_THIRTY)
        two = await book(qb, str(lead.id), NINE, NINE_THIRTY)
        assert (one.json()["assigned_to"], two.json()["assigned_to"]) == (str(first.id), str(second.id))
        three = await book(qb, str(lead.id), NINE, NINE_THIRTY)
        assert three.status_code == 409
        assert three.json() == {"error": "conflict", "message": "the slot is already booked"}
        overlapping = await book(
            qb, str(lead.id), "2031-03-03T14:15:00Z", "2031-03-03T14:45:00Z", assigned_to=str(first.id)
        )
        assert overlapping.status_code == 409

    async def test_slots_against_the_rules_are_400_naming_the_rule(self, qb: QualifyBaseClinic) -> None:
        practitioner = await create_practitioner(qb.runtime, qb.arranged.clinic)
        await set_booking_rules(
            qb.runtime,
            qb.arranged.clinic,
            minimum_notice_minutes=120,
            buffer_before_minutes=15,
            horizon_days=30,
        )
        lead = str((await create_lead(qb.runtime, qb.arranged.clinic)).id)
        await qb.client.post(
            "/availability/blocks",
            json={
                "external_source": "g",
                "external_id": "lunch",
                "starts_at": "2031-03-04T17:00:00Z",
                "ends_at": "2031-03-04T18:00:00Z",
            },
        )
        assert (await book(qb, lead, "2031-03-04T14:00:00Z", "2031-03-04T14:30:00Z")).status_code == 201
        cases = {
            "minimum_notice": ("2031-03-03T14:00:00Z", "2031-03-03T14:30:00Z"),  # 09:00 today, 1 h away
            "horizon": ("2031-05-05T14:00:00Z", "2031-05-05T14:30:00Z"),
            "working_hours": ("2031-03-04T12:00:00Z", "2031-03-04T12:30:00Z"),  # 07:00 local
            "buffer": ("2031-03-04T14:30:00Z", "2031-03-04T15:00:00Z"),  # right after the 09:00 booking
            "busy": ("2031-03-04T17:00:00Z", "2031-03-04T17:30:00Z"),  # the block
            "ends_at": ("2031-03-04T15:00:00Z", "2031-03-04T14:00:00Z"),
        }
        for rule, (start, end) in cases.items():
            response = await book(qb, lead, start, end, assigned_to=str(practitioner.id))
            assert response.status_code == 400, (rule, response.json())
            assert response.json()["message"].startswith(rule), (rule, response.json())

    async def test_references_must_belong_to_the_clinic(
        self, qb: QualifyBaseClinic, other_qb: QualifyBaseClinic
    ) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        theirs = await create_lead(other_qb.runtime, other_qb.arranged.clinic)
        their_practitioner = await create_practitioner(other_qb.runtime, other_qb.arranged.clinic)
        response = await book(qb, str(theirs.id), NINE, NINE_THIRTY)
        assert response.status_code == 400 and response.json()["message"].startswith("lead_id")
        mine = await create_lead(qb.runtime, qb.arranged.clinic)
        response = await book(qb, str(mine.id), NINE, NINE_THIRTY, assigned_to=str(their_practitioner.id))
        assert response.status_code == 400 and response.json()["message"].startswith("assigned_to")

    async def test_missing_fields_are_invalid_input(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.post("/appointments", json={"scheduled_at": NINE})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_input"


class TestAppointmentLifecycle:
    async def test_list_filters_by_status_and_dates(self, qb: QualifyBaseClinic) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        lead = str((await create_lead(qb.runtime, qb.arranged.clinic)).id)
        monday = (await book(qb, lead, NINE, NINE_THIRTY)).json()
        tuesday = (await book(qb, lead, "2031-03-04T14:00:00Z", "2031-03-04T14:30:00Z")).json()
        await qb.client.delete(f"/appointments/{tuesday['id']}")
        everything = (await qb.client.get("/appointments")).json()["appointments"]
        assert [a["id"] for a in everything] == [monday["id"], tuesday["id"]]
        cancelled = (await qb.client.get("/appointments?status=cancelled")).json()["appointments"]
        assert [a["id"] for a in cancelled] == [tuesday["id"]]
        on_monday = (await qb.client.get("/appointments?from=2031-03-03&to=2031-03-03")).json()[
            "appointments"
        ]
        assert [a["id"] for a in on_monday] == [monday["id"]]
        after = (await qb.client.get("/appointments?from=2031-03-03T15:00:00Z")).json()["appointments"]
        assert [a["id"] for a in after] == [tuesday["id"]]
        assert (await qb.client.get("/appointments?status=lost")).status_code == 400

    async def test_reschedule_retitle_and_status(self, qb: QualifyBaseClinic) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        lead = str((await create_lead(qb.runtime, qb.arranged.clinic)).id)
        appointment = (await book(qb, lead, NINE, NINE_THIRTY)).json()
        other = (await book(qb, lead, TEN, "2031-03-03T15:30:00Z")).json()
        moved = await qb.client.patch(
            f"/appointments/{appointment['id']}", json={"scheduled_at": "2031-03-03T16:00:00Z"}
        )
        assert moved.status_code == 200
        assert moved.json()["scheduled_at"] == "2031-03-03T16:00:00.000Z"
        assert moved.json()["ends_at"] == "2031-03-03T16:30:00.000Z"  # the length is kept
        assert moved.json()["version"] == 2
        clash = await qb.client.patch(
            f"/appointments/{appointment['id']}",
            json={"scheduled_at": TEN, "ends_at": "2031-03-03T15:30:00Z"},
        )
        assert clash.status_code == 409
        renamed = await qb.client.patch(
            f"/appointments/{other['id']}", json={"title": "Follow-up", "notes": None}
        )
        assert renamed.json()["title"] == "Follow-up" and renamed.json()["notes"] is None
        done = await qb.client.patch(f"/appointments/{other['id']}", json={"status": "completed"})
        assert done.json()["status"] == "completed"
        backwards = await qb.client.patch(f"/appointments/{other['id']}", json={"status": "confirmed"})
        assert backwards.status_code == 400
        assert backwards.json()["message"] == "status: cannot change from completed to confirmed"

    async def test_delete_soft_cancels_and_frees_the_slot(self, qb: QualifyBaseClinic) -> None:
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        lead = str((await create_lead(qb.runtime, qb.arranged.clinic)).id)
        appointment = (await book(qb, lead, NINE, NINE_THIRTY)).json()
        cancelled = await qb.client.delete(f"/appointments/{appointment['id']}")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancelled_at"] is not None
        assert cancelled.json()["version"] == 2
        twice = await qb.client.delete(f"/appointments/{appointment['id']}")
        assert twice.status_code == 200 and twice.json() == cancelled.json()
        assert (await qb.client.get(f"/appointments/{appointment['id']}")).json()["status"] == "cancelled"
        assert (await book(qb, lead, NINE, NINE_THIRTY)).status_code == 201
        reopened = await qb.client.patch(f"/appointments/{appointment['id']}", json={"title": "again"})
        assert reopened.status_code == 409

    async def test_another_clinics_appointment_is_not_found(
        self, qb: QualifyBaseClinic, other_qb: QualifyBaseClinic
    ) -> None:
        await create_practitioner(other_qb.runtime, other_qb.arranged.clinic)
        lead = str((await create_lead(other_qb.runtime, other_qb.arranged.clinic)).id)
        theirs = (await book(other_qb, lead, NINE, NINE_THIRTY)).json()
        for method in ("GET", "DELETE"):
            response = await qb.client.request(method, f"/appointments/{theirs['id']}")
            assert response.status_code == 404
            assert response.json() == {"error": "not_found", "message": "appointment not found"}
        assert (
            await qb.client.patch(f"/appointments/{theirs['id']}", json={"title": "x"})
        ).status_code == 404
        assert (await other_qb.client.get(f"/appointments/{theirs['id']}")).json()["status"] == "confirmed"


class TestEverySlotIsBookable:
    async def test_the_offered_slot_can_always_be_booked(self, qb: QualifyBaseClinic) -> None:
        """Book the first offered slot again and again (buffers and notice on): never refused or reoffered."""
        await two_practitioners(qb)
        await set_booking_rules(
            qb.runtime, qb.arranged.clinic, buffer_before_minutes=10, minimum_notice_minutes=90
        )
        lead = str((await create_lead(qb.runtime, qb.arranged.clinic)).id)
        booked: set[tuple[str, str]] = set()
        for _ in range(24):
            offered = (await qb.client.get("/availability?limit=100")).json()["slots"]
            assert not booked & {(slot["starts_at"], slot["assigned_to"]) for slot in offered}
            slot = offered[0]
            response = await book(
                qb, lead, slot["starts_at"], slot["ends_at"], assigned_to=slot["assigned_to"]
            )
            assert response.status_code == 201, (slot, response.json())
            booked.add((slot["starts_at"], slot["assigned_to"]))
