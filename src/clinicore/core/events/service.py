"""Events and webhooks: the outbox, endpoints, replays and the delivery log.

``emit`` writes an event in the caller's transaction, so a change and its event commit together or
not at all. What the worker does with events (fan-out, claims, the HTTP rules) is in ``dispatch.py``.
Services never commit.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.events import repository
from clinicore.core.events.renderers import (
    always_strict_order as always_strict_order,
)
from clinicore.core.events.renderers import (
    event_types_label,
    json_bytes,
    registered_formats,
    renderable_event_types,
)
from clinicore.core.events.schemas import (
    AttemptQuery,
    AttemptView,
    CreatedEndpoint,
)
from clinicore.core.models import (
    Event,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookFormat,
)
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.crypto import SecretBox
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.kit.ids import sortable_id
from clinicore.kit.signing import generate_secret
from clinicore.kit.ssrf import Resolver, check_url, system_resolver

EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
# An endpoint's filter: exact types, "appointment.*" for a family, or "*".
EVENT_TYPE_PATTERN = re.compile(
    r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$"
)
MAX_EVENT_TYPES = 100
MAX_URL_LENGTH = 2048
TEST_EVENT_TYPE = "webhook.test"
SECRET_ROTATION_OVERLAP = timedelta(hours=24)
REPLAY_BATCH = 500
USER_DISABLED_REASON = "disabled by a user"


# --- the outbox -----------------------------------------------------------------------------------


async def emit(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    type: str,
    aggregate_type: str,
    aggregate_id: str | uuid.UUID | int,
    payload: dict[str, Any],
    clock: Clock = system_clock,
    version: int | None = None,
    target_endpoint_id: uuid.UUID | None = None,
) -> Event:
    """Write an event in the caller's transaction.

    Its aggregate version is the aggregate's next one, or ``version`` when the aggregate keeps its own
    (an appointment's row version); either way a receiver keeps the highest version it has seen."""
    if not EVENT_TYPE.match(type):
        raise InvalidInput(
            f"type: {type!r} is not a dotted event type such as appointment.created", field="type"
        )
    if version is not None and version < 1:
        raise InvalidInput("version: must be 1 or more", field="version")
    aggregate_key = str(aggregate_id)
    assigned_version = await repository.next_aggregate_version(
        session,
        clinic_id=clinic_id,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_key,
        explicit_version=version,
    )
    now = clock.now()
    event = Event(
        id=sortable_id("evt", at_ms=int(now.timestamp() * 1000)),
        clinic_id=clinic_id,
        type=type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_key,
        aggregate_version=assigned_version,
        payload=json.loads(json_bytes(payload)),  # stored exactly as every renderer will see it
        occurred_at=now,
        target_endpoint_id=target_endpoint_id,
    )
    # Not flushed here: a transaction's events are inserted together when it commits (its sequence
    # numbers are set then), one statement for many events instead of one each.
    session.add(event)
    return event


def event_type_matches(patterns: Sequence[str] | None, event_type: str) -> bool:
    if patterns is None:
        return True
    return any(
        pattern in ("*", event_type) or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))
        for pattern in patterns
    )


def endpoint_receives(endpoint: WebhookEndpoint, event: Event) -> bool:
    if event.target_endpoint_id is not None:
        return event.target_endpoint_id == endpoint.id
    if endpoint.bound_aggregate_type is not None and (
        endpoint.bound_aggregate_type != event.aggregate_type
        or endpoint.bound_aggregate_id != event.aggregate_id
    ):
        return False
    return event_type_matches(endpoint.event_types, event.type)


def one_per_target(
    endpoints: Iterable[WebhookEndpoint], *, preferred: Collection[uuid.UUID] = ()
) -> list[WebhookEndpoint]:
    """Of the endpoints receiving one event, one per format and URL: a receiver registered twice (an
    invite's webhook_url and the clinic's own endpoint at the same URL) gets the event once. The one kept
    is an endpoint in ``preferred`` (it has the event already), else one bound to an aggregate (it
    hears the whole aggregate, in order), else the oldest."""
    kept: dict[tuple[str, str], WebhookEndpoint] = {}
    for endpoint in endpoints:
        target = (endpoint.format, endpoint.url)
        current = kept.get(target)
        if current is None or _preference(endpoint, preferred) < _preference(current, preferred):
            kept[target] = endpoint
    return list(kept.values())


