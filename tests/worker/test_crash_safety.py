"""Killing workers at any moment loses no event, re-sends at most what was in flight, and two workers
never send one message at once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from clinicore.core.events import service as events_service
from clinicore.core.models import WebhookAttempt, WebhookAttemptOutcome
from clinicore.runtime import Runtime
from tests.conftest import POSTGRES_URL
from tests.core.events.receiver import Receiver, running_receiver
from tests.factories import create_clinic, create_endpoint
from tests.worker.processes import WorkerProcess

EVENTS = 300
KILLS = 3
PER_ENDPOINT = 4  # the workers' per-endpoint concurrency: what one kill can leave in flight


async def until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.02)


async def emit_events(
    runtime: Runtime,
    clinic_id: uuid.UUID,
    emitted: list[str],
    *,
    per_transaction: int,
    pause: float,
    allowed: Callable[[], int] = lambda: EVENTS,
) -> None:
    """Commit EVENTS events, ``per_transaction`` at a time; never more than ``allowed()`` so far."""
    while len(emitted) < EVENTS:
        if len(emitted) >= allowed():
            await asyncio.sleep(0.01)
            continue
        async with runtime.sessions() as session, session.begin():
            batch = [
                await events_service.emit(
                    session,
                    clinic_id=clinic_id,
                    type="appointment.updated",
                    aggregate_type="appointment",
                    aggregate_id=f"a-{len(emitted) + index}",
                    payload={"n": len(emitted) + index},
                )
                for index in range(per_transaction)
            ]
        emitted.extend(event.id for event in batch)  # only once committed
        await asyncio.sleep(pause)


def copies_by_id(receiver: Receiver) -> dict[str, set[bytes]]:
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for webhook in receiver.received:
        bodies[webhook.webhook_id].add(webhook.body)
    return bodies


class TestCrashSafety:
    async def test_workers_killed_again_and_again_while_events_are_emitted_lose_none(
        self, runtime: Runtime, worker_env: dict[str, str]
    ) -> None:
        arranged = await create_clinic(runtime)
        emitted: list[str] = []
        worker_count = 2 if POSTGRES_URL else 1  # SQLite: one worker at a time, as in `clinicore serve`
        worker_env = worker_env | {"CLINICORE_WEBHOOK_ENDPOINT_CONCURRENCY": str(PER_ENDPOINT)}
        kills = 0
        # Each answer takes 20 ms, so that a kill finds requests in flight.
        async with running_receiver(handling_delay=0.02) as receiver:
            await create_endpoint(runtime, arranged.clinic, receiver.url())
            workers = [WorkerProcess(worker_env) for _ in range(worker_count)]
            # Emission is held back so that it is still going on at every kill.
            emitting = asyncio.create_task(
                emit_events(
                    runtime,
                    arranged.clinic.id,
                    emitted,
                    per_transaction=5,
                    pause=0.015,
                    allowed=lambda: EVENTS * (kills + 1) // (KILLS + 1),
                )
            )
            try:
                for _ in range(KILLS):
                    # Kill while a worker is visibly delivering, so that it dies with a run in flight.
                    seen = len(receiver.received)
                    await until(
                        lambda seen=seen: len(receiver.received) >= seen + 5,  # type: ignore[misc]
                        timeout=60,
                        what="the workers delivered nothing",
                    )
                    assert not emitting.done()
                    victim = kills % worker_count
                    workers[victim].kill()
                    kills += 1
                    workers[victim] = WorkerProcess(worker_env)
                await emitting
                await until(
                    lambda: set(emitted) <= set(receiver.ids()),
                    timeout=60,
                    what="some events never arrived after the restart",
                )
            finally:
                emitting.cancel()
                for worker in workers:
                    worker.stop()

        assert len(emitted) == EVENTS
        copies = copies_by_id(receiver)
        assert set(emitted) <= set(copies)
        # Duplicates are allowed, but a copy is always the same message under the same id ...
        assert all(len(bodies) == 1 for bodies in copies.values())
        # ... and only what a killed worker had in flight at its endpoint is sent again.
        duplicates = len(receiver.received) - len(copies)
        assert duplicates <= KILLS * PER_ENDPOINT, duplicates
        # Every event is delivered in the log ...
        async with runtime.sessions() as session:
            delivered = await session.scalar(
                select(func.count(func.distinct(WebhookAttempt.event_sequence))).where(
                    WebhookAttempt.clinic_id == arranged.clinic.id,
                    WebhookAttempt.outcome == WebhookAttemptOutcome.delivered,
                )
            )
            logged = await session.scalar(
                select(func.count()).where(WebhookAttempt.clinic_id == arranged.clinic.id)
            )
        assert delivered == EVENTS
        # Every copy the receiver got is in the log: an attempt is logged before its request goes out
        # (a killed worker's shows as interrupted).
        assert len(receiver.received) <= int(logged or 0)

    @pytest.mark.skipif(not POSTGRES_URL, reason="several workers share the work on PostgreSQL only")
    async def test_two_workers_share_the_work_and_never_send_one_message_twice_at_once(
        self, runtime: Runtime, worker_env: dict[str, str]
    ) -> None:
        arranged = await create_clinic(runtime)
        emitted: list[str] = []
        async with running_receiver(handling_delay=0.003) as receiver:
            paths = ["/a", "/b", "/c"]
            for path in paths:
                await create_endpoint(runtime, arranged.clinic, receiver.url(path))
            workers = [WorkerProcess(worker_env) for _ in range(2)]
            try:
                await emit_events(runtime, arranged.clinic.id, emitted, per_transaction=25, pause=0)
                await until(
                    lambda: len(receiver.received) >= EVENTS * len(paths),
                    timeout=90,
                    what="not every delivery arrived",
                )
                await asyncio.sleep(0.3)  # anything sent twice would arrive now
            finally:
                for worker in workers:
                    worker.stop()
            logs = [worker.log_text() for worker in workers]

        assert receiver.overlapping == []
        delivered = [(webhook.path, webhook.webhook_id) for webhook in receiver.received]
        assert len(delivered) == len(set(delivered)) == EVENTS * len(paths)
        assert {webhook_id for _, webhook_id in delivered} == set(emitted)
        # Each endpoint got every event once (no order is promised by default).
        for path in paths:
            assert sorted(w.webhook_id for w in receiver.received if w.path == path) == sorted(emitted)
        assert all('"job": "webhook_delivery.send"' in log for log in logs), "one worker did no deliveries"
