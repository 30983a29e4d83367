"""The delivery engine as the worker runs it: nothing waits on a receiver but that receiver's own slots.

Each test runs the engine in this process (as ``clinicore serve`` embeds it on SQLite, and as each
``clinicore worker`` runs it on PostgreSQL) against real receivers on loopback, and stops it again."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select, text

from clinicore.core.events import dispatch
from clinicore.core.events.delivery import webhook_client
from clinicore.core.events.schemas import Lease
from clinicore.core.models import Clinic, WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus
from clinicore.kit.db import transaction
from clinicore.runtime import Runtime
from clinicore.worker.webhooks import DeliveryEngine, deliver_due_webhooks, process_is_alive
from tests.conftest import POSTGRES_URL
from tests.core.events.receiver import running_receiver
from tests.factories import create_clinic, create_endpoint, create_key, emit_event, fan_out

POSTGRES_LOG = Path("/var/log/postgresql/postgresql-15-main.log")


async def until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)


@asynccontextmanager
async def running_engine(runtime: Runtime, clinic: Clinic, **limits: int) -> AsyncIterator[DeliveryEngine]:
    """The engine of one worker, fanning out and sending this clinic's webhooks until the block ends."""
    stopping = asyncio.Event()
    polled = dataclasses.replace(
        runtime, settings=runtime.settings.model_copy(update={"worker_poll_seconds": 0.02})
    )
    async with webhook_client(allow_private=True) as client:
        engine = DeliveryEngine(polled, client, clinic_id=clinic.id, **limits)
        task = asyncio.create_task(engine.run(stopping))
        try:
            yield engine
        finally:
            stopping.set()
            await asyncio.wait_for(task, timeout=10)


async def attempts_of_clinic(runtime: Runtime, clinic: Clinic) -> list[WebhookAttempt]:
    async with runtime.sessions() as session:
        return list(
            (await session.scalars(select(WebhookAttempt).where(WebhookAttempt.clinic_id == clinic.id))).all()
        )


async def deliveries_of_clinic(runtime: Runtime, clinic: Clinic) -> list[WebhookDelivery]:
    async with runtime.sessions() as session:
        query = select(WebhookDelivery).where(WebhookDelivery.clinic_id == clinic.id)
        return list((await session.scalars(query)).all())


