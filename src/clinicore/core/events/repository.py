"""All queries of the events domain: the outbox, endpoints, deliveries and attempts."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, load_only

from clinicore.core.events.schemas import AttemptFilter, AttemptQuery
from clinicore.core.models import (
    Event,
    EventAggregate,
    WebhookAttempt,
    WebhookAttemptOutcome,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from clinicore.kit.ids import new_uuid

# Any constant will do: it names the PostgreSQL advisory lock that lets one fan-out run at a time.
FAN_OUT_LOCK_KEY = 0x636C_696E_6576_0001


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _insert(session: AsyncSession, table: Any) -> Any:
    return (postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert)(table)


# --- the outbox -----------------------------------------------------------------------------------


async def next_aggregate_version(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    aggregate_type: str,
    aggregate_id: str,
    explicit_version: int | None = None,
) -> int:
    """Hand out the aggregate's next version, or record ``explicit_version`` (the aggregate's own,
    when it keeps one) as the latest. The upserted row stays locked until the caller commits, so two
    transactions emitting for one aggregate get increasing versions, never the same one."""
    first = 1 if explicit_version is None else explicit_version
    latest = (
        EventAggregate.version + 1
        if explicit_version is None
        else case((EventAggregate.version < explicit_version, explicit_version), else_=EventAggregate.version)
    )
    statement = (
        _insert(session, EventAggregate)
        .values(clinic_id=clinic_id, aggregate_type=aggregate_type, aggregate_id=aggregate_id, version=first)
        .on_conflict_do_update(
            index_elements=["clinic_id", "aggregate_type", "aggregate_id"], set_={"version": latest}
        )
        .returning(EventAggregate.version)
    )
    assigned = int((await session.execute(statement)).scalar_one())
    return assigned if explicit_version is None else explicit_version


async def take_fan_out_turn(session: AsyncSession) -> bool:
    """Only one fan-out at a time, so that deliveries are created in event order. SQLite transactions
    are already one at a time; on PostgreSQL a transaction-scoped advisory lock says whose turn it is."""
    if _dialect(session) != "postgresql":
        return True
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(FAN_OUT_LOCK_KEY))))


async def events_to_fan_out(
    session: AsyncSession, *, limit: int, clinic_id: uuid.UUID | None
) -> Sequence[Event]:
    """The oldest events not fanned out yet, with only what the fan-out reads (not the payload)."""
    query = (
        select(Event)
        .options(
            load_only(
                Event.sequence,
                Event.clinic_id,
                Event.type,
                Event.aggregate_type,
                Event.aggregate_id,
                Event.target_endpoint_id,
                raiseload=True,
            )
        )
        .where(Event.fanned_out_at.is_(None))
    )
    if clinic_id is not None:
        query = query.where(Event.clinic_id == clinic_id)
    return (await session.scalars(query.order_by(Event.sequence).limit(limit))).all()


async def insert_deliveries(session: AsyncSession, deliveries: Sequence[dict[str, Any]]) -> None:
    if deliveries:
        await session.execute(insert(WebhookDelivery), list(deliveries))


async def mark_fanned_out(session: AsyncSession, sequences: Collection[int], now: datetime) -> None:
    if sequences:
        await session.execute(
            update(Event).where(Event.sequence.in_(sequences)).values(fanned_out_at=now),
            execution_options={"synchronize_session": False},
        )


async def endpoints_for_fan_out(session: AsyncSession, events: Sequence[Event]) -> Sequence[WebhookEndpoint]:
    """Enabled endpoints that may hear these events: unbound ones of their clinics, the ones bound to
    their aggregates and the ones they are addressed to."""
    clinic_ids = {event.clinic_id for event in events}
    aggregates = {(event.aggregate_type, event.aggregate_id) for event in events}
    targets = {event.target_endpoint_id for event in events if event.target_endpoint_id is not None}
    audience = [
        WebhookEndpoint.bound_aggregate_type.is_(None),
        tuple_(WebhookEndpoint.bound_aggregate_type, WebhookEndpoint.bound_aggregate_id).in_(aggregates),
    ]
    if targets:
        audience.append(WebhookEndpoint.id.in_(targets))
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.clinic_id.in_(clinic_ids), WebhookEndpoint.enabled.is_(True), or_(*audience)
    )
    return (await session.scalars(query)).all()


async def get_event(session: AsyncSession, *, clinic_id: uuid.UUID, event_id: str) -> Event | None:
    return await session.scalar(select(Event).where(Event.id == event_id, Event.clinic_id == clinic_id))


async def fanned_out_events_between(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    since: datetime,
    until: datetime,
    after_sequence: int,
    limit: int,
) -> Sequence[Event]:
    query = (
        select(Event)
        .where(
            Event.clinic_id == clinic_id,
            Event.occurred_at >= since,
            Event.occurred_at < until,
            Event.sequence > after_sequence,
            Event.fanned_out_at.is_not(None),
        )
        .order_by(Event.sequence)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


# --- endpoints ------------------------------------------------------------------------------------


async def list_endpoints(session: AsyncSession, clinic_id: uuid.UUID) -> Sequence[WebhookEndpoint]:
    query = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.clinic_id == clinic_id, WebhookEndpoint.bound_aggregate_type.is_(None))
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return (await session.scalars(query)).all()


async def get_endpoint(
    session: AsyncSession, *, clinic_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint | None:
    return await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.clinic_id == clinic_id
        )
    )


async def enabled_endpoints(session: AsyncSession, clinic_id: uuid.UUID) -> Sequence[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.clinic_id == clinic_id, WebhookEndpoint.enabled.is_(True)
    )
    return (await session.scalars(query)).all()


async def delete_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    await session.delete(endpoint)


async def pending_counts(session: AsyncSession, endpoint_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not endpoint_ids:
        return {}
    query = (
        select(WebhookDelivery.endpoint_id, func.count())
        .where(
            WebhookDelivery.endpoint_id.in_(endpoint_ids),
            WebhookDelivery.status == WebhookDeliveryStatus.pending,
        )
        .group_by(WebhookDelivery.endpoint_id)
    )
    return {endpoint_id: int(count) for endpoint_id, count in (await session.execute(query)).all()}


# --- deliveries -----------------------------------------------------------------------------------


def _lease_is_free(now: datetime, dead_holders: Collection[str]) -> Any:
    free = [WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until <= now]
    if dead_holders:
        free.append(WebhookDelivery.claimed_by.in_(dead_holders))
    return or_(*free)


async def live_lease_holders(session: AsyncSession, *, now: datetime) -> set[str]:
    """The workers ("host:pid") holding an unexpired lease on a pending delivery."""
    query = (
        select(WebhookDelivery.claimed_by)
        .where(
            WebhookDelivery.status == WebhookDeliveryStatus.pending,
            WebhookDelivery.claimed_until > now,
            WebhookDelivery.claimed_by.is_not(None),
        )
        .distinct()
    )
    return {holder for holder in (await session.scalars(query)).all() if holder is not None}


async def claimable_deliveries(
    session: AsyncSession,
    *,
    now: datetime,
    formats: Collection[str],
    limit: int,
    per_endpoint: int,
    dead_holders: Collection[str],
    clinic_id: uuid.UUID | None = None,
) -> tuple[list[tuple[WebhookDelivery, Event, WebhookEndpoint]], bool, set[uuid.UUID]]:
    """Due pending deliveries nobody holds a live lease on, at most ``per_endpoint`` in flight at any
    endpoint (leases already held there count), endpoints with the oldest due delivery first. At an
    endpoint with ``strict_order`` a delivery waits while an earlier event of the same aggregate is
    still pending there (in flight or waiting for a retry).

    The rows come locked ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, for the claim transaction only: a
    row another worker is claiming at this moment is skipped. SQLite has one writer at a time (every
    transaction begins IMMEDIATE), which is the same guarantee.

    Also says where more may be due: whether ``limit`` capped the endpoints looked at, and the
    endpoints whose limit (or strict order) capped what was taken there.
    """
    if limit <= 0:
        return [], True, set()
    pending = WebhookDelivery.status == WebhookDeliveryStatus.pending
    free = _lease_is_free(now, dead_holders)
    due_endpoints = (
        select(WebhookEndpoint, func.min(WebhookDelivery.next_attempt_at).label("oldest"))
        .join(WebhookDelivery, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .where(
            pending,
            WebhookDelivery.next_attempt_at <= now,
            free,
            WebhookEndpoint.enabled.is_(True),
            WebhookEndpoint.format.in_(formats),
        )
        .group_by(WebhookEndpoint.id)
        .order_by("oldest", WebhookEndpoint.id)
        .limit(limit)
    )
    if clinic_id is not None:
        due_endpoints = due_endpoints.where(WebhookDelivery.clinic_id == clinic_id)
    endpoints = [endpoint for endpoint, _ in (await session.execute(due_endpoints)).all()]
    if not endpoints:
        return [], False, set()
    # The endpoints are locked before their deliveries (FOR KEY SHARE, which only a delete conflicts
    # with), the order a delete takes them in; one being deleted right now is skipped, not waited for.
    lock_endpoints = (
        select(WebhookEndpoint.id)
        .where(WebhookEndpoint.id.in_([endpoint.id for endpoint in endpoints]))
        .order_by(WebhookEndpoint.id)
        .with_for_update(read=True, key_share=True, skip_locked=True)
    )
    still_there = set((await session.scalars(lock_endpoints)).all())
    endpoints = [endpoint for endpoint in endpoints if endpoint.id in still_there]
    busy_query = (
        select(WebhookDelivery.endpoint_id, func.count())
        .where(WebhookDelivery.endpoint_id.in_([endpoint.id for endpoint in endpoints]), pending, ~free)
        .group_by(WebhookDelivery.endpoint_id)
    )
    busy = {endpoint_id: int(count) for endpoint_id, count in (await session.execute(busy_query)).all()}
    claimed: list[tuple[WebhookDelivery, Event, WebhookEndpoint]] = []
    more_endpoints = len(endpoints) == limit
    capped: set[uuid.UUID] = set()
    for endpoint in endpoints:
        room = min(per_endpoint - busy.get(endpoint.id, 0), limit - len(claimed))
        if room <= 0:
            capped.add(endpoint.id)
            continue
        query = (
            select(WebhookDelivery, Event)
            .join(Event, Event.sequence == WebhookDelivery.event_sequence)
            .where(
                WebhookDelivery.endpoint_id == endpoint.id,
                pending,
                WebhookDelivery.next_attempt_at <= now,
                free,
            )
            # Oldest due first; ties (one frozen moment in tests, a burst in production) in event order.
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.event_sequence)
            .limit(room)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
        if endpoint.strict_order:
            query = query.where(~_same_aggregate_pending_before())
        rows = (await session.execute(query)).all()
        # A strict-order endpoint may hold deliveries back until earlier ones are answered.
        if len(rows) == room or endpoint.strict_order:
            capped.add(endpoint.id)
        claimed.extend((delivery, event, endpoint) for delivery, event in rows)
    return claimed, more_endpoints, capped


def _same_aggregate_pending_before() -> Any:
    earlier = aliased(WebhookDelivery)
    earlier_event = aliased(Event)
    return (
        select(earlier.id)
        .join(earlier_event, earlier_event.sequence == earlier.event_sequence)
        .where(
            earlier_event.clinic_id == Event.clinic_id,
            earlier_event.aggregate_type == Event.aggregate_type,
            earlier_event.aggregate_id == Event.aggregate_id,
            earlier_event.sequence < Event.sequence,
            earlier.endpoint_id == WebhookDelivery.endpoint_id,
            earlier.status == WebhookDeliveryStatus.pending,
        )
        .exists()
    )


async def lock_endpoints_for_recording(
    session: AsyncSession, endpoint_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, WebhookEndpoint]:
    """The endpoints, locked first and in id order (FOR NO KEY UPDATE) before any delivery row: a
    delete takes the endpoint first and its deliveries after, so recording and deleting queue up
    instead of deadlocking. An endpoint deleted meanwhile is simply missing."""
    if not endpoint_ids:
        return {}
    query = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id.in_(endpoint_ids))
        .order_by(WebhookEndpoint.id)
        .with_for_update(key_share=True)
    )
    return {endpoint.id: endpoint for endpoint in (await session.scalars(query)).all()}


async def interrupt_attempts(session: AsyncSession, delivery_ids: Collection[uuid.UUID], error: str) -> None:
    """Attempts of these deliveries still "sending": their worker stopped before it recorded an answer."""
    if not delivery_ids:
        return
    await session.execute(
        update(WebhookAttempt)
        .where(
            WebhookAttempt.delivery_id.in_(delivery_ids),
            WebhookAttempt.outcome == WebhookAttemptOutcome.sending,
        )
        .values(outcome=WebhookAttemptOutcome.interrupted, error=error)
    )


async def lease_deliveries(
    session: AsyncSession, delivery_ids: Collection[uuid.UUID], *, holder: str, until: datetime
) -> None:
    """Lease claimed deliveries to ``holder`` and count the attempt about to be made."""
    if not delivery_ids:
        return
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(delivery_ids))
        .values(claimed_by=holder, claimed_until=until, attempt_count=WebhookDelivery.attempt_count + 1),
        execution_options={"synchronize_session": False},
    )


async def insert_attempts(session: AsyncSession, attempts: Sequence[dict[str, Any]]) -> None:
    if attempts:
        await session.execute(insert(WebhookAttempt), list(attempts))


async def fill_in_attempts(session: AsyncSession, attempts: Sequence[dict[str, Any]]) -> None:
    """Record the answers of attempts logged as "sending" (``attempt_id`` plus the columns to set)."""
    if not attempts:
        return
    table = cast(Table, WebhookAttempt.__table__)
    statement = (
        update(table)
        .where(table.c.id == bindparam("attempt_id"))
        .values(
            attempted_at=bindparam("attempted_at"),
            status_code=bindparam("status_code"),
            latency_ms=bindparam("latency_ms"),
            response_excerpt=bindparam("response_excerpt"),
            responded_at=bindparam("responded_at"),
            error=bindparam("error"),
            outcome=bindparam("outcome"),
        )
    )
    await session.execute(statement, list(attempts))


async def lock_deliveries(
    session: AsyncSession, delivery_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, WebhookDelivery]:
    if not delivery_ids:
        return {}
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.id.in_(delivery_ids))
        .order_by(WebhookDelivery.id)
        .with_for_update(key_share=True)
    )
    return {delivery.id: delivery for delivery in (await session.scalars(query)).all()}


async def get_deliveries(
    session: AsyncSession, delivery_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, WebhookDelivery]:
    if not delivery_ids:
        return {}
    query = select(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))
    return {delivery.id: delivery for delivery in (await session.scalars(query)).all()}


async def get_endpoints_by_id(
    session: AsyncSession, endpoint_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, WebhookEndpoint]:
    if not endpoint_ids:
        return {}
    query = select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids))
    return {endpoint.id: endpoint for endpoint in (await session.scalars(query)).all()}


async def get_delivery_for(
    session: AsyncSession, *, event_sequence: int, endpoint_id: uuid.UUID
) -> WebhookDelivery | None:
    return await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.event_sequence == event_sequence, WebhookDelivery.endpoint_id == endpoint_id
        )
    )


def new_delivery(
    *, clinic_id: uuid.UUID, endpoint_id: uuid.UUID, event_sequence: int, now: datetime
) -> dict[str, Any]:
    """The row of a delivery due at once and never tried yet."""
    return {
        "id": new_uuid(),
        "clinic_id": clinic_id,
        "endpoint_id": endpoint_id,
        "event_sequence": event_sequence,
        "status": WebhookDeliveryStatus.pending,
        "attempt_count": 0,
        "retry_step": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def insert_delivery_unless_exists(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert a delivery; a concurrent replay that inserted the same (event, endpoint) first wins."""
    statement = _insert(session, WebhookDelivery).values(**values).on_conflict_do_nothing()
    await session.execute(statement)