def _preference(
    endpoint: WebhookEndpoint, preferred: Collection[uuid.UUID]
) -> tuple[bool, bool, datetime, str]:
    return (
        endpoint.id not in preferred,
        endpoint.bound_aggregate_type is None,
        endpoint.created_at,
        str(endpoint.id),
    )


# --- endpoints ------------------------------------------------------------------------------------


def normalise_event_types(event_types: Sequence[str] | None) -> list[str] | None:
    if event_types is None:
        return None
    cleaned = list(dict.fromkeys(item.strip() for item in event_types if item.strip()))
    if not cleaned:
        raise InvalidInput(
            "events: name at least one event type, or leave it out for every event", field="events"
        )
    if len(cleaned) > MAX_EVENT_TYPES:
        raise InvalidInput(f"events: at most {MAX_EVENT_TYPES} event types", field="events")
    for item in cleaned:
        if not EVENT_TYPE_PATTERN.match(item):
            raise InvalidInput(
                f"events: {item!r} is not an event type such as appointment.created or appointment.*",
                field="events",
            )
    return cleaned


def event_types_for_format(format: str, event_types: Sequence[str] | None) -> list[str] | None:
    """An endpoint's filter, checked against what its format can render: a format with a body for a few
    event types only (Qualiphy's events 1/2/3) takes those types by name, and defaults to all of them."""
    cleaned = normalise_event_types(event_types)
    renderable = renderable_event_types(format)
    if renderable is None:
        return cleaned
    if cleaned is None:
        return list(renderable)
    for item in cleaned:
        if item not in renderable:
            raise InvalidInput(
                f"events: {format} endpoints receive only {_describe(format, renderable)}; "
                f"{item!r} is not one of them",
                field="events",
            )
    return cleaned


def _describe(format: str, event_types: Sequence[str]) -> str:
    listed = ", ".join(event_types)
    label = event_types_label(format)
    return f"{listed} ({label})" if label else listed


def receives_test_events(endpoint: WebhookEndpoint) -> bool:
    """False for a format with a body for a few event types only, which has none for webhook.test."""
    renderable = renderable_event_types(endpoint.format)
    return renderable is None or TEST_EVENT_TYPE in renderable


async def set_strict_order(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    strict_order: bool,
    actor: Actor,
    clock: Clock = system_clock,
) -> WebhookEndpoint:
    """Deliver each aggregate's events one at a time and in order (on), or side by side (off). It
    applies from the next claim: deliveries in flight finish as they were sent."""
    endpoint = await get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
    if not strict_order and always_strict_order(endpoint.format):
        raise InvalidInput(
            f"strict_order: {endpoint.format} endpoints always get each aggregate's events in order",
            field="strict_order",
        )
    if endpoint.strict_order != strict_order:
        endpoint.strict_order = strict_order
        endpoint.updated_at = clock.now()
        await audit_endpoint(
            session,
            endpoint,
            actor,
            "webhook_endpoint.strict_order_changed",
            clock,
            strict_order=strict_order,
        )
    return endpoint


