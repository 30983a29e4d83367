"""Native API: webhook endpoints, their delivery log and replays."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from clinicore.core.audit.service import Actor
from clinicore.core.events import service as events_service
from clinicore.core.events.schemas import AttemptFilter, AttemptQuery, AttemptView
from clinicore.core.models import WebhookAttemptOutcome, WebhookEndpoint, WebhookFormat
from clinicore.kit.errors import InvalidInput
from clinicore.kit.inputs import SupportedDateTime
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.surfaces.native.auth import NativeKey

router = APIRouter(tags=["webhooks"])

EventTypes = Annotated[
    list[str] | None,
    Field(
        max_length=events_service.MAX_EVENT_TYPES,
        description='Event types to receive ("appointment.created", "appointment.*"); all when absent. '
        "A qualiphy endpoint takes only patient_exam.completed, prescription.confirmed and "
        "prescription.shipped (Qualiphy events 1, 2 and 3), and all three when absent.",
    ),
]


class WebhookEndpointCreate(BaseModel):
    format: WebhookFormat = Field(
        description="The body's format. qualiphy: Qualiphy's events 1/2/3 for every exam of the clinic, "
        "as to an invite's webhook_url."
    )
    url: str = Field(
        max_length=events_service.MAX_URL_LENGTH, description="An http(s) URL on a public address."
    )
    events: EventTypes = None
    strict_order: bool = Field(
        default=False,
        description="Deliver the events of one aggregate (one appointment, one exam) one at a time, in "
        "order; unrelated events still go out side by side. By default no order is promised: order by "
        "the aggregate version each event carries.",
    )


class WebhookEndpointPublic(BaseModel):
    id: uuid.UUID
    format: WebhookFormat
    url: str
    events: list[str] | None
    strict_order: bool = False
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None = Field(description="First failed attempt since the last success.")
    created_at: datetime


class WebhookEndpointCreated(BaseModel):
    id: uuid.UUID
    format: WebhookFormat
    url: str
    events: list[str] | None
    secret: str = Field(
        description="whsec_…: verify the webhook-signature header with it (Standard Webhooks)."
    )
    strict_order: bool = False
    enabled: bool
    created_at: datetime


class WebhookEndpointEnable(BaseModel):
    replay_backlog: bool = Field(
        default=True, description="Also send every event since the failure began that did not get through."
    )


class WebhookEndpointEnabled(WebhookEndpointPublic):
    replayed: int = Field(description="Events queued again from the backlog.")


class WebhookAttemptPublic(BaseModel):
    id: uuid.UUID
    event_id: str
    event_type: str
    attempt: int
    attempted_at: datetime
    url: str
    status_code: int | None
    latency_ms: int
    response: str = Field(description="The first 1 KB of the answer.")
    error: str | None
    outcome: WebhookAttemptOutcome


class EndpointReplay(BaseModel):
    since: SupportedDateTime
    until: SupportedDateTime | None = Field(default=None, description="Now when absent.")


class EndpointReplayed(BaseModel):
    endpoint_id: uuid.UUID
    replayed: int


class EventReplay(BaseModel):
    endpoint_id: uuid.UUID | None = Field(
        default=None, description="Every endpoint receiving the event when absent."
    )


class EventReplayed(BaseModel):
    event_id: str
    endpoint_ids: list[uuid.UUID]


class WebhookTestSent(BaseModel):
    event_id: str


def endpoint_public(endpoint: WebhookEndpoint) -> WebhookEndpointPublic:
    return WebhookEndpointPublic(
        id=endpoint.id,
        format=WebhookFormat(endpoint.format),
        url=endpoint.url,
        events=endpoint.event_types,
        strict_order=endpoint.strict_order,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        failing_since=endpoint.failing_since,
        created_at=endpoint.created_at,
    )


def attempt_public(view: AttemptView) -> WebhookAttemptPublic:
    attempt = view.attempt
    return WebhookAttemptPublic(
        id=attempt.id,
        event_id=view.event_id,
        event_type=view.event_type,
        attempt=attempt.attempt_number,
        attempted_at=attempt.attempted_at,
        url=attempt.url,
        status_code=attempt.status_code,
        latency_ms=attempt.latency_ms,
        response=attempt.response_excerpt,
        error=attempt.error,
        outcome=WebhookAttemptOutcome(attempt.outcome),
    )


def clinic_of(caller: NativeKey) -> uuid.UUID:
    return caller.clinic.id


def require_time_zone(**moments: datetime | None) -> None:
    for name, moment in moments.items():
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput(f"{name}: include a time zone, e.g. 2025-01-31T09:00:00Z", field=name)


@router.post(
    "/webhook-endpoints",
    response_model=WebhookEndpointCreated,
    status_code=201,
    summary="Create a webhook endpoint",
)
async def create_webhook_endpoint(
    body: WebhookEndpointCreate, caller: NativeKey, session: SessionDep, runtime: RuntimeDep
) -> WebhookEndpointCreated:
    created = await events_service.create_endpoint(
        session,
        box=runtime.box,
        clinic_id=clinic_of(caller),
        format=WebhookFormat(body.format),
        url=body.url,
        event_types=body.events,
        strict_order=body.strict_order,
        allow_private_targets=runtime.settings.private_webhooks_allowed,
        owner_key_id=caller.key.id,
        actor=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    endpoint = created.endpoint
    return WebhookEndpointCreated(
        id=endpoint.id,
        format=WebhookFormat(endpoint.format),
        url=endpoint.url,
        events=endpoint.event_types,
        secret=created.secret,
        strict_order=endpoint.strict_order,
        enabled=endpoint.enabled,
        created_at=endpoint.created_at,
    )


@router.get(
    "/webhook-endpoints", response_model=list[WebhookEndpointPublic], summary="The clinic's webhook endpoints"
)
async def list_webhook_endpoints(caller: NativeKey, session: SessionDep) -> list[WebhookEndpointPublic]:
    return [
        endpoint_public(item)
        for item in await events_service.list_endpoints(session, clinic_id=clinic_of(caller))
    ]


@router.get(
    "/webhook-endpoints/{endpoint_id}", response_model=WebhookEndpointPublic, summary="One webhook endpoint"
)
async def get_webhook_endpoint(
    endpoint_id: uuid.UUID, caller: NativeKey, session: SessionDep
) -> WebhookEndpointPublic:
    endpoint = await events_service.get_endpoint(
        session, clinic_id=clinic_of(caller), endpoint_id=endpoint_id
    )
    return endpoint_public(endpoint)


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a webhook endpoint with its deliveries and log",
)
async def delete_webhook_endpoint(
    endpoint_id: uuid.UUID, caller: NativeKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await events_service.delete_endpoint(
        session,
        clinic_id=clinic_of(caller),
        endpoint_id=endpoint_id,
        actor=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    return Response(status_code=204)


@router.get(
    "/webhook-endpoints/{endpoint_id}/attempts",
    response_model=list[WebhookAttemptPublic],
    summary="The endpoint's delivery attempts, newest first",
)
async def list_webhook_attempts(
    endpoint_id: uuid.UUID,
    caller: NativeKey,
    session: SessionDep,
    status: Annotated[AttemptFilter | None, Query(description="succeeded or failed")] = None,
    event_type: Annotated[str | None, Query(max_length=100)] = None,
    event_id: Annotated[str | None, Query(max_length=32)] = None,
    since: SupportedDateTime | None = None,
    until: SupportedDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[WebhookAttemptPublic]:
    require_time_zone(since=since, until=until)
    query = AttemptQuery(
        outcome=status, event_type=event_type, event_id=event_id, since=since, until=until, limit=limit
    )
    views = await events_service.list_attempts(
        session, clinic_id=clinic_of(caller), endpoint_id=endpoint_id, query=query
    )
    return [attempt_public(view) for view in views]


@router.post(
    "/webhook-endpoints/{endpoint_id}/replay",
    response_model=EndpointReplayed,
    status_code=202,
    summary="Send every event between since and until to the endpoint again",
)
async def replay_webhook_endpoint(
    endpoint_id: uuid.UUID, body: EndpointReplay, caller: NativeKey, session: SessionDep, runtime: RuntimeDep
) -> EndpointReplayed:
    require_time_zone(since=body.since, until=body.until)
    replayed = await events_service.replay_endpoint(
        session,
        clinic_id=clinic_of(caller),
        endpoint_id=endpoint_id,
        since=body.since,
        until=body.until,
        actor=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    return EndpointReplayed(endpoint_id=endpoint_id, replayed=replayed)


@router.post(
    "/events/{event_id}/replay",
    response_model=EventReplayed,
    status_code=202,
    summary="Send one event again to one endpoint or to every endpoint that receives it",
)
async def replay_event(
    event_id: str,
    caller: NativeKey,
    session: SessionDep,
    runtime: RuntimeDep,
    body: EventReplay | None = None,
) -> EventReplayed:
    endpoints = await events_service.replay_event(
        session,
        clinic_id=clinic_of(caller),
        event_id=event_id,
        endpoint_id=body.endpoint_id if body else None,
        actor=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    return EventReplayed(event_id=event_id, endpoint_ids=[endpoint.id for endpoint in endpoints])


@router.post(
    "/webhook-endpoints/{endpoint_id}/disable",
    response_model=WebhookEndpointPublic,
    summary="Stop sending to the endpoint",
)
async def disable_webhook_endpoint(
    endpoint_id: uuid.UUID, caller: NativeKey, session: SessionDep, runtime: RuntimeDep
) -> WebhookEndpointPublic:
    endpoint = await events_service.disable_endpoint(
        session,
        clinic_id=clinic_of(caller),
        endpoint_id=endpoint_id,
        actor=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    return endpoint_public(endpoint)


@router.post(
    "/webhook-endpoints/{endpoint_id}/enable",
    response_model=WebhookEndpointEnabled,
    summary="Send to the endpoint again, optionally replaying the backlog since it failed",
)
async def enable_webhook_endpoint(
    endpoint_id: uuid.UUID,
    caller: NativeKey,
    session: SessionDep,
    runtime: RuntimeDep,
    body: WebhookEndpointEnable | None = None,
) -> WebhookEndpointEnabled:
    clinic_id = clinic_of(caller)
    replayed = await events_service.enable_endpoint(
        session,
        clinic_id=clinic_id,
        endpoint_id=endpoint_id,
        replay_backlog=(body or WebhookEndpointEnable()).replay_backlog,
        actor=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    endpoint = await events_service.get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
    return WebhookEndpointEnabled(**endpoint_public(endpoint).model_dump(), replayed=replayed)


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    response_model=WebhookEndpointCreated,
    summary="Replace the secret; the old one keeps signing beside it for 24 hours",
)
async def rotate_webhook_secret(
    endpoint_id: uuid.UUID, caller: NativeKey, session: SessionDep, runtime: RuntimeDep
) -> WebhookEndpointCreated:
    rotated = await events_service.rotate_secret(
        session,
        box=runtime.box,
        clinic_id=clinic_of(caller),
        endpoint_id=endpoint_id,
        actor=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    endpoint = rotated.endpoint
    return WebhookEndpointCreated(
        id=endpoint.id,
        format=WebhookFormat(endpoint.format),
        url=endpoint.url,
        events=endpoint.event_types,
        secret=rotated.secret,
        strict_order=endpoint.strict_order,
        enabled=endpoint.enabled,
        created_at=endpoint.created_at,
    )


@router.post(
    "/webhook-endpoints/{endpoint_id}/test",
    response_model=WebhookTestSent,
    status_code=202,
    summary="Send a webhook.test event to this endpoint only",
    description="A qualiphy endpoint has no test event (409): replay one of its events to it instead.",
)
async def send_test_webhook(
    endpoint_id: uuid.UUID, caller: NativeKey, session: SessionDep, runtime: RuntimeDep
) -> WebhookTestSent:
    event = await events_service.send_test_event(
        session, clinic_id=clinic_of(caller), endpoint_id=endpoint_id, clock=runtime.clock
    )
    return WebhookTestSent(event_id=event.id)