async def failed_deliveries_attempted_since(
    session: AsyncSession, *, endpoint_id: uuid.UUID, since: datetime
) -> Sequence[WebhookDelivery]:
    query = select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint_id,
        WebhookDelivery.status == WebhookDeliveryStatus.failed,
        WebhookDelivery.last_attempt_at >= since,
    )
    return (await session.scalars(query)).all()


async def deliveries_of_event(session: AsyncSession, event_sequence: int) -> Sequence[WebhookDelivery]:
    query = select(WebhookDelivery).where(WebhookDelivery.event_sequence == event_sequence)
    return (await session.scalars(query)).all()


# --- attempts -------------------------------------------------------------------------------------


async def list_attempts(
    session: AsyncSession, *, clinic_id: uuid.UUID, endpoint_id: uuid.UUID, filters: AttemptQuery
) -> Sequence[tuple[WebhookAttempt, str, str]]:
    query = (
        select(WebhookAttempt, Event.id, Event.type)
        .join(Event, Event.sequence == WebhookAttempt.event_sequence)
        .where(WebhookAttempt.clinic_id == clinic_id, WebhookAttempt.endpoint_id == endpoint_id)
    )
    if filters.outcome is AttemptFilter.succeeded:
        query = query.where(WebhookAttempt.outcome == WebhookAttemptOutcome.delivered)
    elif filters.outcome is AttemptFilter.failed:
        query = query.where(WebhookAttempt.outcome != WebhookAttemptOutcome.delivered)
    if filters.event_type:
        query = query.where(Event.type == filters.event_type)
    if filters.event_id:
        query = query.where(Event.id == filters.event_id)
    if filters.since is not None:
        query = query.where(WebhookAttempt.attempted_at >= filters.since)
    if filters.until is not None:
        query = query.where(WebhookAttempt.attempted_at < filters.until)
    # Ties (one clock tick) break by event order: an endpoint's events go out in that order.
    query = query.order_by(
        WebhookAttempt.attempted_at.desc(),
        WebhookAttempt.event_sequence.desc(),
        WebhookAttempt.attempt_number.desc(),
    )
    rows = (await session.execute(query.limit(filters.limit))).all()
    return [(attempt, event_id, event_type) for attempt, event_id, event_type in rows]


