"""QualifyBase webhooks: subscriptions per API key, deliveries to a real loopback receiver, verified both
ways (X-QualifyBase-Signature as the doc describes, and Standard Webhooks with its library)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from clinicore.app import create_app
from clinicore.core.models import ApiKeyKind
from clinicore.core.scheduling.availability import LocalRange
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.core.events.receiver import Receiver, running_receiver
from tests.factories import (
    create_campaign,
    create_clinic,
    create_key,
    create_lead,
    create_practitioner,
    run_webhook_jobs,
    set_booking_rules,
)
from tests.support import remember_secret
from tests.surfaces.qualifybase.conftest import BASE_URL, QualifyBaseClinic, open_qualifybase_clinic

ALL_DAY = {weekday: (LocalRange(time(0), time(0)),) for weekday in range(7)}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


@pytest.fixture
async def live_qb(runtime: Runtime) -> AsyncIterator[QualifyBaseClinic]:
    """A clinic on a clock at the real time (signatures are checked against the real clock)."""
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    live = dataclasses.replace(runtime, clock=clock)
    arranged = await create_clinic(live, time_zone="UTC")
    key = await create_key(live, arranged.clinic, ApiKeyKind.qualifybase)
    await create_practitioner(live, arranged.clinic, weekly=ALL_DAY)
    await set_booking_rules(live, arranged.clinic)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(live)),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {key}"},
    ) as client:
        yield QualifyBaseClinic(arranged=arranged, key=key, client=client, clock=clock, runtime=live)


def verify_qualifybase_signature(header: str, body: bytes, secret: str) -> bool:
    parts = dict(part.split("=", 1) for part in header.split(",") if not part.startswith("v1="))
    signatures = [part[3:] for part in header.split(",") if part.startswith("v1=")]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


class TestSubscriptions:
    async def test_create_returns_the_signing_secret_once(self, qb: QualifyBaseClinic) -> None:
        created = await qb.client.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/qb", "events": ["appointment.created"]}
        )
        assert created.status_code == 201
        body = created.json()
        remember_secret(body["signingSecret"])
        assert body["signingSecret"].startswith("whsec_")
        assert body["events"] == ["appointment.created"] and body["enabled"] is True
        listed = await qb.client.get("/webhooks")
        assert listed.json()["webhooks"] == [
            {key: value for key, value in body.items() if key != "signingSecret"}
        ]
        assert body["signingSecret"] not in listed.text

    async def test_each_key_sees_and_deletes_only_its_own(self, qb: QualifyBaseClinic) -> None:
        other_key = await create_key(qb.runtime, qb.arranged.clinic, ApiKeyKind.qualifybase, name="zapier-2")
        other = {"Authorization": f"Bearer {other_key}"}
        mine = await qb.client.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/a", "events": ["lead.created"]}
        )
        remember_secret(mine.json()["signingSecret"])
        assert (await qb.client.get("/webhooks", headers=other)).json() == {"webhooks": []}
        refused = await qb.client.delete(f"/webhooks/{mine.json()['id']}", headers=other)
        assert refused.status_code == 404
        assert refused.json() == {"error": "not_found", "message": "webhook endpoint not found"}
        assert (await qb.client.delete(f"/webhooks/{mine.json()['id']}")).status_code == 204
        assert (await qb.client.get("/webhooks")).json() == {"webhooks": []}

    async def test_bad_subscriptions_are_invalid_input(self, qb: QualifyBaseClinic) -> None:
        for body in (
            {"url": "http://127.0.0.1:9/a", "events": []},
            {"url": "http://127.0.0.1:9/a", "events": ["appointment.exploded"]},
            {"url": "ftp://a.example.com/", "events": ["lead.created"]},
            {"events": ["lead.created"]},
        ):
            response = await qb.client.post("/webhooks", json=body)
            assert response.status_code == 400, body
            assert response.json()["error"] == "invalid_input"


class TestDeliveries:
    async def test_appointment_events_reach_the_receiver_signed_both_ways(
        self, live_qb: QualifyBaseClinic, receiver: Receiver
    ) -> None:
        subscription = await live_qb.client.post(
            "/webhooks",
            json={
                "url": receiver.url("/qb"),
                "events": ["appointment.created", "appointment.updated", "appointment.cancelled"],
            },
        )
        secret = remember_secret(subscription.json()["signingSecret"])
        lead = await create_lead(live_qb.runtime, live_qb.arranged.clinic)
        start = (live_qb.clock.now() + timedelta(days=2)).replace(minute=0, second=0)
        booked = await live_qb.client.post(
            "/appointments",
            json={
                "lead_id": str(lead.id),
                "title": "Consultation",
                "scheduled_at": start.isoformat(),
                "ends_at": (start + timedelta(minutes=30)).isoformat(),
            },
        )
        appointment = booked.json()
        moved_to = start + timedelta(hours=1)
        await live_qb.client.patch(
            f"/appointments/{appointment['id']}", json={"scheduled_at": moved_to.isoformat()}
        )
        await live_qb.client.delete(f"/appointments/{appointment['id']}")

        for _ in range(3):
            await run_webhook_jobs(live_qb.runtime, live_qb.arranged.clinic)
        await receiver.wait_for(3)

        # Delivery order is not promised (docs/webhooks.md): receivers order by the appointment's version.
        received = sorted(
            receiver.received, key=lambda webhook: webhook.json()["data"]["appointment"]["version"]
        )
        assert [webhook.json()["type"] for webhook in received] == [
            "appointment.created",
            "appointment.updated",
            "appointment.cancelled",
        ]
        created = received[0]
        assert set(created.json()) == {"id", "type", "created", "data"}
        assert created.json()["id"].startswith("evt_") and created.json()["created"].endswith("Z")
        assert created.json()["data"]["appointment"] == appointment
        assert created.headers["x-qualifybase-event"] == "appointment.created"
        assert created.headers["x-qualifybase-delivery"]
        for webhook in received:
            assert verify_qualifybase_signature(
                webhook.headers["x-qualifybase-signature"], webhook.body, secret
            )
            Webhook(secret).verify(webhook.body, webhook.headers)  # raises when the signature is wrong
            assert webhook.headers["webhook-id"] == webhook.json()["id"]
        updated = received[1].json()["data"]
        assert updated["appointment"]["version"] == 2
        assert updated["previous"] == {
            "scheduled_at": start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "ends_at": (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
        assert received[2].json()["data"]["appointment"]["status"] == "cancelled"
        assert received[2].json()["data"]["appointment"]["version"] == 3
        assert not verify_qualifybase_signature(
            created.headers["x-qualifybase-signature"], created.body + b" ", secret
        )

    async def test_only_subscribed_event_types_are_delivered(
        self, live_qb: QualifyBaseClinic, receiver: Receiver
    ) -> None:
        subscription = await live_qb.client.post(
            "/webhooks", json={"url": receiver.url("/leads"), "events": ["lead.created"]}
        )
        remember_secret(subscription.json()["signingSecret"])
        created = await live_qb.client.post(
            "/leads", json={"email": "hook@example.com", "external_source": "crm", "external_id": "1"}
        )
        await live_qb.client.post(
            "/leads",
            json={
                "email": "hook@example.com",
                "external_source": "crm",
                "external_id": "1",
                "city": "Austin",
            },
        )
        await run_webhook_jobs(live_qb.runtime, live_qb.arranged.clinic)
        await receiver.wait_for(1)
        await run_webhook_jobs(live_qb.runtime, live_qb.arranged.clinic)
        assert [webhook.json()["type"] for webhook in receiver.received] == ["lead.created"]
        assert receiver.received[0].json()["data"]["lead"] == created.json()


async def test_webhook_targets_on_private_networks_are_refused_in_production(runtime: Runtime) -> None:
    production = dataclasses.replace(
        runtime,
        settings=runtime.settings.model_copy(update={"env": "production", "allow_private_webhooks": False}),
    )
    async for qb in open_qualifybase_clinic(production):
        for url in ("http://127.0.0.1:9/hook", "http://10.0.0.5/hook", "http://169.254.169.254/latest"):
            response = await qb.client.post("/webhooks", json={"url": url, "events": ["lead.created"]})
            assert response.status_code == 400, url
            assert response.json()["message"].startswith("url")


async def test_campaign_outcomes_are_delivered(live_qb: QualifyBaseClinic, receiver: Receiver) -> None:
    subscription = await live_qb.client.post(
        "/webhooks",
        json={
            "url": receiver.url("/calls"),
            "events": ["campaign.contact.qualified", "campaign.contact.exhausted"],
        },
    )
    remember_secret(subscription.json()["signingSecret"])
    campaign = await create_campaign(live_qb.runtime, live_qb.arranged.clinic, max_attempts=1)
    dialer = {"Authorization": f"Bearer {await create_key(live_qb.runtime, live_qb.arranged.clinic)}"}
    contacts = []
    for phone in ("+14155551210", "+14155551211"):
        body = {"name": "Sam", "phone": phone, "interest": "botox", "city": "Austin"}
        contacts.append((await live_qb.client.post(f"/campaigns/{campaign.id}/contacts", json=body)).json())
    for contact, outcome in zip(contacts, ("qualified", "no_answer"), strict=True):
        response = await live_qb.client.post(
            f"http://testserver/api/campaign-contacts/{contact['id']}/attempts",
            json={"outcome": outcome},
            headers=dialer,
        )
        assert response.status_code == 201
    await run_webhook_jobs(live_qb.runtime, live_qb.arranged.clinic)
    await receiver.wait_for(2)
    # Delivery order is not promised (docs/webhooks.md): one body per outcome, in any order.
    bodies = sorted((webhook.json() for webhook in receiver.received), key=lambda body: str(body["type"]))
    assert [body["type"] for body in bodies] == ["campaign.contact.exhausted", "campaign.contact.qualified"]
    bodies.reverse()
    assert bodies[0]["data"]["contact"]["id"] == contacts[0]["id"]
    assert bodies[1]["data"]["contact"]["status"] == "exhausted"
