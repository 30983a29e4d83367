from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from standardwebhooks import Webhook

from clinicore.config import Environment
from clinicore.core.audit.service import SYSTEM
from clinicore.core.events import service as events_service
from clinicore.core.events.delivery import DELIVERY_TIMEOUT_SECONDS, send_webhook, webhook_client
from clinicore.core.events.retries import RETRY_SCHEDULE
from clinicore.core.events.schemas import WebhookRequest
from clinicore.core.models import WebhookAttemptOutcome, WebhookDeliveryStatus, WebhookEndpoint, WebhookFormat
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from clinicore.worker.webhooks import deliver_due_webhooks
from tests.core.events.receiver import Answer, Receiver, running_receiver
from tests.factories import (
    attempts_of,
    create_clinic,
    create_endpoint,
    create_key,
    delivery_of,
    emit_event,
    fan_out,
    reload_endpoint,
    run_webhook_jobs,
)
from tests.support import free_port, remember_secret


def latest_allowed_delay(step: int) -> timedelta:
    return RETRY_SCHEDULE[step] * 1.1 + timedelta(seconds=1)


class TestSignedDelivery:
    async def test_the_native_body_and_standard_webhooks_headers_verify_with_the_library(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(runtime)
        created = await create_endpoint(runtime, arranged.clinic, receiver.url())
        appointment_id = uuid.uuid4()
        event = await emit_event(
            runtime,
            arranged.clinic,
            "appointment.created",
            aggregate_id=str(appointment_id),
            payload={"appointment": {"id": appointment_id, "starts_at": datetime(2031, 5, 1, 9, tzinfo=UTC)}},
        )

        assert await run_webhook_jobs(runtime, arranged.clinic) == 1

        [webhook] = receiver.received
        verified = Webhook(created.secret).verify(webhook.body, webhook.headers)
        assert verified == {
            "id": event.id,
            "type": "appointment.created",
            "timestamp": event.occurred_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "data": {"appointment": {"id": str(appointment_id), "starts_at": "2031-05-01T09:00:00.000Z"}},
        }
        assert webhook.webhook_id == event.id
        assert webhook.headers["content-type"] == "application/json"
        assert webhook.headers["clinicore-aggregate-type"] == "appointment"
        assert webhook.headers["clinicore-aggregate-id"] == str(appointment_id)
        assert webhook.headers["clinicore-aggregate-version"] == "1"
        assert webhook.headers["user-agent"].startswith("Clinicore-Webhooks/")
        delivery = await delivery_of(runtime, event, created.endpoint)
        assert delivery is not None and delivery.status == WebhookDeliveryStatus.delivered

    async def test_a_rotated_secret_keeps_signing_beside_the_new_one_for_24_hours(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        created = await create_endpoint(clocked, arranged.clinic, receiver.url())
        async with clocked.sessions() as session, session.begin():
            rotated = await events_service.rotate_secret(
                session,
                box=clocked.box,
                clinic_id=arranged.clinic.id,
                endpoint_id=created.endpoint.id,
                actor=SYSTEM,
                clock=clock,
            )
        await emit_event(clocked, arranged.clinic)
        await run_webhook_jobs(clocked, arranged.clinic)
        first = receiver.received[-1]
        assert len(first.headers["webhook-signature"].split(" ")) == 2
        for secret in (created.secret, rotated.secret):
            Webhook(secret).verify(first.body, first.headers)

        clock.advance(timedelta(hours=24, seconds=1))
        await emit_event(clocked, arranged.clinic)
        await run_webhook_jobs(clocked, arranged.clinic)
        later = receiver.received[-1]
        [signature] = later.headers["webhook-signature"].split(" ")
        expected = Webhook(rotated.secret).sign(later.webhook_id, clock.now(), later.body.decode())
        assert signature == expected


class TestRetries:
    async def test_a_receiver_failing_three_times_gets_it_on_the_fourth_attempt(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        created = await create_endpoint(clocked, arranged.clinic, receiver.url())
        receiver.answer_next(Answer(500), Answer(500), Answer(500))
        event = await emit_event(clocked, arranged.clinic)

        assert await run_webhook_jobs(clocked, arranged.clinic) == 1
        for step in (1, 2, 3):
            delivery = await delivery_of(clocked, event, created.endpoint)
            assert delivery is not None and delivery.status == WebhookDeliveryStatus.pending
            wait = delivery.next_attempt_at - clock.now()
            assert RETRY_SCHEDULE[step] * 0.9 <= wait <= RETRY_SCHEDULE[step] * 1.1
            # Not a moment early: nothing is due until the delay has passed.
            clock.advance(wait - timedelta(milliseconds=1))
            assert await run_webhook_jobs(clocked, arranged.clinic) == 0
            clock.advance(timedelta(milliseconds=1))
            assert await run_webhook_jobs(clocked, arranged.clinic) == 1

        assert receiver.ids() == [event.id] * 4
        attempts = await attempts_of(clocked, created.endpoint)
        assert [view.attempt.status_code for view in attempts] == [500, 500, 500, 200]
        assert [view.attempt.attempt_number for view in attempts] == [1, 2, 3, 4]
        assert [view.attempt.outcome for view in attempts] == ["retrying"] * 3 + ["delivered"]
        delivery = await delivery_of(clocked, event, created.endpoint)
        assert delivery is not None and delivery.status == WebhookDeliveryStatus.delivered
        clock.advance(timedelta(days=1))
        assert await run_webhook_jobs(clocked, arranged.clinic) == 0

    async def test_after_the_last_retry_the_delivery_has_failed(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        created = await create_endpoint(clocked, arranged.clinic, receiver.url())
        receiver.default_answer = Answer(500)
        event = await emit_event(clocked, arranged.clinic)
        for step in range(len(RETRY_SCHEDULE)):
            clock.advance(latest_allowed_delay(step))
            assert await run_webhook_jobs(clocked, arranged.clinic) == 1
        delivery = await delivery_of(clocked, event, created.endpoint)
        assert delivery is not None and delivery.status == WebhookDeliveryStatus.failed
        assert delivery.attempt_count == len(RETRY_SCHEDULE) == 10
        attempts = await attempts_of(clocked, created.endpoint)
        assert attempts[-1].attempt.outcome == WebhookAttemptOutcome.failed
        clock.advance(timedelta(days=2))
        assert await run_webhook_jobs(clocked, arranged.clinic) == 0

    async def test_retry_after_is_honoured_on_503(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        created = await create_endpoint(clocked, arranged.clinic, receiver.url())
        receiver.answer_next(Answer(503, {"Retry-After": "3600"}), Answer(500, {"Retry-After": "3600"}))
        event = await emit_event(clocked, arranged.clinic)
        await run_webhook_jobs(clocked, arranged.clinic)
        delivery = await delivery_of(clocked, event, created.endpoint)
        assert delivery is not None
        assert delivery.next_attempt_at - clock.now() == timedelta(hours=1)

        clock.advance(timedelta(hours=1))
        await run_webhook_jobs(clocked, arranged.clinic)
        delivery = await delivery_of(clocked, event, created.endpoint)
        assert delivery is not None
        # A 500 does not get to set the pace: the schedule's 5 minutes apply.
        assert delivery.next_attempt_at - clock.now() <= timedelta(minutes=5) * 1.1

    async def test_abort_message_stops_retrying_that_message_only(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        created = await create_endpoint(clocked, arranged.clinic, receiver.url())
        receiver.answer_next(Answer(422, {"webhook-delivery": "abort-message"}))
        doomed = await emit_event(clocked, arranged.clinic)
        await run_webhook_jobs(clocked, arranged.clinic)
        following = await emit_event(clocked, arranged.clinic)

        await run_webhook_jobs(clocked, arranged.clinic)
        clock.advance(timedelta(days=4))
        await run_webhook_jobs(clocked, arranged.clinic)

        assert receiver.ids() == [doomed.id, following.id]
        aborted = await delivery_of(clocked, doomed, created.endpoint)
        assert aborted is not None and aborted.status == WebhookDeliveryStatus.aborted
        assert (await reload_endpoint(clocked, created.endpoint)).enabled


class TestEndpointRules:
    async def test_410_disables_the_endpoint_and_the_message_waits_for_it(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        created = await create_endpoint(clocked, arranged.clinic, receiver.url())
        receiver.answer_next(Answer(410))
        first = await emit_event(clocked, arranged.clinic)
        await run_webhook_jobs(clocked, arranged.clinic)

        endpoint = await reload_endpoint(clocked, created.endpoint)
        assert not endpoint.enabled
        assert endpoint.disabled_reason == "the receiver answered 410 Gone"
        [attempt] = await attempts_of(clocked, created.endpoint)
        assert attempt.attempt.outcome == WebhookAttemptOutcome.endpoint_disabled

        # While disabled nothing goes out, and new events do not queue up for it.
        clock.advance(timedelta(hours=1))
        while_disabled = await emit_event(clocked, arranged.clinic)
        assert await run_webhook_jobs(clocked, arranged.clinic) == 0
        assert await delivery_of(clocked, while_disabled, created.endpoint) is None

        # Enabled again with the backlog: the waiting message and what happened meanwhile, side by side.
        async with clocked.sessions() as session, session.begin():
            queued = await events_service.enable_endpoint(
                session,
                clinic_id=arranged.clinic.id,
                endpoint_id=created.endpoint.id,
                replay_backlog=True,
                actor=SYSTEM,
                clock=clock,
            )
        assert queued == 1
        await run_webhook_jobs(clocked, arranged.clinic)
        assert receiver.ids()[0] == first.id
        assert sorted(receiver.ids()[1:]) == sorted([first.id, while_disabled.id])

    async def test_redirects_are_never_followed(self, clocked: Runtime, receiver: Receiver) -> None:
        arranged = await create_clinic(clocked)
        async with running_receiver() as elsewhere:
            created = await create_endpoint(clocked, arranged.clinic, receiver.url())
            receiver.answer_next(Answer(307, {"Location": elsewhere.url()}))
            event = await emit_event(clocked, arranged.clinic)
            await run_webhook_jobs(clocked, arranged.clinic)
            assert elsewhere.received == []
        [attempt] = await attempts_of(clocked, created.endpoint)
        assert attempt.attempt.status_code == 307
        assert attempt.attempt.outcome == WebhookAttemptOutcome.retrying
        delivery = await delivery_of(clocked, event, created.endpoint)
        assert delivery is not None and delivery.status == WebhookDeliveryStatus.pending

    async def test_the_log_keeps_latency_and_the_first_kilobyte_of_the_answer(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(runtime)
        created = await create_endpoint(runtime, arranged.clinic, receiver.url())
        receiver.answer_next(Answer(500, body=b"x" * 5000, delay=0.05))
        await emit_event(runtime, arranged.clinic)
        await run_webhook_jobs(runtime, arranged.clinic)
        [view] = await attempts_of(runtime, created.endpoint)
        assert view.attempt.response_excerpt == "x" * 1024
        assert view.attempt.latency_ms >= 50
        assert view.attempt.url == receiver.url()
        assert view.attempt.error is None

    async def test_an_unreachable_receiver_is_a_failed_attempt_with_the_error(self, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        created = await create_endpoint(runtime, arranged.clinic, f"http://127.0.0.1:{free_port()}/closed")
        await emit_event(runtime, arranged.clinic)
        await run_webhook_jobs(runtime, arranged.clinic)
        [view] = await attempts_of(runtime, created.endpoint)
        assert view.attempt.status_code is None
        assert view.attempt.error is not None and view.attempt.error.startswith("ConnectError")
        assert view.attempt.outcome == WebhookAttemptOutcome.retrying

    async def test_a_private_target_is_refused_at_send_time_in_production(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(runtime)
        created = await create_endpoint(runtime, arranged.clinic, receiver.url())  # allowed when created
        production = dataclasses.replace(
            runtime, settings=runtime.settings.model_copy(update={"env": Environment.production})
        )
        assert not production.settings.private_webhooks_allowed
        await emit_event(production, arranged.clinic)
        await run_webhook_jobs(production, arranged.clinic)
        assert receiver.received == []
        [view] = await attempts_of(runtime, created.endpoint)
        assert view.attempt.error == (
            "refused: 127.0.0.1 is a loopback address; webhooks must go to a public address"
        )


class TestTimeout:
    def test_the_delivery_timeout_is_15_seconds(self) -> None:
        assert DELIVERY_TIMEOUT_SECONDS == 15

    async def test_a_receiver_slower_than_the_timeout_is_a_timed_out_attempt(
        self, receiver: Receiver
    ) -> None:
        receiver.answer_next(Answer(200, delay=1))
        request = WebhookRequest(
            delivery_id=uuid.uuid4(),
            endpoint_id=uuid.uuid4(),
            clinic_id=uuid.uuid4(),
            event_id="evt_x",
            url=receiver.url(),
            body=json.dumps({}).encode(),
            headers={},
            attempted_at=datetime.now(UTC),
        )
        async with webhook_client(allow_private=True) as client:
            result = await send_webhook(client, request, time_limit=0.3)
        assert result.status_code is None
        assert result.error == "timed out after 0.3 s"
        assert 250 <= result.latency_ms < 1000


async def make_strict(runtime: Runtime, endpoint_id: uuid.UUID) -> None:
    async with runtime.sessions() as session, session.begin():
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        endpoint.strict_order = True


class TestOrdering:
    async def test_by_default_a_failing_event_does_not_hold_up_later_ones_to_the_same_endpoint(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        created = await create_endpoint(clocked, arranged.clinic, receiver.url())
        first = await emit_event(clocked, arranged.clinic)
        receiver.answer_next(Answer(500))
        assert await run_webhook_jobs(clocked, arranged.clinic) == 1
        later = [await emit_event(clocked, arranged.clinic) for _ in range(2)]

        await run_webhook_jobs(clocked, arranged.clinic)
        # Both later events went out although the first one waits for its retry.
        assert receiver.ids()[0] == first.id and len(receiver.ids()) == 3
        assert set(receiver.ids()[1:]) == {event.id for event in later}
        waiting = await delivery_of(clocked, first, created.endpoint)
        assert waiting is not None and waiting.status == WebhookDeliveryStatus.pending

        clock.advance(latest_allowed_delay(1))
        await run_webhook_jobs(clocked, arranged.clinic)
        assert receiver.ids()[-1] == first.id

    async def test_strict_order_holds_back_only_the_same_aggregate(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        created = await create_endpoint(clocked, arranged.clinic, receiver.url())
        await make_strict(clocked, created.endpoint.id)
        a1 = await emit_event(clocked, arranged.clinic, aggregate_id="a")
        receiver.answer_next(Answer(500))
        await run_webhook_jobs(clocked, arranged.clinic)
        a2 = await emit_event(clocked, arranged.clinic, "appointment.updated", aggregate_id="a")
        b1 = await emit_event(clocked, arranged.clinic, aggregate_id="b")

        await run_webhook_jobs(clocked, arranged.clinic)
        # b1 goes out; a2 waits behind a1, which waits for its retry.
        assert receiver.ids() == [a1.id, b1.id]
        second = await delivery_of(clocked, a2, created.endpoint)
        assert second is not None and second.attempt_count == 0

        clock.advance(latest_allowed_delay(1))
        await run_webhook_jobs(clocked, arranged.clinic)
        assert receiver.ids() == [a1.id, b1.id, a1.id, a2.id]

    async def test_strict_order_sends_one_aggregate_one_at_a_time_in_event_order(
        self, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        async with running_receiver(handling_delay=0.02) as slow:
            created = await create_endpoint(runtime, arranged.clinic, slow.url())
            await make_strict(runtime, created.endpoint.id)
            events = [
                await emit_event(runtime, arranged.clinic, aggregate_id=f"agg-{index % 3}")
                for index in range(12)
            ]
            await run_webhook_jobs(runtime, arranged.clinic)
        assert sorted(slow.ids()) == sorted(event.id for event in events)
        for aggregate in range(3):
            sent = [event.id for event in events if event.aggregate_id == f"agg-{aggregate}"]
            assert [webhook_id for webhook_id in slow.ids() if webhook_id in sent] == sent
        # Three aggregates went out side by side, never two of one aggregate at once.
        assert 2 <= slow.max_in_flight <= 3

    async def test_an_endpoint_gets_several_requests_at_once_up_to_its_limit(self, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        async with running_receiver(handling_delay=0.05) as slow:
            await create_endpoint(runtime, arranged.clinic, slow.url())
            events = [await emit_event(runtime, arranged.clinic) for _ in range(12)]
            await fan_out(runtime, arranged.clinic)
            attempted = await deliver_due_webhooks(runtime, clinic_id=arranged.clinic.id, per_endpoint=4)
        assert attempted == 12
        assert sorted(slow.ids()) == sorted(event.id for event in events)
        assert 2 <= slow.max_in_flight <= 4

    async def test_a_failing_endpoint_does_not_hold_up_another_one(
        self, clocked: Runtime, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        async with running_receiver() as healthy:
            await create_endpoint(clocked, arranged.clinic, receiver.url())
            await create_endpoint(clocked, arranged.clinic, healthy.url())
            receiver.default_answer = Answer(500)
            events = [await emit_event(clocked, arranged.clinic) for _ in range(3)]
            await run_webhook_jobs(clocked, arranged.clinic)
            await run_webhook_jobs(clocked, arranged.clinic)
            assert sorted(healthy.ids()) == sorted(event.id for event in events)
        # Each failed once and waits for its retry; the healthy endpoint got everything meanwhile.
        assert sorted(receiver.ids()) == sorted(event.id for event in events)


class TestStrictOrderSetting:
    async def test_the_native_api_creates_an_endpoint_with_strict_order_and_shows_it(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        headers = {"Authorization": f"Bearer {key}"}
        created = await client.post(
            "/api/webhook-endpoints",
            headers=headers,
            json={"format": "native", "url": "http://127.0.0.1:9/hooks", "strict_order": True},
        )
        assert created.status_code == 201, created.text
        remember_secret(created.json()["secret"])
        assert created.json()["strict_order"] is True
        listed = await client.get("/api/webhook-endpoints", headers=headers)
        assert [endpoint["strict_order"] for endpoint in listed.json()] == [True]
        refused = await client.post(
            "/api/webhook-endpoints",
            headers=headers,
            json={"format": "native", "url": "http://127.0.0.1:9/other", "strict_order": "sometimes"},
        )
        assert refused.status_code == 400

    async def test_by_default_an_endpoint_promises_no_order_but_a_qualiphy_one_does(
        self, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        native = await create_endpoint(runtime, arranged.clinic, "http://127.0.0.1:9/a")
        qualiphy = await create_endpoint(
            runtime, arranged.clinic, "http://127.0.0.1:9/b", format=WebhookFormat.qualiphy
        )
        assert native.endpoint.strict_order is False
        assert qualiphy.endpoint.strict_order is True
