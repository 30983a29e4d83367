from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from clinicore.core.audit.service import SYSTEM
from clinicore.core.events import renderers
from clinicore.core.events import service as events_service
from clinicore.core.events.schemas import RenderedWebhook
from clinicore.core.models import Event, WebhookDeliveryStatus, WebhookEndpoint, WebhookFormat
from clinicore.core.telehealth.events import PATIENT_EXAM_COMPLETED
from clinicore.kit.errors import InvalidInput
from clinicore.runtime import Runtime
from tests.core.events.receiver import Receiver
from tests.factories import (
    create_clinic,
    create_endpoint,
    deliveries_of,
    delivery_of,
    emit_event,
    fan_out,
    run_webhook_jobs,
)


async def events_of(runtime: Runtime, aggregate_id: str) -> list[Event]:
    async with runtime.sessions() as session:
        result = await session.scalars(
            select(Event).where(Event.aggregate_id == aggregate_id).order_by(Event.sequence)
        )
        return list(result.all())


class TestEmit:
    async def test_an_event_has_a_sortable_id_and_a_json_payload(self, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        lead_id = uuid.uuid4()
        first = await emit_event(
            runtime,
            arranged.clinic,
            "lead.created",
            aggregate_type="lead",
            aggregate_id=str(lead_id),
            payload={"lead": {"id": lead_id, "seen_at": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)}},
        )
        second = await emit_event(
            runtime, arranged.clinic, "lead.updated", aggregate_type="lead", aggregate_id=str(lead_id)
        )
        assert re.fullmatch(r"evt_[0-9A-HJKMNP-TV-Z]{26}", first.id)
        assert first.id < second.id and first.sequence < second.sequence
        [stored, _] = await events_of(runtime, str(lead_id))
        assert stored.payload == {"lead": {"id": str(lead_id), "seen_at": "2030-01-02T03:04:05.000Z"}}
        assert stored.clinic_id == arranged.clinic.id
        assert stored.fanned_out_at is None

    async def test_versions_count_up_per_aggregate(self, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        one, other = str(uuid.uuid4()), str(uuid.uuid4())
        versions = [
            (await emit_event(runtime, arranged.clinic, aggregate_id=one)).aggregate_version for _ in range(3)
        ]
        assert versions == [1, 2, 3]
        assert (await emit_event(runtime, arranged.clinic, aggregate_id=other)).aggregate_version == 1

    async def test_concurrent_transactions_on_one_aggregate_get_distinct_versions(
        self, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        aggregate_id = str(uuid.uuid4())
        emitted = await asyncio.gather(
            *(emit_event(runtime, arranged.clinic, aggregate_id=aggregate_id) for _ in range(8))
        )
        assert sorted(event.aggregate_version for event in emitted) == list(range(1, 9))
        # Committed in version order, so sequence order and version order agree.
        stored = await events_of(runtime, aggregate_id)
        assert [event.aggregate_version for event in stored] == list(range(1, 9))

    async def test_an_aggregate_that_keeps_its_own_version_passes_it_and_later_ones_follow(
        self, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        aggregate_id = str(uuid.uuid4())
        async with runtime.sessions() as session, session.begin():
            explicit = await events_service.emit(
                session,
                clinic_id=arranged.clinic.id,
                type="appointment.updated",
                aggregate_type="appointment",
                aggregate_id=aggregate_id,
                payload={},
                version=7,
            )
        assert explicit.aggregate_version == 7
        assert (await emit_event(runtime, arranged.clinic, aggregate_id=aggregate_id)).aggregate_version == 8

    async def test_a_type_that_is_not_dotted_is_refused(self, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        with pytest.raises(InvalidInput, match="dotted event type"):
            await emit_event(runtime, arranged.clinic, "AppointmentCreated")

    async def test_a_rolled_back_transaction_emits_nothing(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(runtime)
        await create_endpoint(runtime, arranged.clinic, receiver.url())
        aggregate_id = str(uuid.uuid4())

        class ChangeFailed(Exception):
            pass

        with pytest.raises(ChangeFailed):
            async with runtime.sessions() as session, session.begin():
                await events_service.emit(
                    session,
                    clinic_id=arranged.clinic.id,
                    type="appointment.created",
                    aggregate_type="appointment",
                    aggregate_id=aggregate_id,
                    payload={},
                )
                raise ChangeFailed

        assert await events_of(runtime, aggregate_id) == []
        assert await run_webhook_jobs(runtime, arranged.clinic) == 0
        assert receiver.received == []
        # The version handed out was rolled back too.
        assert (await emit_event(runtime, arranged.clinic, aggregate_id=aggregate_id)).aggregate_version == 1


class TestFanOut:
    async def test_each_event_reaches_every_enabled_endpoint_whose_filter_matches(
        self, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        other_clinic = await create_clinic(runtime)
        url = "http://127.0.0.1:9/hooks"
        everything = (await create_endpoint(runtime, arranged.clinic, f"{url}/all")).endpoint
        family = (
            await create_endpoint(runtime, arranged.clinic, f"{url}/family", events=["appointment.*"])
        ).endpoint
        exact = (
            await create_endpoint(runtime, arranged.clinic, f"{url}/exact", events=["appointment.created"])
        ).endpoint
        leads_only = (
            await create_endpoint(runtime, arranged.clinic, f"{url}/leads", events=["lead.created"])
        ).endpoint
        disabled = (await create_endpoint(runtime, arranged.clinic, f"{url}/disabled")).endpoint
        elsewhere = (await create_endpoint(runtime, other_clinic.clinic, f"{url}/all")).endpoint
        async with runtime.sessions() as session, session.begin():
            await events_service.disable_endpoint(
                session,
                clinic_id=arranged.clinic.id,
                endpoint_id=disabled.id,
                actor=SYSTEM,
            )

        created = await emit_event(runtime, arranged.clinic, "appointment.created")
        cancelled = await emit_event(runtime, arranged.clinic, "appointment.cancelled")
        assert await fan_out(runtime, arranged.clinic) == 2

        assert {d.endpoint_id for d in await deliveries_of(runtime, created)} == {
            everything.id,
            family.id,
            exact.id,
        }
        assert {d.endpoint_id for d in await deliveries_of(runtime, cancelled)} == {everything.id, family.id}
        assert leads_only.id not in {d.endpoint_id for d in await deliveries_of(runtime, created)}
        assert elsewhere.clinic_id != created.clinic_id
        assert await fan_out(runtime, arranged.clinic) == 0  # each event is fanned out once

    async def test_an_endpoint_bound_to_an_aggregate_hears_only_that_aggregate(
        self, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        invite_id = str(uuid.uuid4())
        bound = (
            await create_endpoint(
                runtime,
                arranged.clinic,
                "http://127.0.0.1:9/invite",
                format=WebhookFormat.qualiphy,
                bound_to=("invite", invite_id),
            )
        ).endpoint
        mine = await emit_event(
            runtime, arranged.clinic, PATIENT_EXAM_COMPLETED, aggregate_type="invite", aggregate_id=invite_id
        )
        other = await emit_event(runtime, arranged.clinic, PATIENT_EXAM_COMPLETED, aggregate_type="invite")
        await fan_out(runtime, arranged.clinic)
        assert [d.endpoint_id for d in await deliveries_of(runtime, mine)] == [bound.id]
        assert await deliveries_of(runtime, other) == []

    async def test_deliveries_of_a_format_without_a_renderer_wait_until_one_is_registered(
        self, runtime: Runtime, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Every format has its renderer now: take intakeq's away to stand for one not registered yet.
        monkeypatch.delitem(renderers._renderers, "intakeq", raising=False)
        monkeypatch.delitem(renderers._only_event_types, "intakeq", raising=False)
        monkeypatch.delitem(renderers._event_type_labels, "intakeq", raising=False)
        arranged = await create_clinic(runtime)
        endpoint = (
            await create_endpoint(runtime, arranged.clinic, receiver.url(), format=WebhookFormat.intakeq)
        ).endpoint
        assert events_service.waits_for_renderer(endpoint)
        event = await emit_event(runtime, arranged.clinic, "appointment.created")
        assert await run_webhook_jobs(runtime, arranged.clinic) == 0
        waiting = await delivery_of(runtime, event, endpoint)
        assert waiting is not None and waiting.status == WebhookDeliveryStatus.pending

        def render_intakeq(event: Event, _endpoint: WebhookEndpoint) -> RenderedWebhook:
            return RenderedWebhook(body=b'{"EventType":"AppointmentCreated"}', headers={"x-intakeq": "1"})

        def sign_intakeq(
            delivery_id: uuid.UUID, secrets: Sequence[str], timestamp: int, body: bytes
        ) -> dict[str, str]:
            return {"x-intakeq-signature": f"{delivery_id}/{len(secrets)}/{timestamp}/{len(body)}"}

        monkeypatch.setitem(renderers._renderers, "intakeq", render_intakeq)
        monkeypatch.setitem(renderers._signers, "intakeq", sign_intakeq)
        assert await run_webhook_jobs(runtime, arranged.clinic) == 1
        [webhook] = receiver.received
        assert webhook.body == b'{"EventType":"AppointmentCreated"}'
        assert webhook.headers["x-intakeq"] == "1"
        timestamp = webhook.headers["webhook-timestamp"]
        assert webhook.headers["x-intakeq-signature"] == f"{waiting.id}/1/{timestamp}/{len(webhook.body)}"
        assert webhook.webhook_id == event.id  # every format carries the Standard Webhooks headers

    async def test_a_test_event_goes_to_its_endpoint_only_whatever_the_filter(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(runtime)
        target = (
            await create_endpoint(runtime, arranged.clinic, receiver.url(), events=["lead.created"])
        ).endpoint
        bystander = (await create_endpoint(runtime, arranged.clinic, receiver.url("/other"))).endpoint
        async with runtime.sessions() as session, session.begin():
            event = await events_service.send_test_event(
                session, clinic_id=arranged.clinic.id, endpoint_id=target.id
            )
        await run_webhook_jobs(runtime, arranged.clinic)
        [webhook] = receiver.received
        assert webhook.path == "/hooks"
        assert webhook.json()["type"] == "webhook.test"
        assert webhook.json()["data"]["endpoint_id"] == str(target.id)
        assert await delivery_of(runtime, event, bystander) is None
