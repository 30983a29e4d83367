"""The IntakeQ Appointments API through HTTP: every endpoint, filter and rule, the webhooks both vendor
surfaces send about one appointment, reminders sent by the worker and the client's confirmation email."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from clinicore.app import create_app
from clinicore.core.models import (
    ApiKeyKind,
    AppointmentReminder,
    AppointmentStatus,
    OutboundEmail,
    OutboundSms,
    ReminderStatus,
)
from clinicore.core.scheduling import booking, reminders
from clinicore.core.scheduling.schemas import AppointmentChanges, BookingRequest
from clinicore.runtime import Runtime
from clinicore.worker.emails import send_queued_emails
from clinicore.worker.reminders import send_due_reminders
from tests.core.events.receiver import Receiver, running_receiver
from tests.core.events.smtp_sink import SmtpSink, running_smtp_sink
from tests.factories import create_key, create_lead, run_webhook_jobs
from tests.support import remember_secret
from tests.surfaces.intakeq.appointment_support import NOW, Practice, appointment_uuid, at, open_practice


@pytest.fixture
async def iq(runtime: Runtime) -> AsyncIterator[Practice]:
    async for opened in open_practice(runtime):
        yield opened


@pytest.fixture
async def other(runtime: Runtime) -> AsyncIterator[Practice]:
    async for opened in open_practice(runtime):
        yield opened


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with running_smtp_sink() as sink:
        yield sink


def message(response: httpx.Response) -> str:
    text: str = response.json()["Message"]
    return text


class TestSettings:
    async def test_lists_locations_under_both_spellings_services_and_practitioners(
        self, iq: Practice
    ) -> None:
        response = await iq.get("/appointments/settings")
        assert response.status_code == 200, response.text
        body = response.json()
        location = {
            "Id": str(iq.location.number),
            "Name": "Main Office",
            "Address": body["Locations"][0]["Address"],
        }
        assert body["Locations"] == body["Locatons"] == [location]
        assert "123 Main Street" in location["Address"]
        assert body["Services"] == [
            {"Id": str(iq.follow_up.id), "Name": "Follow Up", "Duration": 30, "Price": 100.0},
            {"Id": str(iq.initial.id), "Name": "Initial Consultation", "Duration": 60, "Price": 200.0},
        ]
        [practitioner] = body["Practitioners"]
        assert practitioner["Id"] == iq.practitioner.id.hex
        assert practitioner["CompleteName"] == "Dexter Morgan"
        assert practitioner["Email"] == iq.practitioner.email

    async def test_needs_the_practice_key(self, iq: Practice) -> None:
        response = await iq.http.get("/intakeq/api/v1/appointments/settings")
        assert response.status_code == 401


class TestCreate:
    async def test_answers_the_full_appointment_object(self, iq: Practice) -> None:
        body = await iq.book(UtcDateTime=at(4, 10))
        assert body["ClientId"] == iq.patient.number
        assert body["ClientName"] == "Rita Bennett"
        assert body["ClientEmail"] == iq.patient.email
        assert body["ClientPhone"] == "+12125550123"
        assert body["Status"] == "Confirmed"
        assert body["StartDate"] == at(4, 10)
        assert body["EndDate"] == at(4, 11)
        assert body["Duration"] == 60
        assert body["StartDateIso"] == "2031-03-04T15:00:00.000Z"
        assert body["EndDateIso"] == "2031-03-04T16:00:00.000Z"
        assert body["StartDateLocal"] == "2031-03-04T10:00:00"
        assert body["EndDateLocal"] == "2031-03-04T11:00:00"
        assert body["StartDateLocalFormatted"] == "Tuesday, March 4, 2031 10:00 AM"
        assert body["ServiceName"] == "Initial Consultation"
        assert body["ServiceId"] == str(iq.initial.id)
        assert body["LocationName"] == "Main Office" and body["LocationId"] == iq.location.number
        assert body["Price"] == 200.0
        assert body["PractitionerId"] == iq.practitioner.id.hex
        assert body["PractitionerName"] == "Dexter Morgan"
        assert body["PractitionerEmail"] == iq.practitioner.email
        assert body["DateCreated"] == int(NOW.timestamp() * 1000)
        assert body["BookedByClient"] is False and body["CreatedBy"] == "Dexter Morgan"
        assert body["IntakeId"] is None and body["TelehealthInfo"] is None
        assert body["AppointmentPackageId"] is None and body["AppointmentPackageName"] is None
        assert body["Procedures"] == [] and body["AdditionalClients"] == []
        assert len(body["Id"]) == 32

        again = await iq.get(f"/appointments/{body['Id']}")
        assert again.status_code == 200 and again.json() == body

    async def test_every_field_is_mandatory_and_the_400_lists_the_missing_ones(self, iq: Practice) -> None:
        response = await iq.post("/appointments", {"ClientId": iq.patient.number})
        assert response.status_code == 400
        assert message(response) == (
            "missing required fields: PractitionerId, ServiceId, LocationId, Status, UtcDateTime, "
            "SendClientEmailNotification, ReminderType"
        )
        assert (await iq.get("/appointments")).json() == []

    async def test_a_notification_needs_status_confirmed(self, iq: Practice) -> None:
        response = await iq.post(
            "/appointments", iq.new_body(Status="WaitingConfirmation", SendClientEmailNotification=True)
        )
        assert response.status_code == 400 and "SendClientEmailNotification" in message(response)
        waiting = await iq.book(Status="WaitingConfirmation")
        assert waiting["Status"] == "WaitingConfirmation"

    async def test_the_time_falls_on_a_five_minute_boundary(self, iq: Practice) -> None:
        for off in (at(4, 10, 3), at(4, 10) + 1000, at(4, 10) + 1):
            response = await iq.post("/appointments", iq.new_body(UtcDateTime=off))
            assert response.status_code == 400 and message(response).startswith("UtcDateTime:"), response.text
        assert (await iq.post("/appointments", iq.new_body(UtcDateTime=at(4, 10, 5)))).status_code == 200

    async def test_the_core_rules_apply_and_nothing_is_booked_twice(self, iq: Practice) -> None:
        await iq.book(UtcDateTime=at(4, 10))
        overlapping = await iq.post("/appointments", iq.new_body(UtcDateTime=at(4, 10, 30)))
        assert overlapping.status_code == 400 and "already booked" in message(overlapping)
        closed = await iq.post("/appointments", iq.new_body(UtcDateTime=at(4, 21)))
        assert closed.status_code == 400
        assert message(closed) == "UtcDateTime: the slot is outside the practitioner's working hours"
        past = await iq.post("/appointments", iq.new_body(UtcDateTime=at(3, 8)))
        assert past.status_code == 400 and message(past).startswith("UtcDateTime:")
        assert len((await iq.get("/appointments")).json()) == 1

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("ClientId", 99999),
            ("ClientId", 2**40),
            ("ClientId", 0),
            ("PractitionerId", "f" * 32),
            ("ServiceId", "00000000-0000-0000-0000-000000000000"),
            ("ServiceId", "not-a-guid"),
            ("LocationId", "77"),
            ("LocationId", "main"),
            ("Status", "Declined"),
            ("ReminderType", "Pigeon"),
            ("UtcDateTime", "soon"),
            ("SendClientEmailNotification", "yes"),
        ],
    )
    async def test_a_bad_field_is_a_400_naming_it(self, iq: Practice, field: str, value: object) -> None:
        response = await iq.post("/appointments", iq.new_body(**{field: value}))
        assert response.status_code == 400, response.text
        assert field in message(response)

    async def test_another_practices_ids_are_unknown(self, iq: Practice, other: Practice) -> None:
        for field, value in (
            ("ClientId", other.patient.number + 10_000),
            ("PractitionerId", other.practitioner.id.hex),
            ("ServiceId", str(other.initial.id)),
        ):
            response = await iq.post("/appointments", iq.new_body(**{field: value}))
            assert response.status_code == 400 and field in message(response)

    async def test_a_body_that_is_not_json_is_a_400(self, iq: Practice) -> None:
        response = await iq.http.post(
            "/intakeq/api/v1/appointments",
            content=b"{not json",
            headers=iq.headers | {"content-type": "application/json"},
        )
        assert response.status_code == 400


class TestGet:
    async def test_unknown_malformed_and_other_practices_ids_are_404(
        self, iq: Practice, other: Practice
    ) -> None:
        theirs = await other.book()
        for reference in ("0" * 32, "nope", theirs["Id"]):
            response = await iq.get(f"/appointments/{reference}")
            assert response.status_code == 404, reference


class TestUpdate:
    async def test_a_new_time_rechecks_availability(self, iq: Practice) -> None:
        first = await iq.book(UtcDateTime=at(4, 10))
        second = await iq.book(UtcDateTime=at(4, 12))
        clash = await iq.put("/appointments", {"Id": second["Id"], "UtcDateTime": at(4, 10, 30)})
        assert clash.status_code == 400
        moved = await iq.put("/appointments", {"Id": second["Id"], "UtcDateTime": at(5, 9)})
        assert moved.status_code == 200, moved.text
        assert moved.json()["StartDate"] == at(5, 9) and moved.json()["Duration"] == 60
        assert (await iq.get(f"/appointments/{first['Id']}")).json()["StartDate"] == at(4, 10)

    async def test_id_and_time_are_mandatory(self, iq: Practice) -> None:
        response = await iq.put("/appointments", {"Status": "Confirmed"})
        assert response.status_code == 400 and message(response) == "missing required fields: Id, UtcDateTime"
        unknown = await iq.put("/appointments", {"Id": "0" * 32, "UtcDateTime": at(4, 10)})
        assert unknown.status_code == 400 and "Id" in message(unknown)

    async def test_confirmed_never_goes_back_to_waiting(self, iq: Practice) -> None:
        made = await iq.book(Status="WaitingConfirmation")
        confirmed = await iq.put(
            "/appointments", {"Id": made["Id"], "UtcDateTime": at(4, 10), "Status": "Confirmed"}
        )
        assert confirmed.status_code == 200 and confirmed.json()["Status"] == "Confirmed"
        back = await iq.put(
            "/appointments", {"Id": made["Id"], "UtcDateTime": at(4, 10), "Status": "WaitingConfirmation"}
        )
        assert back.status_code == 400 and "Status" in message(back)

    async def test_the_client_and_the_practitioner_cannot_change(self, iq: Practice) -> None:
        made = await iq.book()
        someone = await iq.add_client("Paul Smith")
        client = await iq.put(
            "/appointments", {"Id": made["Id"], "UtcDateTime": at(4, 10), "ClientId": someone.number}
        )
        assert client.status_code == 400 and "ClientId" in message(client)
        practitioner = await iq.put(
            "/appointments", {"Id": made["Id"], "UtcDateTime": at(4, 10), "PractitionerId": "a" * 32}
        )
        assert practitioner.status_code == 400 and "PractitionerId" in message(practitioner)
        same = await iq.put(
            "/appointments",
            {
                "Id": made["Id"],
                "UtcDateTime": at(4, 10),
                "ClientId": iq.patient.number,
                "PractitionerId": iq.practitioner.id.hex,
            },
        )
        assert same.status_code == 200

    async def test_a_new_service_takes_its_duration_and_price(self, iq: Practice) -> None:
        made = await iq.book()
        changed = await iq.put(
            "/appointments", {"Id": made["Id"], "UtcDateTime": at(4, 10), "ServiceId": str(iq.follow_up.id)}
        )
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert (body["ServiceName"], body["Duration"], body["Price"], body["EndDate"]) == (
            "Follow Up",
            30,
            100.0,
            at(4, 10, 30),
        )


class TestCancel:
    async def test_cancels_with_a_reason_and_twice_is_a_400(self, iq: Practice) -> None:
        made = await iq.book()
        cancelled = await iq.post(
            "/appointments/cancellation", {"AppointmentId": made["Id"], "Reason": "ill"}
        )
        assert cancelled.status_code == 200 and cancelled.json()["Status"] == "Canceled"
        twice = await iq.post("/appointments/cancellation", {"AppointmentId": made["Id"]})
        assert twice.status_code == 400 and "already canceled" in message(twice)
        unknown = await iq.post("/appointments/cancellation", {"AppointmentId": "0" * 32})
        assert unknown.status_code == 400
        missing = await iq.post("/appointments/cancellation", {})
        assert missing.status_code == 400 and "AppointmentId" in message(missing)
        rebooked = await iq.post("/appointments", iq.new_body())
        assert rebooked.status_code == 200  # the time is free again


class TestQuery:
    async def test_filters(self, iq: Practice) -> None:
        paul = await iq.add_client("Paul Smith", email="paul.smith@gmail.com")
        ritas = await iq.book(UtcDateTime=at(4, 10))
        pauls = await iq.book(UtcDateTime=at(6, 10), ClientId=paul.number, Status="WaitingConfirmation")
        late = await iq.book(UtcDateTime=at(6, 19, 30), ClientId=paul.number, ServiceId=str(iq.follow_up.id))

        def ids(response: httpx.Response) -> list[str]:
            assert response.status_code == 200, response.text
            return [item["Id"] for item in response.json()]

        assert ids(await iq.get("/appointments")) == [late["Id"], pauls["Id"], ritas["Id"]]  # newest first
        assert ids(await iq.get("/appointments", client="paul")) == [late["Id"], pauls["Id"]]
        assert ids(await iq.get("/appointments", client="PAUL.SMITH@gmail.com")) == [late["Id"], pauls["Id"]]
        assert ids(await iq.get("/appointments", client="Bennett")) == [ritas["Id"]]
        assert ids(await iq.get("/appointments", client="%")) == []
        # Dates are the practice's: 19:30 on the 6th in New York is the 7th in UTC.
        assert ids(await iq.get("/appointments", startDate="2031-03-06", endDate="2031-03-06")) == [
            late["Id"],
            pauls["Id"],
        ]
        assert ids(await iq.get("/appointments", endDate="2031-03-05")) == [ritas["Id"]]
        assert ids(await iq.get("/appointments", status="WaitingConfirmation")) == [pauls["Id"]]
        assert ids(await iq.get("/appointments", status="confirmed")) == [late["Id"], ritas["Id"]]
        assert ids(await iq.get("/appointments", practitionerEmail=iq.practitioner.email or "")) == ids(
            await iq.get("/appointments")
        )
        assert ids(await iq.get("/appointments", practitionerEmail="nobody@example.com")) == []
        assert ids(await iq.get("/appointments", STATUS="Missed", unknown="x")) == []

        item = (await iq.get("/appointments", client="Bennett")).json()[0]
        assert set(item) >= {
            "Id",
            "ClientName",
            "ClientEmail",
            "ClientPhone",
            "ClientDateOfBirth",
            "ClientId",
            "Status",
            "StartDate",
            "EndDate",
            "Duration",
            "Service",
            "Location",
            "Price",
            "PractitionerEmail",
            "PractitionerName",
            "DateCreated",
            "IntakeId",
            "ExternalClientId",
            "BookedByClient",
            "CreatedBy",
            "StartDateIso",
            "EndDateIso",
            "StartDateLocal",
            "EndDateLocal",
            "StartDateLocalFormatted",
        }
        assert item["Service"] == "Initial Consultation" and item["Location"] == "Main Office"

    async def test_updated_since(self, iq: Practice) -> None:
        old = await iq.book(UtcDateTime=at(4, 10))
        iq.clock.advance(timedelta(days=2))
        newer = await iq.book(UtcDateTime=at(7, 10))
        assert [a["Id"] for a in (await iq.get("/appointments", updatedSince="2031-03-05")).json()] == [
            newer["Id"]
        ]
        assert len((await iq.get("/appointments", updatedSince="2031-03-03")).json()) == 2
        assert old["Id"]

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("startDate", "03/04/2031"),
            ("endDate", "2031-13-01"),
            ("updatedSince", "9999-01-01"),
            ("status", "Lost"),
            ("page", "0x"),
            ("deletedOnly", "maybe"),
        ],
    )
    async def test_a_bad_parameter_is_a_400(self, iq: Practice, name: str, value: str) -> None:
        response = await iq.get("/appointments", **{name: value})
        assert response.status_code == 400 and name in message(response)

    async def test_pages_of_100_over_250_appointments(self, iq: Practice) -> None:
        async with iq.runtime.sessions() as session, session.begin():
            for index in range(250):
                day, slot = divmod(index, 22)  # 08:00 to 18:30 EST (09:00 to 19:30 EDT), half-hourly
                starts = NOW + timedelta(days=1 + day, hours=slot // 2, minutes=30 * (slot % 2))
                await booking.book_appointment(
                    session,
                    clinic_id=iq.clinic.id,
                    request=BookingRequest(
                        starts_at=starts,
                        practitioner_id=iq.practitioner.id,
                        client_id=iq.patient.id,
                        service_id=iq.follow_up.id,
                    ),
                    source="console",
                    clock=iq.clock,
                )
        pages = [(await iq.get("/appointments", page=str(page))).json() for page in (1, 2, 3, 4)]
        assert [len(page) for page in pages] == [100, 100, 50, 0]
        everything = [item for page in pages for item in page]
        assert len({item["Id"] for item in everything}) == 250
        starts = [item["StartDate"] for item in everything]
        assert starts == sorted(starts, reverse=True)
        assert (await iq.get("/appointments")).json() == pages[0]

    async def test_deleted_only_inside_ten_days_then_never(self, iq: Practice) -> None:
        kept = await iq.book(UtcDateTime=at(4, 10))
        gone = await iq.book(UtcDateTime=at(4, 12))
        async with iq.runtime.sessions() as session, session.begin():
            await booking.delete_appointment(
                session, clinic_id=iq.clinic.id, appointment_id=appointment_uuid(gone["Id"]), clock=iq.clock
            )
        assert [a["Id"] for a in (await iq.get("/appointments")).json()] == [kept["Id"]]
        assert (await iq.get(f"/appointments/{gone['Id']}")).status_code == 404
        iq.clock.advance(timedelta(days=9, hours=23))
        assert [a["Id"] for a in (await iq.get("/appointments", deletedOnly="true")).json()] == [gone["Id"]]
        iq.clock.advance(timedelta(hours=1))
        assert (await iq.get("/appointments", deletedOnly="true")).json() == []
        assert [a["Id"] for a in (await iq.get("/appointments")).json()] == [kept["Id"]]


async def endpoint(iq: Practice, url: str, format: str, events: list[str] | None = None) -> None:
    key = await create_key(iq.runtime, iq.clinic)
    body: dict[str, object] = {"format": format, "url": url}
    if events is not None:
        body["events"] = events
    made = await iq.http.post("/api/webhook-endpoints", headers={"Authorization": f"Bearer {key}"}, json=body)
    assert made.status_code == 201, made.text
    remember_secret(made.json()["secret"])


class TestWebhooks:
    async def test_an_intakeq_endpoint_hears_every_appointment_event(
        self, iq: Practice, receiver: Receiver
    ) -> None:
        await endpoint(iq, receiver.url(), "intakeq")
        made = await iq.book(Status="WaitingConfirmation")
        await iq.put("/appointments", {"Id": made["Id"], "UtcDateTime": at(4, 10), "Status": "Confirmed"})
        await iq.put("/appointments", {"Id": made["Id"], "UtcDateTime": at(4, 14)})
        await iq.post("/appointments/cancellation", {"AppointmentId": made["Id"]})
        declined = await iq.book(Status="WaitingConfirmation", UtcDateTime=at(5, 10))
        missed = await iq.book(UtcDateTime=at(5, 12))
        async with iq.runtime.sessions() as session, session.begin():
            await booking.update_appointment(
                session,
                clinic_id=iq.clinic.id,
                appointment_id=appointment_uuid(declined["Id"]),
                changes=AppointmentChanges(status=AppointmentStatus.declined),
                clock=iq.clock,
            )
            await booking.update_appointment(
                session,
                clinic_id=iq.clinic.id,
                appointment_id=appointment_uuid(missed["Id"]),
                changes=AppointmentChanges(status=AppointmentStatus.missed),
                clock=iq.clock,
            )
            await booking.delete_appointment(
                session, clinic_id=iq.clinic.id, appointment_id=appointment_uuid(missed["Id"]), clock=iq.clock
            )
        while await run_webhook_jobs(iq.runtime, iq.clinic):
            pass
        bodies = [webhook.json() for webhook in receiver.received]
        # Deliveries may arrive in any order: each is named by its appointment and event type.
        heard = sorted((body["Appointment"]["Id"], body["EventType"]) for body in bodies)
        assert heard == sorted(
            [
                (made["Id"], "AppointmentCreated"),
                (made["Id"], "AppointmentConfirmed"),
                (made["Id"], "AppointmentRescheduled"),
                (made["Id"], "AppointmentCanceled"),
                (declined["Id"], "AppointmentCreated"),
                (declined["Id"], "AppointmentDeclined"),
                (missed["Id"], "AppointmentCreated"),
                (missed["Id"], "AppointmentMissed"),
                (missed["Id"], "AppointmentDeleted"),
            ]
        )
        by_type = {(body["Appointment"]["Id"], body["EventType"]): body for body in bodies}
        created = by_type[(made["Id"], "AppointmentCreated")]
        assert created["ActionPerformedByClient"] is False
        assert created["ClientId"] == iq.patient.number
        assert created["PracticeId"] == iq.clinic.practice_id
        assert set(created) == {
            "EventType",
            "ActionPerformedByClient",
            "Appointment",
            "ClientId",
            "PracticeId",
            "ExternalPracticeId",
            "ExternalClientId",
        }
        cancelled = by_type[(made["Id"], "AppointmentCanceled")]
        assert cancelled["Appointment"] == (await iq.get(f"/appointments/{made['Id']}")).json()
        assert by_type[(made["Id"], "AppointmentRescheduled")]["Appointment"]["StartDate"] == at(4, 14)
        assert by_type[(made["Id"], "AppointmentConfirmed")]["Appointment"]["Status"] == "Confirmed"

    async def test_a_qualifybase_booking_is_seen_here_and_fires_appointment_created(
        self, iq: Practice, receiver: Receiver
    ) -> None:
        await endpoint(iq, receiver.url(), "intakeq", ["appointment.created"])
        qb_key = await create_key(iq.runtime, iq.clinic, ApiKeyKind.qualifybase)
        lead = await create_lead(iq.runtime, iq.clinic, full_name="Lena Park", email="lena.park@example.com")
        transport = httpx.ASGITransport(app=create_app(iq.runtime))
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://testserver/qualifybase/api/v1",
            headers={"Authorization": f"Bearer {qb_key}"},
        ) as qb:
            booked = await qb.post(
                "/appointments",
                json={
                    "lead_id": str(lead.id),
                    "scheduled_at": "2031-03-04T17:00:00Z",
                    "ends_at": "2031-03-04T17:30:00Z",
                    "title": "Consultation",
                },
            )
        assert booked.status_code == 201, booked.text
        appointment_id = booked.json()["id"]
        [listed] = (await iq.get("/appointments", client="lena")).json()
        assert listed["Id"] == appointment_uuid(appointment_id).hex
        assert listed["ClientName"] == "Lena Park" and listed["StartDateLocal"] == "2031-03-04T12:00:00"
        while await run_webhook_jobs(iq.runtime, iq.clinic):
            pass
        [webhook] = receiver.received
        assert webhook.json()["EventType"] == "AppointmentCreated"
        assert webhook.json()["Appointment"]["Id"] == listed["Id"]
        assert webhook.json()["ClientId"] == listed["ClientId"]

    async def test_an_intakeq_cancellation_fires_qualifybase_appointment_cancelled(
        self, iq: Practice, receiver: Receiver
    ) -> None:
        await endpoint(iq, receiver.url(), "qualifybase", ["appointment.cancelled"])
        made = await iq.book()
        await iq.post("/appointments/cancellation", {"AppointmentId": made["Id"], "Reason": "moved away"})
        while await run_webhook_jobs(iq.runtime, iq.clinic):
            pass
        [webhook] = receiver.received
        body = webhook.json()
        assert body["type"] == "appointment.cancelled"
        assert body["data"]["appointment"]["id"] == str(appointment_uuid(made["Id"]))
        assert body["data"]["appointment"]["status"] == "cancelled"

    async def test_a_client_booking_is_performed_by_the_client(
        self, iq: Practice, receiver: Receiver
    ) -> None:
        await endpoint(iq, receiver.url(), "intakeq")
        async with iq.runtime.sessions() as session, session.begin():
            await booking.book_appointment(
                session,
                clinic_id=iq.clinic.id,
                request=BookingRequest(
                    starts_at=NOW + timedelta(days=1, hours=2),
                    client_id=iq.patient.id,
                    service_id=iq.initial.id,
                    booked_by_client=True,
                    created_by="Rita Bennett",
                ),
                source="booking",
                clock=iq.clock,
            )
        while await run_webhook_jobs(iq.runtime, iq.clinic):
            pass
        [webhook] = receiver.received
        assert webhook.json()["ActionPerformedByClient"] is True
        assert webhook.json()["Appointment"]["BookedByClient"] is True
        assert webhook.json()["Appointment"]["CreatedBy"] == "Rita Bennett"


async def reminders_of(iq: Practice, wire_id: str) -> list[AppointmentReminder]:
    async with iq.runtime.sessions() as session:
        return list(await reminders.reminders_of(session, appointment_id=appointment_uuid(wire_id)))


async def run_reminders(iq: Practice) -> int:
    async with iq.runtime.sessions() as session, session.begin():
        return await send_due_reminders(session, iq.runtime)


class TestReminders:
    async def test_sms_email_and_voice_reminders_go_24_hours_before(self, iq: Practice) -> None:
        emailed = await iq.book(UtcDateTime=at(5, 10), ReminderType="Email")
        texted = await iq.book(UtcDateTime=at(5, 12), ReminderType="Sms")
        called = await iq.book(UtcDateTime=at(5, 14), ReminderType="Voice")
        quiet = await iq.book(UtcDateTime=at(5, 16), ReminderType="OptOut")
        assert await reminders_of(iq, quiet["Id"]) == []
        [pending] = await reminders_of(iq, emailed["Id"])
        assert pending.due_at.timestamp() * 1000 == at(4, 10)

        iq.clock.set(pending.due_at - timedelta(minutes=1))
        await run_reminders(iq)
        assert [r.status for r in await reminders_of(iq, emailed["Id"])] == [ReminderStatus.pending]

        iq.clock.set(pending.due_at + timedelta(hours=5))  # all three are due now
        await run_reminders(iq)
        [email_reminder] = await reminders_of(iq, emailed["Id"])
        [sms_reminder] = await reminders_of(iq, texted["Id"])
        [voice_reminder] = await reminders_of(iq, called["Id"])
        assert email_reminder.status == sms_reminder.status == ReminderStatus.sent
        assert voice_reminder.status == ReminderStatus.not_sent
        assert voice_reminder.detail == reminders.NO_VOICE_PROVIDER
        async with iq.runtime.sessions() as session:
            emails = (
                await session.scalars(
                    select(OutboundEmail).where(OutboundEmail.to_address == iq.patient.email)
                )
            ).all()
            texts = (
                await session.scalars(select(OutboundSms).where(OutboundSms.clinic_id == iq.clinic.id))
            ).all()
        [email] = emails
        assert "Wednesday, March 5, 2031 at 10:00 AM EST" in email.body and "UTC" not in email.body
        [text] = texts
        assert text.to_number == "+12125550123" and "12:00 PM EST" in text.body

    async def test_a_reschedule_moves_the_reminder_and_a_cancellation_drops_it(self, iq: Practice) -> None:
        made = await iq.book(UtcDateTime=at(6, 10), ReminderType="Sms")
        await iq.put("/appointments", {"Id": made["Id"], "UtcDateTime": at(7, 9)})
        planned = await reminders_of(iq, made["Id"])
        assert [(r.status, r.due_at.timestamp() * 1000) for r in planned] == [
            (ReminderStatus.dropped, at(5, 10)),
            (ReminderStatus.pending, at(6, 9)),
        ]
        changed = await iq.put(
            "/appointments", {"Id": made["Id"], "UtcDateTime": at(7, 9), "ReminderType": "OptOut"}
        )
        assert changed.status_code == 200
        assert [r.status for r in await reminders_of(iq, made["Id"])] == [ReminderStatus.dropped] * 2
        await iq.put("/appointments", {"Id": made["Id"], "UtcDateTime": at(7, 9), "ReminderType": "Email"})
        await iq.post("/appointments/cancellation", {"AppointmentId": made["Id"]})
        assert [r.status for r in await reminders_of(iq, made["Id"])] == [ReminderStatus.dropped] * 3
        iq.clock.set(NOW + timedelta(days=10))
        assert await run_reminders(iq) >= 0
        assert [r.status for r in await reminders_of(iq, made["Id"])] == [ReminderStatus.dropped] * 3


class TestConfirmationEmail:
    async def test_local_time_brand_and_ics_over_real_smtp(self, iq: Practice, smtp_sink: SmtpSink) -> None:
        # After the DST change (Sunday the 9th): 10:00 in New York is EDT, 14:00 UTC.
        made = await iq.book(UtcDateTime=at(11, 10), SendClientEmailNotification=True)
        assert made["StartDateIso"] == "2031-03-11T14:00:00.000Z"
        runtime = dataclasses.replace(
            iq.runtime,
            settings=iq.runtime.settings.model_copy(
                update={"smtp_host": "127.0.0.1", "smtp_port": smtp_sink.port}
            ),
        )
        while await send_queued_emails(runtime):
            pass
        [received] = smtp_sink.to(iq.patient.email or "")
        assert received.message["Subject"].startswith(f"Your appointment at {iq.clinic.name}")
        text = received.message.get_body(preferencelist=("plain",))
        assert text is not None
        content = str(text.get_content())
        assert "Tuesday, March 11, 2031 at 10:00 AM EDT" in content and "14:00" not in content
        assert "Initial Consultation with Dexter Morgan" in content and "Main Office" in content
        [attachment] = list(received.message.iter_attachments())
        assert attachment.get_filename() == "appointment.ics"
        assert attachment.get_content_type() == "text/calendar"
        ics = attachment.get_content()
        ics_text = ics.decode() if isinstance(ics, bytes) else str(ics)
        assert "BEGIN:VEVENT" in ics_text and "DTSTART:20310311T140000Z" in ics_text
        assert f"UID:{appointment_uuid(made['Id'])}@" in ics_text

    async def test_no_email_without_the_flag(self, iq: Practice) -> None:
        await iq.book()
        async with iq.runtime.sessions() as session:
            sent = (
                await session.scalars(
                    select(OutboundEmail).where(OutboundEmail.to_address == iq.patient.email)
                )
            ).all()
        assert sent == []