async def postgres_deadlocks(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(
            await session.scalar(
                text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            )
            or 0
        )


def postgres_log_deadlocks() -> int | None:
    try:
        return POSTGRES_LOG.read_text(errors="replace").count("deadlock detected")
    except OSError:
        return None


class TestNoHeadOfLineBlocking:
    async def test_a_hanging_endpoint_does_not_delay_a_fast_one_nor_the_fan_out(
        self, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        async with (
            running_receiver(handling_delay=2.0) as hanging,
            running_receiver() as fast,
        ):
            await create_endpoint(runtime, arranged.clinic, hanging.url())
            await create_endpoint(runtime, arranged.clinic, fast.url())
            events = [await emit_event(runtime, arranged.clinic) for _ in range(20)]
            async with running_engine(runtime, arranged.clinic, per_endpoint=4) as engine:
                started = time.monotonic()
                await until(lambda: len(fast.received) >= 20, timeout=1.5, what="the fast endpoint waited")
                # The hanging endpoint holds its own 4 slots only.
                assert hanging.max_in_flight == 4 and len(hanging.received) == 4
                # An event emitted now is fanned out and delivered while those 4 still hang.
                late = await emit_event(runtime, arranged.clinic)
                await until(lambda: late.id in fast.ids(), timeout=1.0, what="the fan-out waited")
                assert time.monotonic() - started < 2.0
                assert len(hanging.received) == 4
            assert engine.attempted >= 21 + 4
        assert sorted(fast.ids()) == sorted([event.id for event in events] + [late.id])


class TestEndpointChangesDuringADelivery:
    async def test_deleting_an_endpoint_while_its_receiver_is_answering_returns_at_once(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        deadlocks_before = await postgres_deadlocks(runtime) if POSTGRES_URL else 0
        logged_before = postgres_log_deadlocks() if POSTGRES_URL else None
        async with running_receiver(handling_delay=2.0) as slow:
            created = await create_endpoint(runtime, arranged.clinic, slow.url())
            await emit_event(runtime, arranged.clinic)
            async with running_engine(runtime, arranged.clinic) as engine:
                await slow.wait_for(1, timeout=5)
                started = time.monotonic()
                deleted = await client.delete(
                    f"/api/webhook-endpoints/{created.endpoint.id}",
                    headers={"Authorization": f"Bearer {key}"},
                )
                took = time.monotonic() - started
                assert deleted.status_code == 204, deleted.text
                assert took < 1.0, f"the delete waited {took:.2f} s"
                # The send finishes (the answer comes after 2 s) and is recorded: dropped with the endpoint.
                await until(lambda: engine.attempted == 1, timeout=5, what="the attempt was never recorded")
        assert await attempts_of_clinic(runtime, arranged.clinic) == []
        assert await deliveries_of_clinic(runtime, arranged.clinic) == []
        if POSTGRES_URL:
            await asyncio.sleep(1.1)  # statistics reach pg_stat_database within a second
            assert await postgres_deadlocks(runtime) == deadlocks_before
            logged_after = postgres_log_deadlocks()
            if logged_before is not None and logged_after is not None:
                assert logged_after == logged_before, "deadlock detected in the PostgreSQL log"

    async def test_disabling_an_endpoint_while_its_receiver_is_answering_records_the_attempt(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic)
        async with running_receiver(handling_delay=1.0) as slow:
            created = await create_endpoint(runtime, arranged.clinic, slow.url())
            event = await emit_event(runtime, arranged.clinic)
            async with running_engine(runtime, arranged.clinic) as engine:
                await slow.wait_for(1, timeout=5)
                started = time.monotonic()
                disabled = await client.post(
                    f"/api/webhook-endpoints/{created.endpoint.id}/disable",
                    headers={"Authorization": f"Bearer {key}"},
                )
                assert disabled.status_code == 200, disabled.text
                assert time.monotonic() - started < 1.0
                await until(lambda: engine.attempted == 1, timeout=5, what="the attempt was never recorded")
        attempts = await attempts_of_clinic(runtime, arranged.clinic)
        assert [(attempt.status_code, attempt.outcome) for attempt in attempts] == [(200, "delivered")]
        assert attempts[0].responded_at is not None and attempts[0].responded_at > attempts[0].attempted_at
        [delivery] = await deliveries_of_clinic(runtime, arranged.clinic)
        assert delivery.status == WebhookDeliveryStatus.delivered and delivery.claimed_by is None
        assert delivery.delivered_at == attempts[0].responded_at
        assert slow.ids() == [event.id]


class TestStrictOrderInTheRunningEngine:
    async def test_each_aggregate_goes_out_in_order_and_the_aggregates_side_by_side(
        self, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        async with running_receiver(handling_delay=0.05) as receiver:
            created = await create_endpoint(runtime, arranged.clinic, receiver.url())
            async with runtime.sessions() as session, session.begin():
                endpoint = await session.get(type(created.endpoint), created.endpoint.id)
                assert endpoint is not None
                endpoint.strict_order = True
            events = [
                await emit_event(runtime, arranged.clinic, aggregate_id=f"agg-{index % 4}")
                for index in range(24)
            ]
            async with running_engine(runtime, arranged.clinic):
                await until(lambda: len(receiver.received) >= 24, timeout=10, what="not everything arrived")
        # Never two of one aggregate at once (the order above), and the aggregates side by side.
        assert 2 <= receiver.max_in_flight <= 4
        for aggregate in {event.aggregate_id for event in events}:
            sent = [event.id for event in events if event.aggregate_id == aggregate]
            assert [webhook_id for webhook_id in receiver.ids() if webhook_id in sent] == sent


class TestLeases:
    async def test_a_dead_workers_lease_is_taken_over_at_once_and_its_attempt_shows_interrupted(
        self, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        async with running_receiver() as receiver:
            await create_endpoint(runtime, arranged.clinic, receiver.url())
            event = await emit_event(runtime, arranged.clinic)
            await fan_out(runtime, arranged.clinic)
            gone = subprocess.Popen(["true"])
            gone.wait()
            dead = Lease(
                holder=f"{socket.gethostname()}:{gone.pid}",
                duration=timedelta(seconds=60),
                holder_is_alive=process_is_alive,
            )
            async with transaction(runtime.sessions) as session:
                claim = await dispatch.claim_deliveries(
                    session,
                    box=runtime.box,
                    clock=runtime.clock,
                    lease=dead,
                    limit=10,
                    per_endpoint=10,
                    clinic_id=arranged.clinic.id,
                )
            assert len(claim.requests) == 1  # claimed, logged as sending, then the process died
            # The next worker takes the lease over at once (not after 60 s) and sends it again.
            assert await deliver_due_webhooks(runtime, clinic_id=arranged.clinic.id) == 1
        assert receiver.ids() == [event.id]
        attempts = sorted(await attempts_of_clinic(runtime, arranged.clinic), key=lambda a: a.attempt_number)
        assert [(attempt.attempt_number, attempt.outcome) for attempt in attempts] == [
            (1, "interrupted"),
            (2, "delivered"),
        ]
        assert attempts[0].error == "the worker stopped before it recorded the answer"
