"""A clinic's own Qualiphy webhook endpoint, registered once through the native API as an integration
configures one URL in Qualiphy's portal: it receives events 1/2/3 of every exam of the clinic, including
invites sent without a ``webhook_url``; an invite's ``webhook_url`` at the same URL does not double them.
Driven like test_webhooks.py: test-mode invites through HTTP, the worker's jobs, a loopback receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from clinicore.core.telehealth.events import INVITE_WEBHOOK_EVENT_TYPES
from tests.core.events.receiver import Receiver, running_receiver
from tests.factories import create_key, run_webhook_jobs
from tests.support import remember_secret
from tests.surfaces.qualiphy.conftest import QualiphyClinic
from tests.surfaces.qualiphy.test_webhooks import (
    EVENT_1_FIELDS,
    EVENT_2_FIELDS,
    EVENT_3_FIELDS,
    invite,
    step_and_deliver,
)

NATIVE_API = "http://testserver/api"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


async def native_post(qp: QualiphyClinic, key: str, path: str, **body: Any) -> Any:
    return await qp.client.post(f"{NATIVE_API}{path}", headers={"Authorization": f"Bearer {key}"}, json=body)


async def register_clinic_endpoint(qp: QualiphyClinic, url: str, **body: Any) -> dict[str, Any]:
    """What an integration does once: a qualiphy endpoint for the whole clinic, with a native key."""
    key = await create_key(qp.runtime, qp.arranged.clinic)
    response = await native_post(qp, key, "/webhook-endpoints", format="qualiphy", url=url, **body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    remember_secret(created["secret"])
    created["key"] = key
    return created


def invite_body(exam_id: int, name: str, **extra: Any) -> dict[str, Any]:
    """A test-mode invite (state TE): the test provider decides it by the patient's name."""
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
        **extra,
    }


async def run_to_the_end(qp: QualiphyClinic, receiver: Receiver, *, events: int) -> None:
    for count in range(1, events + 1):
        await step_and_deliver(qp, receiver, expect=count)
    # Nothing more comes, however long we wait.
    qp.clock.advance(timedelta(hours=1))
    await step_and_deliver(qp, receiver, expect=events)


async def test_an_invite_without_webhook_url_reaches_the_clinic_endpoint(
    qp: QualiphyClinic, receiver: Receiver
) -> None:
    await register_clinic_endpoint(qp, receiver.url("/portal-hook"))
    invited = await invite(qp, invite_body(qp.catalog.botox.id, "Test Approve"))

    await run_to_the_end(qp, receiver, events=1)

    [webhook] = receiver.received
    assert webhook.path == "/portal-hook"
    body = webhook.json()
    assert set(body) == EVENT_1_FIELDS
    assert (body["event"], body["exam_status"]) == (1, "Approved")
    assert body["patient_exam_id"] == invited["patient_exams"][0]["patient_exam_id"]
    assert body["exam_id"] == qp.catalog.botox.id
    assert webhook.headers["webhook-signature"].startswith("v1,")


async def test_events_1_2_3_of_a_prescription_reach_the_clinic_endpoint_in_order(
    qp: QualiphyClinic, receiver: Receiver
) -> None:
    await register_clinic_endpoint(qp, receiver.url("/portal-hook"))
    await invite(qp, invite_body(qp.catalog.glp1.id, "Test Prescription Approve"))

    await run_to_the_end(qp, receiver, events=3)

    bodies = [webhook.json() for webhook in receiver.received]
    assert [body["event"] for body in bodies] == [1, 2, 3]
    assert [set(body) for body in bodies] == [EVENT_1_FIELDS, EVENT_2_FIELDS, EVENT_3_FIELDS]


async def test_the_same_url_on_the_invite_and_the_clinic_gets_one_delivery(
    qp: QualiphyClinic, receiver: Receiver
) -> None:
    url = receiver.url("/qualiphy-hooks")
    clinic_endpoint = await register_clinic_endpoint(qp, url)
    await invite(qp, invite_body(qp.catalog.glp1.id, "Test Prescription Approve", webhook_url=url))

    await run_to_the_end(qp, receiver, events=3)

    assert [webhook.json()["event"] for webhook in receiver.received] == [1, 2, 3]
    assert len(set(receiver.ids())) == 3
    # The invite's own endpoint sent them; the clinic's endpoint at the same URL sent nothing.
    attempts = await qp.client.get(
        f"{NATIVE_API}/webhook-endpoints/{clinic_endpoint['id']}/attempts",
        headers={"Authorization": f"Bearer {clinic_endpoint['key']}"},
    )
    assert attempts.status_code == 200
    assert attempts.json() == []


