from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from clinicore.app import create_app
from clinicore.config import Environment
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.core.events.receiver import Answer, running_receiver
from tests.factories import create_clinic, create_key, emit_event, run_webhook_jobs
from tests.support import remember_secret

ENDPOINT_FIELDS = {
    "id",
    "format",
    "url",
    "events",
    "strict_order",
    "enabled",
    "disabled_reason",
    "failing_since",
    "created_at",
}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def create_endpoint(client: httpx.AsyncClient, key: str, **body: object) -> dict[str, object]:
    response = await client.post(
        "/api/webhook-endpoints", headers=bearer(key), json={"format": "native", **body}
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    remember_secret(str(created["secret"]))
    return created


@pytest.fixture
async def production_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose settings say production, where private targets are refused."""
    production = dataclasses.replace(
        runtime, settings=runtime.settings.model_copy(update={"env": Environment.production})
    )
    app = create_app(production)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


class TestCreateEndpoint:
    async def test_the_secret_is_returned_at_creation_and_never_listed(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        response = await client.post(
            "/api/webhook-endpoints",
            headers=bearer(key),
            json={"format": "native", "url": "http://127.0.0.1:9/hooks", "events": ["appointment.*"]},
        )
        assert response.status_code == 201
        created = response.json()
        secret = remember_secret(created["secret"])
        assert set(created) == {"id", "format", "url", "events", "secret", "enabled", "created_at"} | {
            "strict_order"
        }
        assert secret.startswith("whsec_")
        assert created["format"] == "native" and created["enabled"] is True
        assert created["events"] == ["appointment.*"]

        listed = await client.get("/api/webhook-endpoints", headers=bearer(key))
        assert secret not in listed.text
        [endpoint] = listed.json()
        assert set(endpoint) == ENDPOINT_FIELDS
        assert endpoint["id"] == created["id"]
        one = await client.get(f"/api/webhook-endpoints/{created['id']}", headers=bearer(key))
        assert one.json() == endpoint

    async def test_without_events_it_receives_every_event(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        created = await create_endpoint(client, key, url="http://127.0.0.1:9/hooks")
        assert created["events"] is None

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (
                {"format": "fhir", "url": "http://127.0.0.1:9/"},
                "format: Input should be 'qualiphy', 'qualifybase', 'intakeq' or 'native'",
            ),
            ({"format": "native", "url": "ftp://127.0.0.1/"}, "url: must start with http:// or https://"),
            (
                {"format": "native", "url": "http://127.0.0.1:9/", "events": ["Appointment Created"]},
                "events: 'Appointment Created' is not an event type such as appointment.created or "
                "appointment.*",
            ),
            (
                {"format": "native", "url": "http://127.0.0.1:9/", "events": []},
                "events: name at least one event type, or leave it out for every event",
            ),
        ],
    )
    async def test_invalid_bodies_are_a_400_saying_what_is_wrong(
        self, client: httpx.AsyncClient, runtime: Runtime, body: dict[str, object], message: str
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        response = await client.post("/api/webhook-endpoints", headers=bearer(key), json=body)
        assert response.status_code == 400
        assert response.json() == {"error": "invalid_input", "message": message}

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            (
                "http://10.0.0.5/hooks",
                "url: 10.0.0.5 is a private address; webhooks must go to a public address",
            ),
            (
                "http://169.254.169.254/latest",
                "url: 169.254.169.254 is a cloud metadata address; webhooks must go to a public address",
            ),
            (
                "http://[::1]:8080/hooks",
                "url: ::1 is a loopback address; webhooks must go to a public address",
            ),
        ],
    )
    async def test_in_production_a_private_target_is_a_clear_400(
        self, production_client: httpx.AsyncClient, runtime: Runtime, url: str, message: str
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        response = await production_client.post(
            "/api/webhook-endpoints", headers=bearer(key), json={"format": "native", "url": url}
        )
        assert response.status_code == 400
        assert response.json() == {"error": "invalid_input", "message": message}

    async def test_in_production_a_name_resolving_to_loopback_is_refused(
        self, production_client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        response = await production_client.post(
            "/api/webhook-endpoints",
            headers=bearer(key),
            json={"format": "native", "url": "http://localhost:8080/"},
        )
        assert response.status_code == 400
        assert (
            response.json()["message"]
            == "url: localhost is not allowed; webhooks must go to a public address"
        )
        public = await production_client.post(
            "/api/webhook-endpoints",
            headers=bearer(key),
            json={"format": "native", "url": "https://93.184.215.14/h"},
        )
        assert public.status_code == 201
        remember_secret(public.json()["secret"])


class TestTenantScoping:
    async def test_another_clinics_endpoint_answers_like_a_missing_one(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        mine, theirs = await create_clinic(runtime), await create_clinic(runtime)
        my_key, their_key = await create_key(runtime, mine.clinic), await create_key(runtime, theirs.clinic)
        their_endpoint = await create_endpoint(client, their_key, url="http://127.0.0.1:9/hooks")
        missing = "00000000-0000-4000-8000-000000000000"
        for method, suffix, body in (
            ("GET", "", None),
            ("DELETE", "", None),
            ("GET", "/attempts", None),
            ("POST", "/replay", {"since": "2025-01-01T00:00:00Z"}),
            ("POST", "/disable", None),
        ):
            answers = [
                await client.request(
                    method, f"/api/webhook-endpoints/{endpoint_id}{suffix}", headers=bearer(my_key), json=body
                )
                for endpoint_id in (their_endpoint["id"], missing)
            ]
            assert [answer.status_code for answer in answers] == [404, 404]
            assert (
                answers[0].json()
                == answers[1].json()
                == {"error": "not_found", "message": "webhook endpoint not found"}
            )
        assert (await client.get("/api/webhook-endpoints", headers=bearer(my_key))).json() == []
        theirs_now = await client.get(
            f"/api/webhook-endpoints/{their_endpoint['id']}", headers=bearer(their_key)
        )
        assert theirs_now.json()["enabled"] is True

    async def test_another_clinics_event_cannot_be_replayed(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        mine, theirs = await create_clinic(runtime), await create_clinic(runtime)
        my_key = await create_key(runtime, mine.clinic)
        their_event = await emit_event(runtime, theirs.clinic)
        response = await client.post(f"/api/events/{their_event.id}/replay", headers=bearer(my_key))
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": "event not found"}

    async def test_a_key_is_required(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/webhook-endpoints")
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"


class TestDeliveryLogAndReplay:
    async def test_attempts_are_listed_newest_first_and_can_be_filtered(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        clock = FrozenClock(datetime.now(UTC))
        clocked = dataclasses.replace(runtime, clock=clock)
        async with running_receiver() as receiver:
            endpoint = await create_endpoint(client, key, url=receiver.url())
            receiver.answer_next(Answer(500, body=b"database down"))
            first = await emit_event(clocked, arranged.clinic, "appointment.created")
            await run_webhook_jobs(clocked, arranged.clinic)
            clock.advance(timedelta(seconds=6))
            second = await emit_event(clocked, arranged.clinic, "lead.created", aggregate_type="lead")
            await run_webhook_jobs(clocked, arranged.clinic)
            assert receiver.ids()[0] == first.id  # then its retry and the second, side by side
            assert sorted(receiver.ids()[1:]) == sorted([first.id, second.id])

        path = f"/api/webhook-endpoints/{endpoint['id']}/attempts"
        everything = (await client.get(path, headers=bearer(key))).json()
        assert [(a["event_id"], a["status_code"]) for a in everything] == [
            (second.id, 200),
            (first.id, 200),
            (first.id, 500),
        ]
        failed = everything[-1]
        assert failed["outcome"] == "retrying" and failed["attempt"] == 1
        assert failed["response"] == "database down" and failed["url"] == receiver.url()
        assert failed["latency_ms"] >= 0 and failed["error"] is None
        assert failed["event_type"] == "appointment.created"

        def ids(response: httpx.Response) -> list[tuple[str, int]]:
            return [(a["event_id"], a["attempt"]) for a in response.json()]

        assert ids(await client.get(path, headers=bearer(key), params={"status": "failed"})) == [
            (first.id, 1)
        ]
        assert ids(await client.get(path, headers=bearer(key), params={"status": "succeeded"})) == [
            (second.id, 1),
            (first.id, 2),
        ]
        assert ids(await client.get(path, headers=bearer(key), params={"event_type": "lead.created"})) == [
            (second.id, 1)
        ]
        assert ids(await client.get(path, headers=bearer(key), params={"event_id": first.id})) == [
            (first.id, 2),
            (first.id, 1),
        ]
        later = (clock.now() - timedelta(seconds=1)).isoformat()
        assert ids(await client.get(path, headers=bearer(key), params={"since": later})) == [
            (second.id, 1),
            (first.id, 2),
        ]
        assert ids(await client.get(path, headers=bearer(key), params={"limit": 1})) == [(second.id, 1)]
        naive = await client.get(path, headers=bearer(key), params={"since": "2025-01-01T00:00:00"})
        assert naive.status_code == 400
        assert naive.json()["message"] == "since: include a time zone, e.g. 2025-01-31T09:00:00Z"

    async def test_replaying_an_event_sends_it_again_with_the_same_id(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        async with running_receiver() as receiver:
            endpoint = await create_endpoint(client, key, url=receiver.url())
            event = await emit_event(runtime, arranged.clinic)
            await run_webhook_jobs(runtime, arranged.clinic)
            replay = await client.post(f"/api/events/{event.id}/replay", headers=bearer(key))
            assert replay.status_code == 202
            assert replay.json() == {"event_id": event.id, "endpoint_ids": [endpoint["id"]]}
            await run_webhook_jobs(runtime, arranged.clinic)
        first, again = receiver.received
        assert again.webhook_id == first.webhook_id == event.id
        assert again.body == first.body
        Webhook(str(endpoint["secret"])).verify(again.body, again.headers)

    async def test_replaying_to_an_endpoint_that_does_not_receive_the_event_is_refused(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        leads_only = await create_endpoint(client, key, url="http://127.0.0.1:9/", events=["lead.*"])
        event = await emit_event(runtime, arranged.clinic, "appointment.created")
        response = await client.post(
            f"/api/events/{event.id}/replay", headers=bearer(key), json={"endpoint_id": leads_only["id"]}
        )
        assert response.status_code == 400
        assert (
            response.json()["message"]
            == "endpoint_id: this endpoint does not receive appointment.created events"
        )

    async def test_replaying_a_window_resends_only_the_events_inside_it(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        start = datetime.now(UTC) - timedelta(hours=3)
        clock = FrozenClock(start)
        clocked = dataclasses.replace(runtime, clock=clock)
        async with running_receiver() as receiver:
            endpoint = await create_endpoint(client, key, url=receiver.url())
            events = []
            for _ in range(3):
                events.append(await emit_event(clocked, arranged.clinic))
                await run_webhook_jobs(clocked, arranged.clinic)
                clock.advance(timedelta(hours=1))
            response = await client.post(
                f"/api/webhook-endpoints/{endpoint['id']}/replay",
                headers=bearer(key),
                json={
                    "since": (start + timedelta(minutes=30)).isoformat(),
                    "until": (start + timedelta(minutes=90)).isoformat(),
                },
            )
            assert response.status_code == 202
            assert response.json() == {"endpoint_id": endpoint["id"], "replayed": 1}
            clock.advance(timedelta(minutes=1))  # the API queued it at the real time, a moment ahead
            await run_webhook_jobs(clocked, arranged.clinic)
        assert receiver.ids() == [events[0].id, events[1].id, events[2].id, events[1].id]

        backwards = await client.post(
            f"/api/webhook-endpoints/{endpoint['id']}/replay",
            headers=bearer(key),
            json={"since": start.isoformat(), "until": (start - timedelta(hours=1)).isoformat()},
        )
        assert backwards.status_code == 400
        assert backwards.json()["message"] == "since: must be before until"


class TestEndpointLifecycle:
    async def test_disable_then_enable_with_the_backlog(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        async with running_receiver() as receiver:
            endpoint = await create_endpoint(client, key, url=receiver.url())
            path = f"/api/webhook-endpoints/{endpoint['id']}"
            disabled = await client.post(f"{path}/disable", headers=bearer(key))
            assert disabled.json()["enabled"] is False
            assert disabled.json()["disabled_reason"] == "disabled by a user"
            missed = await emit_event(runtime, arranged.clinic)
            assert await run_webhook_jobs(runtime, arranged.clinic) == 0
            replay = await client.post(
                f"{path}/replay", headers=bearer(key), json={"since": "2020-01-01T00:00:00Z"}
            )
            assert replay.status_code == 409
            assert replay.json()["message"] == "the endpoint is disabled: enable it before replaying to it"

            enabled = await client.post(f"{path}/enable", headers=bearer(key))
            assert enabled.status_code == 200
            assert enabled.json()["enabled"] is True and enabled.json()["replayed"] == 1
            await run_webhook_jobs(runtime, arranged.clinic)
        assert receiver.ids() == [missed.id]

    async def test_rotating_the_secret_and_sending_a_test_event(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        async with running_receiver() as receiver:
            endpoint = await create_endpoint(client, key, url=receiver.url())
            path = f"/api/webhook-endpoints/{endpoint['id']}"
            rotated = await client.post(f"{path}/rotate-secret", headers=bearer(key))
            new_secret = remember_secret(rotated.json()["secret"])
            assert new_secret != endpoint["secret"]
            sent = await client.post(f"{path}/test", headers=bearer(key))
            assert sent.status_code == 202
            await run_webhook_jobs(runtime, arranged.clinic)
        [webhook] = receiver.received
        assert webhook.webhook_id == sent.json()["event_id"]
        assert Webhook(new_secret).verify(webhook.body, webhook.headers)["type"] == "webhook.test"
        Webhook(str(endpoint["secret"])).verify(webhook.body, webhook.headers)

    async def test_deleting_an_endpoint(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        endpoint = await create_endpoint(client, key, url="http://127.0.0.1:9/hooks")
        deleted = await client.delete(f"/api/webhook-endpoints/{endpoint['id']}", headers=bearer(key))
        assert deleted.status_code == 204 and deleted.content == b""
        assert (
            await client.get(f"/api/webhook-endpoints/{endpoint['id']}", headers=bearer(key))
        ).status_code == 404


class TestOpenApi:
    async def test_the_webhook_routes_are_documented(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/api/openapi.json")).json()
        assert {
            "/webhook-endpoints",
            "/webhook-endpoints/{endpoint_id}",
            "/webhook-endpoints/{endpoint_id}/attempts",
            "/webhook-endpoints/{endpoint_id}/replay",
            "/events/{event_id}/replay",
        } <= set(document["paths"])
        assert set(document["paths"]["/webhook-endpoints/{endpoint_id}"]) == {"get", "delete"}
        created = document["components"]["schemas"]["WebhookEndpointCreated"]["properties"]
        assert set(created) == {"id", "format", "url", "events", "secret", "enabled", "created_at"} | {
            "strict_order"
        }