async def create_endpoint(
    session: AsyncSession,
    *,
    box: SecretBox,
    clinic_id: uuid.UUID,
    format: WebhookFormat,
    url: str,
    allow_private_targets: bool,
    event_types: Sequence[str] | None = None,
    strict_order: bool = False,
    owner_key_id: uuid.UUID | None = None,
    bound_aggregate_type: str | None = None,
    bound_aggregate_id: str | uuid.UUID | None = None,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
    resolver: Resolver = system_resolver,
) -> CreatedEndpoint:
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"url: at most {MAX_URL_LENGTH} characters", field="url")
    await check_url(url, allow_private=allow_private_targets, resolver=resolver)
    if (bound_aggregate_type is None) != (bound_aggregate_id is None):
        raise InvalidInput("a bound endpoint needs both the aggregate type and id")
    now = clock.now()
    secret = generate_secret()
    endpoint = WebhookEndpoint(
        clinic_id=clinic_id,
        format=format,
        url=url,
        event_types=event_types_for_format(str(format), event_types),
        encrypted_secret=box.encrypt(secret),
        owner_key_id=owner_key_id,
        bound_aggregate_type=bound_aggregate_type,
        bound_aggregate_id=str(bound_aggregate_id) if bound_aggregate_id is not None else None,
        enabled=True,
        strict_order=strict_order or always_strict_order(str(format)),
        failing_attempt_seconds=0,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    await audit_endpoint(session, endpoint, actor, "webhook_endpoint.created", clock, format=str(format))
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


async def list_endpoints(session: AsyncSession, *, clinic_id: uuid.UUID) -> Sequence[WebhookEndpoint]:
    """The clinic's endpoints, without the ones bound to a single aggregate (invite webhook URLs)."""
    return await repository.list_endpoints(session, clinic_id)


async def get_endpoint(
    session: AsyncSession, *, clinic_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    endpoint = await repository.get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
    if endpoint is None:
        raise NotFound("webhook endpoint not found")
    return endpoint


async def delete_endpoint(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    actor: Actor,
    clock: Clock = system_clock,
) -> None:
    endpoint = await get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
    await audit_endpoint(session, endpoint, actor, "webhook_endpoint.deleted", clock, format=endpoint.format)
    await repository.delete_endpoint(session, endpoint)


def reveal_secret(box: SecretBox, endpoint: WebhookEndpoint) -> str:
    return box.decrypt(endpoint.encrypted_secret)


def signing_secrets(box: SecretBox, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its 24 hours of overlap last."""
    secrets = [box.decrypt(endpoint.encrypted_secret)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_encrypted_secret and expires is not None and expires > now:
        secrets.append(box.decrypt(endpoint.previous_encrypted_secret))
    return secrets


async def rotate_secret(
    session: AsyncSession,
    *,
    box: SecretBox,
    clinic_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    actor: Actor,
    clock: Clock = system_clock,
) -> CreatedEndpoint:
    endpoint = await get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
    now = clock.now()
    secret = generate_secret()
    endpoint.previous_encrypted_secret = endpoint.encrypted_secret
    endpoint.previous_secret_expires_at = now + SECRET_ROTATION_OVERLAP
    endpoint.encrypted_secret = box.encrypt(secret)
    endpoint.updated_at = now
    await audit_endpoint(session, endpoint, actor, "webhook_endpoint.secret_rotated", clock)
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


def backlog_since(endpoint: WebhookEndpoint) -> datetime | None:
    """Where the backlog of a disabled endpoint starts: its first failure, or when it was disabled."""
    return endpoint.failing_since or endpoint.disabled_at


async def disable_endpoint(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    actor: Actor,
    clock: Clock = system_clock,
) -> WebhookEndpoint:
    """Stop sending. Deliveries already queued wait; events emitted meanwhile can be replayed later."""
    endpoint = await get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
    if endpoint.enabled:
        mark_disabled(endpoint, USER_DISABLED_REASON, clock.now())
        await audit_endpoint(
            session, endpoint, actor, "webhook_endpoint.disabled", clock, reason=USER_DISABLED_REASON
        )
    return endpoint


async def enable_endpoint(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    replay_backlog: bool,
    actor: Actor,
    clock: Clock = system_clock,
) -> int:
    """Send again. Queued deliveries resume in order. With ``replay_backlog`` the backlog is queued too:
    every delivery that ran out of retries since the failure began (its event may be older: the first
    failing message was emitted before it failed), and every event since then that the endpoint never
    got (emitted while it was disabled). Returns how many were queued."""
    endpoint = await get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
    if endpoint.enabled:
        return 0
    now = clock.now()
    since = backlog_since(endpoint)
    endpoint.enabled = True
    endpoint.disabled_reason = None
    endpoint.disabled_at = None
    end_failing_streak(endpoint)
    endpoint.updated_at = now
    replayed = 0
    if replay_backlog and since is not None:
        for delivery in await repository.failed_deliveries_attempted_since(
            session, endpoint_id=endpoint.id, since=since
        ):
            replayed += _requeue(delivery, now)
        replayed += await _replay_window(
            session,
            endpoint,
            since=since,
            until=now + timedelta(microseconds=1),
            include_delivered=False,
            now=now,
        )
    await audit_endpoint(session, endpoint, actor, "webhook_endpoint.enabled", clock, replayed=replayed)
    return replayed


async def send_test_event(
    session: AsyncSession, *, clinic_id: uuid.UUID, endpoint_id: uuid.UUID, clock: Clock = system_clock
) -> Event:
    """A ``webhook.test`` event addressed to this endpoint only, whatever its filter."""
    endpoint = await get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled: enable it before sending a test event")
    if not receives_test_events(endpoint):
        # Its format has no body for a test event: a delivery that can never render would only fail.
        renderable = renderable_event_types(endpoint.format) or ()
        raise Conflict(
            f"{endpoint.format} endpoints receive only {_describe(endpoint.format, renderable)}, "
            f"never a test event: to try this endpoint, replay one of those events to it"
        )
    return await emit(
        session,
        clinic_id=clinic_id,
        type=TEST_EVENT_TYPE,
        aggregate_type="webhook_endpoint",
        aggregate_id=endpoint.id,
        payload={"endpoint_id": str(endpoint.id), "message": "A test event from Clinicore."},
        clock=clock,
        target_endpoint_id=endpoint.id,
    )


def end_failing_streak(endpoint: WebhookEndpoint) -> None:
    endpoint.failing_since = None
    endpoint.last_failure_at = None
    endpoint.failing_attempt_seconds = 0


def mark_disabled(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now
    endpoint.updated_at = now


async def audit_endpoint(
    session: AsyncSession, endpoint: WebhookEndpoint, actor: Actor, action: str, clock: Clock, **details: Any
) -> None:
    # Never the URL: it may carry the receiver's credentials.
    await audit_service.record(
        session,
        clinic_id=endpoint.clinic_id,
        actor=actor,
        action=action,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        details=details,
        clock=clock,
    )


# --- replays --------------------------------------------------------------------------------------


async def replay_event(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    event_id: str,
    endpoint_id: uuid.UUID | None = None,
    actor: Actor,
    clock: Clock = system_clock,
) -> Sequence[WebhookEndpoint]:
    """Send one event again to ``endpoint_id``, or to every enabled endpoint that receives it (one per
    format and URL, as the fan-out chose).

    An event not fanned out yet is already on its way, so there is nothing to replay."""
    event = await repository.get_event(session, clinic_id=clinic_id, event_id=event_id)
    if event is None:
        raise NotFound("event not found")
    existing: dict[uuid.UUID, WebhookDelivery] = {}
    if event.fanned_out_at is not None:
        existing = {
            delivery.endpoint_id: delivery
            for delivery in await repository.deliveries_of_event(session, event.sequence)
        }
    if endpoint_id is not None:
        endpoint = await get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
        if not endpoint.enabled:
            raise Conflict("the endpoint is disabled: enable it before replaying to it")
        if not endpoint_receives(endpoint, event):
            raise InvalidInput(
                f"endpoint_id: this endpoint does not receive {event.type} events", field="endpoint_id"
            )
        endpoints: Sequence[WebhookEndpoint] = [endpoint]
    else:
        endpoints = one_per_target(
            (
                item
                for item in await repository.enabled_endpoints(session, clinic_id)
                if endpoint_receives(item, event)
            ),
            preferred=existing.keys(),
        )
    if event.fanned_out_at is None:
        return endpoints
    now = clock.now()
    for endpoint in endpoints:
        await _redeliver(
            session,
            event=event,
            endpoint=endpoint,
            existing=existing.get(endpoint.id),
            include_delivered=True,
            now=now,
        )
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="webhook_event.replayed",
        target_type="event",
        target_id=event.id,
        details={"endpoints": len(endpoints)},
        clock=clock,
    )
    return endpoints


async def replay_endpoint(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    since: datetime,
    until: datetime | None = None,
    actor: Actor,
    clock: Clock = system_clock,
) -> int:
    """Send every event that occurred in [since, until) to the endpoint again (delivered ones too)."""
    endpoint = await get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled: enable it before replaying to it")
    now = clock.now()
    until = until or now + timedelta(microseconds=1)
    if since.tzinfo is None or until.tzinfo is None:
        raise InvalidInput("since and until need a time zone (e.g. 2025-01-31T09:00:00Z)")
    if since >= until:
        raise InvalidInput("since: must be before until", field="since")
    replayed = await _replay_window(
        session, endpoint, since=since, until=until, include_delivered=True, now=now
    )
    await audit_endpoint(
        session,
        endpoint,
        actor,
        "webhook_endpoint.replayed",
        clock,
        since=since.isoformat(),
        until=until.isoformat(),
        replayed=replayed,
    )
    return replayed


async def _replay_window(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    *,
    since: datetime,
    until: datetime,
    include_delivered: bool,
    now: datetime,
) -> int:
    replayed = 0
    after_sequence = 0
    while True:
        events = await repository.fanned_out_events_between(
            session,
            clinic_id=endpoint.clinic_id,
            since=since,
            until=until,
            after_sequence=after_sequence,
            limit=REPLAY_BATCH,
        )
        if not events:
            return replayed
        sequences = [event.sequence for event in events]
        existing = await repository.deliveries_for_endpoint(
            session, endpoint_id=endpoint.id, event_sequences=sequences
        )
        # The backlog is what the receiver never got: not what reached it through another endpoint of
        # the same format and URL (an invite's webhook_url beside the clinic's endpoint).
        got_elsewhere = (
            set()
            if include_delivered
            else await repository.sequences_sent_to_same_target(
                session, endpoint=endpoint, event_sequences=sequences
            )
        )
        for event in events:
            if event.sequence in got_elsewhere:
                continue
            if endpoint_receives(endpoint, event) and await _redeliver(
                session,
                event=event,
                endpoint=endpoint,
                existing=existing.get(event.sequence),
                include_delivered=include_delivered,
                now=now,
            ):
                replayed += 1
        after_sequence = events[-1].sequence


async def _redeliver(
    session: AsyncSession,
    *,
    event: Event,
    endpoint: WebhookEndpoint,
    existing: WebhookDelivery | None,
    include_delivered: bool,
    now: datetime,
) -> bool:
    """Queue the event for the endpoint again; False when it is already queued (or was delivered and
    only the undelivered backlog is wanted)."""
    if existing is None:
        await repository.insert_delivery_unless_exists(
            session,
            repository.new_delivery(
                clinic_id=event.clinic_id, endpoint_id=endpoint.id, event_sequence=event.sequence, now=now
            ),
        )
        return True
    if existing.status == WebhookDeliveryStatus.pending:
        return False
    if not include_delivered and existing.status in (
        WebhookDeliveryStatus.delivered,
        WebhookDeliveryStatus.aborted,
    ):
        return False
    return _requeue(existing, now)


def _requeue(delivery: WebhookDelivery, now: datetime) -> bool:
    """Queue a finished delivery again, at the start of the retry schedule (its attempts stay logged)."""
    delivery.status = WebhookDeliveryStatus.pending
    delivery.retry_step = 0
    delivery.next_attempt_at = now
    delivery.claimed_by = None
    delivery.claimed_until = None
    delivery.delivered_at = None
    return True


# --- the delivery log -----------------------------------------------------------------------------


async def list_attempts(
    session: AsyncSession, *, clinic_id: uuid.UUID, endpoint_id: uuid.UUID, query: AttemptQuery
) -> list[AttemptView]:
    await get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
    rows = await repository.list_attempts(
        session, clinic_id=clinic_id, endpoint_id=endpoint_id, filters=query
    )
    return [
        AttemptView(attempt=attempt, event_id=event_id, event_type=event_type)
        for attempt, event_id, event_type in rows
    ]


async def pending_counts(session: AsyncSession, endpoints: Sequence[WebhookEndpoint]) -> dict[uuid.UUID, int]:
    return await repository.pending_counts(session, [endpoint.id for endpoint in endpoints])


def waits_for_renderer(endpoint: WebhookEndpoint) -> bool:
    """True while no surface has registered a renderer for the endpoint's format."""
    return endpoint.format not in registered_formats()


async def list_endpoints_owned_by(
    session: AsyncSession, *, clinic_id: uuid.UUID, owner_key_id: uuid.UUID, format: WebhookFormat
) -> Sequence[WebhookEndpoint]:
    """The endpoints one API key created (QualifyBase lists and deletes only the caller's own)."""
    return await repository.list_endpoints_owned_by(
        session, clinic_id=clinic_id, owner_key_id=owner_key_id, format=format
    )


async def delete_endpoint_owned_by(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    owner_key_id: uuid.UUID,
    actor: Actor,
    clock: Clock = system_clock,
) -> None:
    """Delete an endpoint the key created; any other endpoint answers as missing."""
    endpoint = await get_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id)
    if endpoint.owner_key_id != owner_key_id:
        raise NotFound("webhook endpoint not found")
    await delete_endpoint(session, clinic_id=clinic_id, endpoint_id=endpoint_id, actor=actor, clock=clock)