async def deliveries_for_endpoint(
    session: AsyncSession, *, endpoint_id: uuid.UUID, event_sequences: Collection[int]
) -> dict[int, WebhookDelivery]:
    query = select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.event_sequence.in_(event_sequences)
    )
    return {delivery.event_sequence: delivery for delivery in (await session.scalars(query)).all()}


async def sequences_sent_to_same_target(
    session: AsyncSession, *, endpoint: WebhookEndpoint, event_sequences: Collection[int]
) -> set[int]:
    """Of these events, the ones the clinic's other endpoints with the endpoint's format and URL have
    delivered or still have queued (not the ones they gave up on)."""
    if not event_sequences:
        return set()
    query = (
        select(WebhookDelivery.event_sequence)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookEndpoint.clinic_id == endpoint.clinic_id,
            WebhookEndpoint.format == endpoint.format,
            WebhookEndpoint.url == endpoint.url,
            WebhookEndpoint.id != endpoint.id,
            WebhookDelivery.clinic_id == endpoint.clinic_id,
            WebhookDelivery.event_sequence.in_(event_sequences),
            WebhookDelivery.status != WebhookDeliveryStatus.failed,
        )
    )
    return set((await session.scalars(query)).all())


async def list_endpoints_owned_by(
    session: AsyncSession, *, clinic_id: uuid.UUID, owner_key_id: uuid.UUID, format: str
) -> Sequence[WebhookEndpoint]:
    query = (
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.clinic_id == clinic_id,
            WebhookEndpoint.owner_key_id == owner_key_id,
            WebhookEndpoint.format == format,
        )
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return (await session.scalars(query)).all()
