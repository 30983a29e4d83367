"""Qualiphy webhooks end to end: a test-mode ``exam_invite`` through HTTP, the timers job and the
webhook jobs of the worker, a real loopback receiver. Events 1, 2, 3 arrive in order, with the right
fields, the echoed ``additional_data`` and the Standard Webhooks headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clinicore.app import create_app
from clinicore.core.events import service as events_service
from clinicore.core.models import Client, PatientExam, WebhookEndpoint
from clinicore.core.telehealth import lifecycle
from clinicore.core.telehealth.snapshots import consultation_document_url
from clinicore.kit.signing import secret_key
from clinicore.worker.telehealth import run_telehealth_timers
from tests.core.events.receiver import ReceivedWebhook, Receiver, running_receiver
from tests.factories import answer_all, run_webhook_jobs
from tests.surfaces.qualiphy.conftest import NOW, QualiphyClinic
from tests.surfaces.qualiphy.test_consultation_pdf import pdf_text
from tests.surfaces.qualiphy.test_golden_events import golden, same_shape

EVENT_1_FIELDS = {
    "event",
    "meeting_uuid",
    "patient_exam_id",
    "exam_id",
    "exam_name",
    "exam_status",
    "rx_status",
    "reason",
    "exam_url",
    "provider_name",
    "clinic_name",
    "patient_email",
    "patient_phone_number",
    "questions_answers",
    "additional_data",
}
ITEM_FIELDS = {
    "drug_details",
    "quantity",
    "quantity_units",
    "refill_amount",
    "duration_days",
    "directions",
    "schedule_code",
}
EVENT_2_FIELDS = EVENT_1_FIELDS | ITEM_FIELDS | {"prescription", "prescription_id", "pharmacy_name"}
EVENT_3_FIELDS = EVENT_2_FIELDS | {
    "prescription_tracking",
    "tracking_number",
    "delivery_service",
    "created_at",
}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


def te_invite_body(exam_id: int, name: str, receiver: Receiver, **extra: Any) -> dict[str, Any]:
    first, last = name.split(" ", 1)
    return {
        "exams": [exam_id],
        "first_name": first,
        "last_name": last,
        "email": "test.patient@patients.example.com",
        "dob": "1990-06-30",
        "phone_number": "+15552223232",
        "state": "TE",
        "tele_state": "TE",
        "webhook_url": receiver.url("/qualiphy-hooks"),
        **extra,
    }


async def invite(qp: QualiphyClinic, body: dict[str, Any]) -> dict[str, Any]:
    response = await qp.post("exam_invite", **body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def step_and_deliver(qp: QualiphyClinic, receiver: Receiver, *, expect: int) -> None:
    """Move one test-provider delay on, run the timers job, then the webhook jobs."""
    qp.clock.advance(timedelta(seconds=qp.runtime.settings.test_provider_delay_seconds))
    while True:
        async with qp.runtime.sessions() as session, session.begin():
            if not await run_telehealth_timers(session, qp.runtime):
                break
    await run_webhook_jobs(qp.runtime, qp.arranged.clinic)
    await receiver.wait_for(expect)


async def endpoint_secret(qp: QualiphyClinic, endpoint_id: Any) -> str:
    async with qp.runtime.sessions() as session:
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        return events_service.reveal_secret(qp.runtime.box, endpoint)


def assert_signed(webhook: ReceivedWebhook, secret: str) -> None:
    headers = webhook.headers
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"]
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + webhook.body
    expected = base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode()
    assert f"v1,{expected}" in headers["webhook-signature"].split(" ")


async def run_to_the_end(
    qp: QualiphyClinic, receiver: Receiver, exam_id: int, name: str, *, events: int, **extra: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    invited = await invite(qp, te_invite_body(exam_id, name, receiver, **extra))
    for count in range(1, events + 1):
        await step_and_deliver(qp, receiver, expect=count)
    # Nothing more comes, however long we wait.
    qp.clock.advance(timedelta(hours=1))
    await step_and_deliver(qp, receiver, expect=events)
    assert len(receiver.received) == events
    return invited, [webhook.json() for webhook in receiver.received]


class TestSingleEventOutcomes:
    @pytest.mark.parametrize(
        ("name", "exam", "status", "rx_status"),
        [
            ("Test Approve", "botox", "Approved", "Not Applicable"),
            ("Test Reject", "botox", "Rejected", "Not Applicable"),
            ("Test N/A", "filler", "NA", "Not Applicable"),
            ("Test Prescription Reject", "glp1", "Rejected", "Not Prescribed"),
            ("Test GFE Approve", "glp1", "Approved", "Pending"),
            ("Test Prescription Approve", "botox", "Approved", "Not Applicable"),  # on a GFE: approve
        ],
    )
    async def test_event_1_only(
        self, qp: QualiphyClinic, receiver: Receiver, name: str, exam: str, status: str, rx_status: str
    ) -> None:
        exam_row = getattr(qp.catalog, exam)
        invited, bodies = await run_to_the_end(
            qp, receiver, exam_row.id, name, events=1, additional_data='{"order_id":"A-1001"}'
        )
        [body] = bodies
        assert set(body) == EVENT_1_FIELDS
        assert body["event"] == 1
        assert body["patient_exam_id"] == invited["patient_exams"][0]["patient_exam_id"]
        assert (body["exam_id"], body["exam_name"]) == (exam_row.id, exam_row.title)
        assert (body["exam_status"], body["rx_status"]) == (status, rx_status)
        assert body["additional_data"] == '{"order_id":"A-1001"}'  # a string stays a string
        assert body["clinic_name"] == "Glow Medspa"
        assert body["patient_email"] == "test.patient@patients.example.com"
        assert body["patient_phone_number"] == "+15552223232"
        assert body["provider_name"].startswith("Test Provider")
        assert body["reason"].startswith("Test mode:")
        assert body["exam_url"].startswith(
            f"http://testserver/documents/consultations/{body['patient_exam_id']}.pdf?"
        )
        assert [row["no"] for row in body["questions_answers"]] == list(
            range(1, len(body["questions_answers"]) + 1)
        )
        assert all(row["answer"] == "" for row in body["questions_answers"])  # the patient answered nothing


class TestPrescriptionApprove:
    async def test_events_1_2_3_in_order_signed_with_the_object_additional_data_echoed(
        self, qp: QualiphyClinic, receiver: Receiver
    ) -> None:
        additional = {"order_id": "A-1002", "items": [1, 2], "nested": {"ok": True}}
        invited, bodies = await run_to_the_end(
            qp,
            receiver,
            qp.catalog.glp1.id,
            "Test Prescription Approve",
            events=3,
            additional_data=additional,
        )
        _, second, third = bodies
        assert [body["event"] for body in bodies] == [1, 2, 3]
        assert [set(body) for body in bodies] == [EVENT_1_FIELDS, EVENT_2_FIELDS, EVENT_3_FIELDS]
        assert all(body["additional_data"] == additional for body in bodies)  # an object stays an object
        patient_exam_id = invited["patient_exams"][0]["patient_exam_id"]
        assert {body["patient_exam_id"] for body in bodies} == {patient_exam_id}
        assert [body["rx_status"] for body in bodies] == ["Pending", "Pharmacy Confirmed", "Shipped"]
        assert {body["exam_status"] for body in bodies} == {"Approved"}
        for number, body in enumerate(bodies, start=1):
            expected = {key: value for key, value in golden(number).items() if key != "additional_data"}
            same_shape({key: value for key, value in body.items() if key != "additional_data"}, expected)

        # No partner pharmacy serves the test catalog: a clearly-marked test item at the test pharmacy.
        [item] = second["prescription"]
        assert item["drug_details"]["drug_name"] == "TEST ITEM - not a real prescription"
        assert {name: second[name] for name in ITEM_FIELDS} == item
        assert second["pharmacy_name"] == "Clinicore Test Pharmacy"
        assert item["quantity"] == 1

        [tracking] = third["prescription_tracking"]
        assert tracking["tracking_number"] == f"TEST{patient_exam_id:010d}"
        assert (third["tracking_number"], third["delivery_service"]) == (
            tracking["tracking_number"],
            tracking["delivery_service"],
        )
        assert tracking["ship_carrier"] == "TEST"
        assert tracking["pharmacy_location"] == "Clinicore Test Pharmacy"

        async with qp.runtime.sessions() as session:
            endpoint = await session.scalar(
                select(WebhookEndpoint).where(WebhookEndpoint.bound_aggregate_id == invited["meeting_uuid"])
            )
            assert endpoint is not None
        secret = await endpoint_secret(qp, endpoint.id)
        for webhook in receiver.received:
            assert webhook.path == "/qualiphy-hooks"
            assert_signed(webhook, secret)
        assert len(set(receiver.ids())) == 3

    async def test_without_additional_data_the_field_is_null(
        self, qp: QualiphyClinic, receiver: Receiver
    ) -> None:
        _, [body] = await run_to_the_end(qp, receiver, qp.catalog.botox.id, "Test Approve", events=1)
        assert body["additional_data"] is None
        assert json.loads(receiver.received[0].body)["additional_data"] is None


class TestMissed:
    async def test_a_live_exam_nobody_takes_in_3_minutes_sends_event_1_missed(
        self, qp: QualiphyClinic, receiver: Receiver
    ) -> None:
        body = te_invite_body(qp.catalog.filler.id, "Jane Doe", receiver, state="NY", tele_state="NY")
        invited = await invite(qp, body)
        patient_exam_id = invited["patient_exams"][0]["patient_exam_id"]
        async with qp.runtime.sessions() as session:
            patient_exam = await session.get(PatientExam, patient_exam_id)
            assert patient_exam is not None
        await answer_all(qp.runtime, patient_exam)
        async with qp.runtime.sessions() as session, session.begin():
            await lifecycle.join_waiting_room(
                session,
                meeting_id=uuid.UUID(invited["meeting_uuid"]),
                patient_exam_id=patient_exam_id,
                clock=qp.runtime.clock,
            )
        qp.clock.advance(timedelta(minutes=3))
        async with qp.runtime.sessions() as session, session.begin():
            await run_telehealth_timers(session, qp.runtime)
        await run_webhook_jobs(qp.runtime, qp.arranged.clinic)
        await receiver.wait_for(1)

        [webhook] = receiver.received
        sent = webhook.json()
        assert set(sent) == EVENT_1_FIELDS
        assert (sent["event"], sent["patient_exam_id"]) == (1, patient_exam_id)
        assert (sent["exam_status"], sent["provider_name"]) == ("Missed", None)
        assert sent["reason"] == "No provider was available within 3 minutes."
        assert sent["questions_answers"] == [
            {"no": 1, "question": "Are you currently pregnant or breastfeeding?", "answer": "Yes"}
        ]


class TestWhatRealIntegrationsSend:
    """Behaviours of public Qualiphy integrations run against us with only the base URL changed."""

    async def test_one_sample_phone_for_every_patient_keeps_each_patient_and_their_webhooks_apart(
        self, qp: QualiphyClinic, receiver: Receiver
    ) -> None:
        emails = [f"patient{number}@patients.example.com" for number in range(5)]
        invited = [
            await invite(qp, te_invite_body(qp.catalog.botox.id, "Test Approve", receiver, email=email))
            for email in emails
        ]
        await step_and_deliver(qp, receiver, expect=5)

        by_exam = {
            body["patient_exam_id"]: body for body in (webhook.json() for webhook in receiver.received)
        }
        for email, sent in zip(emails, invited, strict=True):
            body = by_exam[sent["patient_exams"][0]["patient_exam_id"]]
            assert (body["patient_email"], body["patient_phone_number"]) == (email, "+15552223232")
            assert body["meeting_uuid"] == sent["meeting_uuid"]
        async with qp.runtime.sessions() as session:
            clients = (
                await session.scalars(select(Client).where(Client.clinic_id == qp.arranged.clinic.id))
            ).all()
        assert sorted(client.email or "" for client in clients) == emails

    async def test_a_family_sharing_a_phone_gets_each_consultation_pdf_in_its_own_name(
        self, qp: QualiphyClinic, receiver: Receiver
    ) -> None:
        family = [("Jane", "Doe", "jane@family.example.com"), ("John", "Doe", "john@family.example.com")]
        invited = []
        for first, last, email in family:
            body = te_invite_body(qp.catalog.botox.id, "Jane Doe", receiver, state="NY", tele_state="NY")
            invited.append(await invite(qp, {**body, "first_name": first, "last_name": last, "email": email}))
        transport = httpx.ASGITransport(app=create_app(qp.runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as site:
            for (first, last, _email), sent in zip(family, invited, strict=True):
                url = consultation_document_url(
                    qp.runtime.links, patient_exam_id=sent["patient_exams"][0]["patient_exam_id"], now=NOW
                )
                response = await site.get(url.removeprefix("http://testserver"))
                assert response.status_code == 200
                text = pdf_text(response.content)
                assert f"{first} {last}".encode() in text
                other = "John" if first == "Jane" else "Jane"
                assert f"{other} {last}".encode() not in text

    async def test_tele_state_te_without_state_runs_the_test_exam_to_its_webhook(
        self, qp: QualiphyClinic, receiver: Receiver
    ) -> None:
        body = te_invite_body(qp.catalog.botox.id, "Test Approve", receiver)
        del body["state"]
        invited = await invite(qp, body)
        await step_and_deliver(qp, receiver, expect=1)
        [webhook] = receiver.received
        sent = webhook.json()
        assert (sent["event"], sent["exam_status"]) == (1, "Approved")
        assert (sent["meeting_uuid"], sent["patient_exam_id"]) == (
            invited["meeting_uuid"],
            invited["patient_exams"][0]["patient_exam_id"],
        )
