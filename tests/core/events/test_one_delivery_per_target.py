"""For one event, endpoints with the same format and URL get one delivery between them: a receiver
registered twice (an invite's webhook_url and the clinic's own endpoint) hears each event once. The
endpoint bound to the event's aggregate is preferred, else the oldest."""

from __future__ import annotations

import uuid
from datetime import timedelta

from clinicore.core.audit.service import SYSTEM
from clinicore.core.events import service as events_service
from clinicore.core.models import Clinic, WebhookEndpoint, WebhookFormat
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.core.events.receiver import Receiver
from tests.factories import (
    create_clinic,
    create_endpoint,
    deliveries_of,
    emit_event,
    fan_out,
    run_webhook_jobs,
)

MEETING = "meeting"


async def bound_and_clinic_endpoints(
    runtime: Runtime, clock: FrozenClock, clinic: Clinic, url: str, meeting_id: str
) -> tuple[WebhookEndpoint, WebhookEndpoint]:
    """At one URL: the clinic's endpoint, then a second later (so it is the newer) one bound to the
    meeting."""
    clinic_wide = (await create_endpoint(runtime, clinic, url)).endpoint
    clock.advance(timedelta(seconds=1))
    bound = (await create_endpoint(runtime, clinic, url, bound_to=(MEETING, meeting_id))).endpoint
    return bound, clinic_wide


async def test_a_bound_and_a_clinic_endpoint_at_one_url_get_one_delivery_from_the_bound_one(
    clocked: Runtime, clock: FrozenClock, receiver: Receiver
) -> None:
    arranged = await create_clinic(clocked)
    meeting_id = str(uuid.uuid4())
    bound, clinic_wide = await bound_and_clinic_endpoints(
        clocked, clock, arranged.clinic, receiver.url("/hooks"), meeting_id
    )
    ours = await emit_event(clocked, arranged.clinic, aggregate_type=MEETING, aggregate_id=meeting_id)
    another_meeting = await emit_event(clocked, arranged.clinic, aggregate_type=MEETING)

    await run_webhook_jobs(clocked, arranged.clinic)

    assert [d.endpoint_id for d in await deliveries_of(clocked, ours)] == [bound.id]
    assert [d.endpoint_id for d in await deliveries_of(clocked, another_meeting)] == [clinic_wide.id]
    assert sorted(receiver.ids()) == sorted([ours.id, another_meeting.id])  # side by side, any order


async def test_endpoints_differing_in_format_or_url_each_get_a_delivery(runtime: Runtime) -> None:
    arranged = await create_clinic(runtime)
    url = "http://127.0.0.1:9/hooks"
    native = (await create_endpoint(runtime, arranged.clinic, url)).endpoint
    qualifybase = (
        await create_endpoint(runtime, arranged.clinic, url, format=WebhookFormat.qualifybase)
    ).endpoint
    elsewhere = (await create_endpoint(runtime, arranged.clinic, f"{url}/other")).endpoint
    event = await emit_event(runtime, arranged.clinic)

    await fan_out(runtime, arranged.clinic)

    assert {d.endpoint_id for d in await deliveries_of(runtime, event)} == {
        native.id,
        qualifybase.id,
        elsewhere.id,
    }


async def test_of_two_clinic_endpoints_at_one_url_the_oldest_gets_what_both_receive(
    clocked: Runtime, clock: FrozenClock
) -> None:
    arranged = await create_clinic(clocked)
    url = "http://127.0.0.1:9/hooks"
    older = (await create_endpoint(clocked, arranged.clinic, url, events=["appointment.*"])).endpoint
    clock.advance(timedelta(seconds=1))
    newer = (await create_endpoint(clocked, arranged.clinic, url)).endpoint
    both_hear = await emit_event(clocked, arranged.clinic, "appointment.created")
    only_newer_hears = await emit_event(clocked, arranged.clinic, "lead.created", aggregate_type="lead")

    await fan_out(clocked, arranged.clinic)

    assert [d.endpoint_id for d in await deliveries_of(clocked, both_hear)] == [older.id]
    assert [d.endpoint_id for d in await deliveries_of(clocked, only_newer_hears)] == [newer.id]


async def test_while_the_bound_endpoint_is_disabled_the_clinic_endpoint_gets_the_event(
    clocked: Runtime, clock: FrozenClock
) -> None:
    arranged = await create_clinic(clocked)
    meeting_id = str(uuid.uuid4())
    bound, clinic_wide = await bound_and_clinic_endpoints(
        clocked, clock, arranged.clinic, "http://127.0.0.1:9/hooks", meeting_id
    )
    async with clocked.sessions() as session, session.begin():
        await events_service.disable_endpoint(
            session, clinic_id=arranged.clinic.id, endpoint_id=bound.id, actor=SYSTEM, clock=clock
        )
    event = await emit_event(clocked, arranged.clinic, aggregate_type=MEETING, aggregate_id=meeting_id)

    await fan_out(clocked, arranged.clinic)

    assert [d.endpoint_id for d in await deliveries_of(clocked, event)] == [clinic_wide.id]


async def test_replaying_an_event_to_every_endpoint_sends_it_once_per_url(
    clocked: Runtime, clock: FrozenClock, receiver: Receiver
) -> None:
    arranged = await create_clinic(clocked)
    meeting_id = str(uuid.uuid4())
    bound, _ = await bound_and_clinic_endpoints(
        clocked, clock, arranged.clinic, receiver.url("/hooks"), meeting_id
    )
    event = await emit_event(clocked, arranged.clinic, aggregate_type=MEETING, aggregate_id=meeting_id)
    await run_webhook_jobs(clocked, arranged.clinic)

    async with clocked.sessions() as session, session.begin():
        replayed = await events_service.replay_event(
            session, clinic_id=arranged.clinic.id, event_id=event.id, actor=SYSTEM, clock=clock
        )
    await run_webhook_jobs(clocked, arranged.clinic)

    assert [endpoint.id for endpoint in replayed] == [bound.id]
    assert receiver.ids() == [event.id, event.id]


async def test_the_backlog_of_an_enabled_endpoint_leaves_out_what_reached_its_url_through_another(
    clocked: Runtime, clock: FrozenClock, receiver: Receiver
) -> None:
    arranged = await create_clinic(clocked)
    meeting_id = str(uuid.uuid4())
    _, clinic_wide = await bound_and_clinic_endpoints(
        clocked, clock, arranged.clinic, receiver.url("/hooks"), meeting_id
    )
    async with clocked.sessions() as session, session.begin():
        await events_service.disable_endpoint(
            session, clinic_id=arranged.clinic.id, endpoint_id=clinic_wide.id, actor=SYSTEM, clock=clock
        )
    clock.advance(timedelta(minutes=1))
    reached = await emit_event(clocked, arranged.clinic, aggregate_type=MEETING, aggregate_id=meeting_id)
    missed = await emit_event(clocked, arranged.clinic, aggregate_type=MEETING)
    await run_webhook_jobs(clocked, arranged.clinic)
    assert receiver.ids() == [reached.id]

    async with clocked.sessions() as session, session.begin():
        replayed = await events_service.enable_endpoint(
            session,
            clinic_id=arranged.clinic.id,
            endpoint_id=clinic_wide.id,
            replay_backlog=True,
            actor=SYSTEM,
            clock=clock,
        )
    await run_webhook_jobs(clocked, arranged.clinic)

    assert replayed == 1
    assert receiver.ids() == [reached.id, missed.id]
