"""The worker's side of webhooks: fan-out, claims, and the HTTP rules applied to each attempt.

The worker fans events out into one delivery per (event, endpoint), and only one between endpoints
with the same format and URL; it claims due deliveries under a lease (``claim_deliveries``, a short
transaction of its own), sends them outside any transaction, and reports each attempt to
``record_attempts`` (another short transaction), which applies the rules: 2xx delivered, 410 disables
the endpoint, the ``abort-message`` answer stops the message, anything else retries on the schedule in
``retries.py``; an endpoint failing for 5 days is disabled and the clinic's admins are emailed. No order
is promised between deliveries, except per aggregate at an endpoint with ``strict_order``. Nothing here
commits.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.events import repository
from clinicore.core.events import service as events_service
from clinicore.core.events.renderers import registered_formats, renderer_for, signer_for
from clinicore.core.events.retries import (
    RETRY_AFTER_STATUSES,
    counted_trying_time,
    next_retry_delay,
    parse_retry_after,
    should_disable,
)
from clinicore.core.events.schemas import AttemptResult, Claim, Lease, WebhookRequest
from clinicore.core.models import (
    Event,
    WebhookAttemptOutcome,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from clinicore.core.notify import service as notify_service
from clinicore.core.tenancy import repository as tenancy_repository
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.crypto import SecretBox
from clinicore.kit.ids import new_uuid
from clinicore.kit.signing import webhook_headers

FAN_OUT_BATCH = 200
GONE_REASON = "the receiver answered 410 Gone"
INTERRUPTED = "the worker stopped before it recorded the answer"
STOPPED = "the worker was stopped before the answer came"
FAILING_REASON = "every delivery failed for 5 days"


async def fan_out(
    session: AsyncSession,
    *,
    clock: Clock = system_clock,
    limit: int = FAN_OUT_BATCH,
    clinic_id: uuid.UUID | None = None,
) -> int:
    """Turn the oldest events not yet fanned out into one delivery per receiving endpoint; endpoints
    with the same format and URL get one delivery between them (``one_per_target``)."""
    if not await repository.take_fan_out_turn(session):
        return 0
    events = await repository.events_to_fan_out(session, limit=limit, clinic_id=clinic_id)
    if not events:
        return 0
    endpoints_by_clinic: dict[uuid.UUID, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in await repository.endpoints_for_fan_out(session, events):
        endpoints_by_clinic[endpoint.clinic_id].append(endpoint)
    now = clock.now()
    deliveries = [
        repository.new_delivery(
            clinic_id=event.clinic_id, endpoint_id=endpoint.id, event_sequence=event.sequence, now=now
        )
        for event in events
        for endpoint in events_service.one_per_target(
            endpoint
            for endpoint in endpoints_by_clinic[event.clinic_id]
            if events_service.endpoint_receives(endpoint, event)
        )
    ]
    # Plain INSERT and UPDATE statements: a burst fans out hundreds of rows a second.
    await repository.insert_deliveries(session, deliveries)
    await repository.mark_fanned_out(session, [event.sequence for event in events], now)
    return len(events)


async def claim_deliveries(
    session: AsyncSession,
    *,
    box: SecretBox,
    clock: Clock,
    lease: Lease,
    limit: int,
    per_endpoint: int,
    dead_holders: Collection[str] = (),
    clinic_id: uuid.UUID | None = None,
) -> Claim:
    """Lease up to ``limit`` due deliveries (at most ``per_endpoint`` in flight at an endpoint) to
    ``lease.holder`` and return them rendered and signed, to be sent once the caller has committed.
    Leases held by ``dead_holders`` (processes known to be gone) are taken over at once."""
    formats = registered_formats()
    if not formats or limit <= 0:
        return Claim(requests=[], more_endpoints=limit <= 0)
    now = clock.now()
    claimed, more_endpoints, capped_endpoints = await repository.claimable_deliveries(
        session,
        now=now,
        formats=formats,
        limit=limit,
        per_endpoint=per_endpoint,
        dead_holders=dead_holders,
        clinic_id=clinic_id,
    )
    # A "sending" attempt left by a worker that died (its lease ran out or was taken over) is interrupted:
    # it is not in flight any more. A delivery whose lease was given back has none.
    taken_over = [delivery.id for delivery, _, _ in claimed if delivery.claimed_by is not None]
    await repository.interrupt_attempts(session, taken_over, INTERRUPTED)
    secrets: dict[uuid.UUID, list[str]] = {}
    requests = []
    attempts: list[dict[str, Any]] = []
    for delivery, event, endpoint in claimed:
        if endpoint.id not in secrets:
            secrets[endpoint.id] = events_service.signing_secrets(box, endpoint, now)
        request = _signed_request(delivery, event, endpoint, secrets=secrets[endpoint.id], now=now)
        # Logged before it goes out, so that every copy a receiver gets is in the log, even when the
        # worker dies before it records the answer.
        attempt_id = new_uuid()
        attempts.append(
            {
                "id": attempt_id,
                "clinic_id": delivery.clinic_id,
                "delivery_id": delivery.id,
                "endpoint_id": delivery.endpoint_id,
                "event_sequence": delivery.event_sequence,
                "attempt_number": delivery.attempt_count + 1,
                "attempted_at": now,
                "url": request.url,
                "status_code": None,
                "latency_ms": 0,
                "response_excerpt": "",
                "outcome": WebhookAttemptOutcome.sending,
            }
        )
        requests.append(replace(request, attempt_id=attempt_id))
    # Plain statements (the rows are locked): one UPDATE for the leases, one INSERT for the attempts.
    await repository.lease_deliveries(
        session,
        [delivery.id for delivery, _, _ in claimed],
        holder=lease.holder,
        until=now + lease.duration,
    )
    await repository.insert_attempts(session, attempts)
    return Claim(
        requests=requests, more_endpoints=more_endpoints, capped_endpoints=frozenset(capped_endpoints)
    )


async def dead_lease_holders(session: AsyncSession, *, clock: Clock, lease: Lease) -> set[str]:
    """Holders of live-looking leases whose process is gone (same host, pid not running)."""
    holders = await repository.live_lease_holders(session, now=clock.now())
    return {holder for holder in holders if holder != lease.holder and not lease.holder_is_alive(holder)}


async def release_leases(
    session: AsyncSession, *, requests: Sequence[WebhookRequest], lease_holder: str
) -> None:
    """Give back the leases of claimed deliveries that were not sent, so they go out next time."""
    endpoints = await repository.lock_endpoints_for_recording(
        session, {request.endpoint_id for request in requests}
    )
    deliveries = await repository.lock_deliveries(session, [request.delivery_id for request in requests])
    released = []
    for delivery in deliveries.values():
        if delivery.claimed_by == lease_holder and delivery.endpoint_id in endpoints:
            delivery.claimed_by = None
            delivery.claimed_until = None
            released.append(delivery.id)
    await repository.interrupt_attempts(session, released, STOPPED)
    await session.flush()


def delivery_headers(event: Event) -> dict[str, str]:
    """Headers every format carries besides the Standard Webhooks ones."""
    return {
        "clinicore-event-type": event.type,
        "clinicore-aggregate-type": event.aggregate_type,
        "clinicore-aggregate-id": event.aggregate_id,
        "clinicore-aggregate-version": str(event.aggregate_version),
    }


def _signed_request(
    delivery: WebhookDelivery,
    event: Event,
    endpoint: WebhookEndpoint,
    *,
    secrets: Sequence[str],
    now: datetime,
) -> WebhookRequest:
    request = WebhookRequest(
        delivery_id=delivery.id,
        endpoint_id=endpoint.id,
        clinic_id=endpoint.clinic_id,
        event_id=event.id,
        url=endpoint.url,
        body=b"",
        headers={},
        attempted_at=now,
    )
    renderer = renderer_for(endpoint.format)
    signer = signer_for(endpoint.format)
    timestamp = int(now.timestamp())
    try:
        if renderer is None:
            raise LookupError(endpoint.format)
        rendered = renderer(event, endpoint)
        vendor_signature = (
            signer(delivery.id, secrets, timestamp, rendered.body) if signer is not None else {}
        )
    except Exception as exc:  # a renderer bug becomes a logged, retried attempt instead of a stuck line
        return replace(request, failure=f"cannot render {endpoint.format}: {type(exc).__name__}")
    signature = webhook_headers(secrets, msg_id=event.id, timestamp=timestamp, body=rendered.body)
    headers = {**rendered.headers, **vendor_signature, **delivery_headers(event), **signature}
    return replace(request, body=rendered.body, headers=headers)


async def record_attempts(
    session: AsyncSession,
    *,
    sent: Sequence[tuple[WebhookRequest, AttemptResult]],
    lease_holder: str,
    console_url: str,
    clock: Clock = system_clock,
    rng: random.Random | None = None,
) -> int:
    """Log each attempt and apply the HTTP rules to its delivery and endpoint, in the order given.

    Endpoints are locked before deliveries (the order a delete takes them in). When the lease was lost
    meanwhile (a replay reset the delivery, or the lease ran out and another worker took it over) the
    attempt is logged but the delivery is left to its new owner. A delivery whose endpoint was deleted
    while we were sending is gone, and so is its attempt. Returns how many attempts were logged."""
    endpoints = await repository.lock_endpoints_for_recording(
        session, {request.endpoint_id for request, _ in sent}
    )
    deliveries = await repository.lock_deliveries(session, [request.delivery_id for request, _ in sent])
    attempts: list[dict[str, Any]] = []
    for request, result in sent:
        delivery = deliveries.get(request.delivery_id)
        if delivery is None or request.attempt_id is None or delivery.endpoint_id not in endpoints:
            continue
        responded_at = (
            request.attempted_at + timedelta(milliseconds=result.latency_ms)
            if result.status_code is not None
            else None
        )
        outcome = _classify(result)
        if delivery.claimed_by == lease_holder:
            delivery.claimed_by = None
            delivery.claimed_until = None
            if delivery.status == WebhookDeliveryStatus.pending:
                outcome = await _apply_rules(
                    session,
                    delivery=delivery,
                    endpoint=endpoints[delivery.endpoint_id],
                    result=result,
                    attempted_at=request.attempted_at,
                    responded_at=responded_at,
                    console_url=console_url,
                    clock=clock,
                    rng=rng,
                )
        attempts.append(
            {
                "attempt_id": request.attempt_id,
                "attempted_at": request.attempted_at,
                "status_code": result.status_code,
                "latency_ms": result.latency_ms,
                "response_excerpt": result.response_excerpt,
                "responded_at": responded_at,
                "error": result.error,
                "outcome": outcome,
            }
        )
    await session.flush()
    # The attempts logged at the claim, filled in with one statement (their delivery rows are locked).
    await repository.fill_in_attempts(session, attempts)
    return len(attempts)


def _classify(result: AttemptResult) -> WebhookAttemptOutcome:
    code = result.status_code
    if result.delivered:
        return WebhookAttemptOutcome.delivered
    if code is not None and result.abort_requested:
        return WebhookAttemptOutcome.aborted
    if code == 410:
        return WebhookAttemptOutcome.endpoint_disabled
    return WebhookAttemptOutcome.retrying


async def _apply_rules(
    session: AsyncSession,
    *,
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    result: AttemptResult,
    attempted_at: datetime,
    responded_at: datetime | None,
    console_url: str,
    clock: Clock,
    rng: random.Random | None,
) -> WebhookAttemptOutcome:
    now = clock.now()
    delivery.last_attempt_at = attempted_at
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    outcome = _classify(result)
    if outcome is WebhookAttemptOutcome.delivered:
        delivery.status = WebhookDeliveryStatus.delivered
        delivery.delivered_at = responded_at or now  # the receiver's answer, not our commit
        if endpoint.failing_since is not None:
            events_service.end_failing_streak(endpoint)
        return outcome
    if outcome is WebhookAttemptOutcome.aborted:
        delivery.status = WebhookDeliveryStatus.aborted
        events_service.end_failing_streak(endpoint)  # the receiver is up and answering on purpose
        return outcome
    if outcome is WebhookAttemptOutcome.endpoint_disabled:
        # The delivery keeps its place in line and goes out first if the endpoint is enabled again.
        await _disable_automatically(session, endpoint, GONE_REASON, console_url=console_url, clock=clock)
        return outcome
    delivery.retry_step += 1
    retry_after = (
        parse_retry_after(result.retry_after, now=now) if result.status_code in RETRY_AFTER_STATUSES else None
    )
    delay = next_retry_delay(delivery.retry_step, retry_after=retry_after, rng=rng)
    if delay is None:
        delivery.status = WebhookDeliveryStatus.failed
        outcome = WebhookAttemptOutcome.failed
    else:
        delivery.next_attempt_at = now + delay
    if _note_failure(endpoint, now):
        await _disable_automatically(session, endpoint, FAILING_REASON, console_url=console_url, clock=clock)
    return outcome


def _note_failure(endpoint: WebhookEndpoint, now: datetime) -> bool:
    """Extend the endpoint's failing streak; True when the 5-day rule says to disable it."""
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.failing_attempt_seconds = 0
    else:
        endpoint.failing_attempt_seconds += int(
            counted_trying_time(endpoint.last_failure_at, now).total_seconds()
        )
    endpoint.last_failure_at = now
    return endpoint.enabled and should_disable(
        failing_since=endpoint.failing_since,
        time_spent_trying=timedelta(seconds=endpoint.failing_attempt_seconds),
        now=now,
    )