async def test_an_invite_webhook_url_elsewhere_and_the_clinic_endpoint_each_get_the_event(
    qp: QualiphyClinic, receiver: Receiver
) -> None:
    await register_clinic_endpoint(qp, receiver.url("/portal-hook"))
    await invite(
        qp, invite_body(qp.catalog.botox.id, "Test Approve", webhook_url=receiver.url("/invite-hook"))
    )

    await run_to_the_end(qp, receiver, events=2)

    assert sorted(webhook.path for webhook in receiver.received) == ["/invite-hook", "/portal-hook"]
    assert {webhook.json()["event"] for webhook in receiver.received} == {1}
    assert len(set(receiver.ids())) == 1  # one event, the same webhook-id at both


async def test_a_clinic_endpoint_gets_nothing_from_another_clinics_exams(
    qp: QualiphyClinic, other_qp: QualiphyClinic, receiver: Receiver
) -> None:
    await register_clinic_endpoint(qp, receiver.url("/ours"))
    await register_clinic_endpoint(other_qp, receiver.url("/theirs"))
    await invite(other_qp, invite_body(other_qp.catalog.botox.id, "Test Approve"))

    await run_to_the_end(other_qp, receiver, events=1)
    await run_webhook_jobs(qp.runtime, qp.arranged.clinic)

    assert [webhook.path for webhook in receiver.received] == ["/theirs"]


async def test_a_clinic_endpoint_for_event_1_only_gets_no_2_or_3(
    qp: QualiphyClinic, receiver: Receiver
) -> None:
    await register_clinic_endpoint(qp, receiver.url("/portal-hook"), events=["patient_exam.completed"])
    await invite(qp, invite_body(qp.catalog.glp1.id, "Test Prescription Approve"))

    await step_and_deliver(qp, receiver, expect=1)
    for _ in range(3):
        await step_and_deliver(qp, receiver, expect=1)

    assert [webhook.json()["event"] for webhook in receiver.received] == [1]


async def test_without_events_a_qualiphy_endpoint_subscribes_to_events_1_2_3(qp: QualiphyClinic) -> None:
    created = await register_clinic_endpoint(qp, "http://127.0.0.1:9/portal-hook")

    assert created["format"] == "qualiphy"
    assert created["events"] == list(INVITE_WEBHOOK_EVENT_TYPES)


@pytest.mark.parametrize("events", [["appointment.created"], ["*"], ["prescription.*"]])
async def test_a_qualiphy_endpoint_refuses_other_event_types_with_a_400(
    qp: QualiphyClinic, events: list[str]
) -> None:
    key = await create_key(qp.runtime, qp.arranged.clinic)
    response = await native_post(
        qp, key, "/webhook-endpoints", format="qualiphy", url="http://127.0.0.1:9/h", events=events
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_input",
        "message": "events: qualiphy endpoints receive only patient_exam.completed, prescription.confirmed, "
        f"prescription.shipped (Qualiphy events 1, 2 and 3); {events[0]!r} is not one of them",
    }
    listed = await qp.client.get(
        f"{NATIVE_API}/webhook-endpoints", headers={"Authorization": f"Bearer {key}"}
    )
    assert listed.json() == []


async def test_a_qualiphy_endpoint_has_no_test_event(qp: QualiphyClinic, receiver: Receiver) -> None:
    created = await register_clinic_endpoint(qp, receiver.url("/portal-hook"))

    response = await native_post(qp, created["key"], f"/webhook-endpoints/{created['id']}/test")

    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "message": "qualiphy endpoints receive only patient_exam.completed, prescription.confirmed, "
        "prescription.shipped (Qualiphy events 1, 2 and 3), never a test event: to try this endpoint, "
        "replay one of those events to it",
    }
    await run_webhook_jobs(qp.runtime, qp.arranged.clinic)
    assert receiver.received == []
