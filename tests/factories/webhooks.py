"""Arranging webhook tests through the core services, and running the worker's webhook jobs for one
clinic only (other tests' deliveries in the same database are left alone)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from clinicore.core.events import service as events_service
from clinicore.core.events.schemas import AttemptQuery, AttemptView, CreatedEndpoint
from clinicore.core.models import Clinic, Event, WebhookDelivery, WebhookEndpoint, WebhookFormat
from clinicore.runtime import Runtime
from clinicore.worker.webhooks import deliver_due_webhooks, fan_out_pending_events
from tests.support import remember_secret


async def create_endpoint(
    runtime: Runtime,
    clinic: Clinic,
    url: str,
    *,
    format: WebhookFormat = WebhookFormat.native,
    events: Sequence[str] | None = None,
    bound_to: tuple[str, str] | None = None,
) -> CreatedEndpoint:
    async with runtime.sessions() as session, session.begin():
        created = await events_service.create_endpoint(
            session,
            box=runtime.box,
            clinic_id=clinic.id,
            format=format,
            url=url,
            event_types=events,
            allow_private_targets=True,
            clock=runtime.clock,
            bound_aggregate_type=bound_to[0] if bound_to else None,
            bound_aggregate_id=bound_to[1] if bound_to else None,
        )
    remember_secret(created.secret)
    return created


async def emit_event(
    runtime: Runtime,
    clinic: Clinic,
    type: str = "appointment.created",
    *,
    aggregate_type: str = "appointment",
    aggregate_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    async with runtime.sessions() as session, session.begin():
        return await events_service.emit(
            session,
            clinic_id=clinic.id,
            type=type,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id or str(uuid.uuid4()),
            payload=payload or {"note": "hello"},
            clock=runtime.clock,
        )


async def fan_out(runtime: Runtime, clinic: Clinic) -> int:
    async with runtime.sessions() as session, session.begin():
        return await fan_out_pending_events(session, runtime, clinic_id=clinic.id)


async def run_webhook_jobs(runtime: Runtime, clinic: Clinic) -> int:
    """Fan out, then send what is due; return how many deliveries were attempted."""
    await fan_out(runtime, clinic)
    return await deliver_due_webhooks(runtime, clinic_id=clinic.id)


async def delivery_of(runtime: Runtime, event: Event, endpoint: WebhookEndpoint) -> WebhookDelivery | None:
    async with runtime.sessions() as session:
        return await session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.event_sequence == event.sequence, WebhookDelivery.endpoint_id == endpoint.id
            )
        )


async def deliveries_of(runtime: Runtime, event: Event) -> list[WebhookDelivery]:
    async with runtime.sessions() as session:
        result = await session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.event_sequence == event.sequence)
        )
        return list(result.all())


async def reload_endpoint(runtime: Runtime, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    async with runtime.sessions() as session:
        reloaded = await session.get(WebhookEndpoint, endpoint.id)
        assert reloaded is not None
        return reloaded


async def attempts_of(runtime: Runtime, endpoint: WebhookEndpoint, **filters: Any) -> list[AttemptView]:
    """The endpoint's attempt log, oldest first."""
    async with runtime.sessions() as session:
        views = await events_service.list_attempts(
            session,
            clinic_id=endpoint.clinic_id,
            endpoint_id=endpoint.id,
            query=AttemptQuery(limit=200, **filters),
        )
    return list(reversed(views))
