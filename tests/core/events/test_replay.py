from __future__ import annotations

from datetime import timedelta

import pytest

from clinicore.core.audit.service import SYSTEM
from clinicore.core.events import service as events_service
from clinicore.core.events.retries import RETRY_SCHEDULE
from clinicore.core.models import WebhookDeliveryStatus
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import Conflict
from clinicore.runtime import Runtime
from tests.core.events.receiver import Answer, Receiver
from tests.factories import create_clinic, create_endpoint, delivery_of, emit_event, run_webhook_jobs


class TestReplayEvent:
    async def test_without_an_endpoint_it_goes_to_every_enabled_endpoint_that_receives_it(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(runtime)
        first = (await create_endpoint(runtime, arranged.clinic, receiver.url("/first"))).endpoint
        second = (await create_endpoint(runtime, arranged.clinic, receiver.url("/second"))).endpoint
        await create_endpoint(runtime, arranged.clinic, receiver.url("/leads"), events=["lead.*"])
        event = await emit_event(runtime, arranged.clinic, "appointment.created")
        await run_webhook_jobs(runtime, arranged.clinic)
        async with runtime.sessions() as session, session.begin():
            replayed = await events_service.replay_event(
                session, clinic_id=arranged.clinic.id, event_id=event.id, actor=SYSTEM
            )
        assert {endpoint.id for endpoint in replayed} == {first.id, second.id}
        await run_webhook_jobs(runtime, arranged.clinic)
        assert sorted(webhook.path for webhook in receiver.received) == [
            "/first",
            "/first",
            "/second",
            "/second",
        ]

    async def test_an_event_not_fanned_out_yet_is_not_queued_twice(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(runtime)
        await create_endpoint(runtime, arranged.clinic, receiver.url())
        event = await emit_event(runtime, arranged.clinic)
        async with runtime.sessions() as session, session.begin():
            await events_service.replay_event(
                session, clinic_id=arranged.clinic.id, event_id=event.id, actor=SYSTEM
            )
        await run_webhook_jobs(runtime, arranged.clinic)
        assert receiver.ids() == [event.id]


class TestBacklog:
    async def test_a_message_that_ran_out_of_retries_goes_again_with_the_backlog(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        endpoint = (await create_endpoint(clocked, arranged.clinic, receiver.url())).endpoint
        receiver.default_answer = Answer(500)
        exhausted = await emit_event(clocked, arranged.clinic)
        for step in range(len(RETRY_SCHEDULE)):
            clock.advance(RETRY_SCHEDULE[step] * 1.1 + timedelta(seconds=1))
            await run_webhook_jobs(clocked, arranged.clinic)
        failed = await delivery_of(clocked, exhausted, endpoint)
        assert failed is not None and failed.status == WebhookDeliveryStatus.failed

        async with clocked.sessions() as session, session.begin():
            await events_service.disable_endpoint(
                session, clinic_id=arranged.clinic.id, endpoint_id=endpoint.id, actor=SYSTEM, clock=clock
            )
        with pytest.raises(Conflict):
            async with clocked.sessions() as session, session.begin():
                await events_service.send_test_event(
                    session, clinic_id=arranged.clinic.id, endpoint_id=endpoint.id
                )
        receiver.default_answer = Answer(200)
        clock.advance(timedelta(hours=1))
        async with clocked.sessions() as session, session.begin():
            queued = await events_service.enable_endpoint(
                session,
                clinic_id=arranged.clinic.id,
                endpoint_id=endpoint.id,
                replay_backlog=True,
                actor=SYSTEM,
                clock=clock,
            )
        assert queued == 1
        await run_webhook_jobs(clocked, arranged.clinic)
        delivered = await delivery_of(clocked, exhausted, endpoint)
        assert delivered is not None and delivered.status == WebhookDeliveryStatus.delivered
        assert delivered.attempt_count == len(RETRY_SCHEDULE) + 1

    async def test_enabling_without_the_backlog_resumes_only_what_was_queued(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        endpoint = (await create_endpoint(clocked, arranged.clinic, receiver.url())).endpoint
        async with clocked.sessions() as session, session.begin():
            await events_service.disable_endpoint(
                session, clinic_id=arranged.clinic.id, endpoint_id=endpoint.id, actor=SYSTEM, clock=clock
            )
        missed = await emit_event(clocked, arranged.clinic)
        await run_webhook_jobs(clocked, arranged.clinic)
        async with clocked.sessions() as session, session.begin():
            queued = await events_service.enable_endpoint(
                session,
                clinic_id=arranged.clinic.id,
                endpoint_id=endpoint.id,
                replay_backlog=False,
                actor=SYSTEM,
                clock=clock,
            )
        assert queued == 0
        await run_webhook_jobs(clocked, arranged.clinic)
        assert receiver.received == []
        assert await delivery_of(clocked, missed, endpoint) is None