async def _disable_automatically(
    session: AsyncSession, endpoint: WebhookEndpoint, reason: str, *, console_url: str, clock: Clock
) -> None:
    if not endpoint.enabled:
        return
    events_service.mark_disabled(endpoint, reason, clock.now())
    await events_service.audit_endpoint(
        session, endpoint, audit_service.SYSTEM, "webhook_endpoint.disabled", clock, reason=reason
    )
    await _email_admins_endpoint_disabled(session, endpoint, console_url=console_url, clock=clock)


def url_origin(url: str) -> str:
    """scheme://host[:port] only: a path or query may hold the receiver's own token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


async def _email_admins_endpoint_disabled(
    session: AsyncSession, endpoint: WebhookEndpoint, *, console_url: str, clock: Clock
) -> None:
    clinic = await tenancy_repository.get_clinic(session, endpoint.clinic_id)
    clinic_name = clinic.brand_name or clinic.name if clinic else "your clinic"
    origin = url_origin(endpoint.url)
    since = events_service.backlog_since(endpoint)
    since_text = f"{since:%Y-%m-%d %H:%M} UTC" if since else "the moment it was disabled"
    for admin in await tenancy_repository.list_admins(session, endpoint.clinic_id):
        body = (
            f"Hello {admin.name},\n\n"
            f"Clinicore has stopped sending webhooks for {clinic_name} to {origin}: "
            f"{endpoint.disabled_reason}.\n\n"
            "No event is lost. Once the receiver works again, enable the endpoint in the console and replay "
            f"the backlog since {since_text}:\n{console_url}/console/webhooks/{endpoint.id}\n\n"
            "-- Clinicore\n"
        )
        await notify_service.queue_email(
            session,
            clinic_id=endpoint.clinic_id,
            to_address=admin.email,
            subject=f"Webhook endpoint disabled: {origin}",
            body=body,
            clock=clock,
        )
