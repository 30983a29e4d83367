"""Webhook jobs: fan events out into deliveries, then send the due ones. No transaction is ever open
while we wait on a receiver.

The engine (``DeliveryEngine``) runs beside the worker loop in every worker process (``clinicore
worker``, or embedded in ``clinicore serve``):

- At each poll its dispatcher fans new events out and claims as many due deliveries as it has free
  slots, in one short transaction: the claim takes them ``FOR UPDATE SKIP LOCKED`` (PostgreSQL;
  SQLite's single writer does the same), writes a lease, "host:pid" until now + 60 s, and commits.
  A slot freed where the last claim left deliveries behind brings a claim of its own.
- Each claimed delivery is sent in its own task on one shared ``WebhookClient`` (keep-alive
  connections per origin), at most ``webhook_concurrency`` at once per worker and
  ``webhook_endpoint_concurrency`` at one endpoint (leases of every worker count): a slow or failing
  endpoint only uses its own slots.
- A finished send is recorded in a short transaction of its own (attempts finished at the same moment
  share one), which gives the lease back.

A worker that dies loses only its in-flight sends: their leases are taken over at once when the holder
is a dead process on the same host, otherwise when they expire, and they go out again with the same
``webhook-id``. The fan-out never waits behind deliveries: it runs between claims, whatever is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.events import dispatch
from clinicore.core.events.delivery import WebhookClient, send_webhook, webhook_client
from clinicore.core.events.schemas import AttemptResult, Lease, WebhookRequest
from clinicore.kit.db import transaction
from clinicore.kit.observability import get_logger
from clinicore.runtime import Runtime
from clinicore.surfaces.registry import register_webhook_formats

log = get_logger("clinicore.worker.webhooks")

# Longer than any send (15 s) plus its recording: a live worker's lease never runs out under it.
LEASE_DURATION = timedelta(seconds=60)
# How often the engine looks for leases of dead processes on this host to take over.
DEAD_HOLDER_CHECK_SECONDS = 1.0
# Attempts recorded in one transaction at most (those that finished while the last one committed).
RECORD_BATCH = 200
# On stop, in-flight sends get this long to finish; the rest are cancelled and their leases given back.
STOP_GRACE_SECONDS = 5.0
# A slot freed where the last claim left deliveries behind (an endpoint at its limit or in strict order,
# or this worker at its own) brings the next claim once this share of the per-endpoint limit came free
# there, or CLAIM_DELAY_SECONDS later, or at once when nothing is in flight: one claim transaction for a
# handful of deliveries instead of one per answer. A slot freed elsewhere waits for the next fan-out.
CLAIM_BATCH_SHARE = 0.5
CLAIM_DELAY_SECONDS = 0.005
# How often a busy engine logs how many attempts it recorded.
LOG_EVERY_SECONDS = 1.0
# A pass (``deliver_due_webhooks``) ends after this many attempts even if more are due.
PASS_BUDGET = 2000


register_webhook_formats()  # every surface's format, from the one list of surfaces


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def process_is_alive(holder: str) -> bool:
    """Whether the process named "host:pid" still runs; a process on another host is assumed alive."""
    host, _, pid_text = holder.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_lease() -> Lease:
    return Lease(holder=this_process(), duration=LEASE_DURATION, holder_is_alive=process_is_alive)


async def fan_out_pending_events(
    session: AsyncSession, runtime: Runtime, *, clinic_id: uuid.UUID | None = None
) -> int:
    return await dispatch.fan_out(session, clock=runtime.clock, clinic_id=clinic_id)


async def deliver_due_webhooks(
    runtime: Runtime,
    *,
    clinic_id: uuid.UUID | None = None,
    concurrency: int | None = None,
    per_endpoint: int | None = None,
) -> int:
    """One pass: send every due delivery (those of ``clinic_id`` only, when given), concurrently, until
    none is due; return how many were attempted. The running worker uses ``DeliveryEngine.run``."""
    async with webhook_client(allow_private=runtime.settings.private_webhooks_allowed) as client:
        engine = DeliveryEngine(
            runtime, client, clinic_id=clinic_id, concurrency=concurrency, per_endpoint=per_endpoint
        )
        return await engine.run_pass()


async def run_delivery_engine(runtime: Runtime, stopping: asyncio.Event) -> None:
    """The worker's background job: fan out and deliver until ``stopping`` is set."""
    async with webhook_client(allow_private=runtime.settings.private_webhooks_allowed) as client:
        await DeliveryEngine(runtime, client).run(stopping)


class DeliveryEngine:
    """Claims, sends and records deliveries with bounded concurrency, on one shared HTTP client."""

    def __init__(
        self,
        runtime: Runtime,
        client: WebhookClient,
        *,
        clinic_id: uuid.UUID | None = None,
        concurrency: int | None = None,
        per_endpoint: int | None = None,
    ) -> None:
        self.runtime = runtime
        self.client = client
        self.clinic_id = clinic_id
        self.concurrency = concurrency or runtime.settings.webhook_concurrency
        self.per_endpoint = per_endpoint or runtime.settings.webhook_endpoint_concurrency
        self.lease = worker_lease()
        self.attempted = 0
        self._sending: dict[asyncio.Task[None], WebhookRequest] = {}
        self._finished: list[tuple[WebhookRequest, AttemptResult]] = []
        self._to_record = asyncio.Event()  # a send finished
        self._slot_freed = asyncio.Event()  # an attempt was recorded: its lease is free again
        self._dead_holders: set[str] = set()
        self._dead_checked_at = float("-inf")
        self._unlogged = 0
        self._logged_at = float("-inf")
        # Since the last claim: slots given back at endpoints that claim left deliveries at, and in all.
        self._freed_where_capped = 0
        self._freed_since_claim = 0
        self._capped_endpoints: frozenset[uuid.UUID] = frozenset()
        self._more_endpoints = False
        self._claim_batch = max(1, int(self.per_endpoint * CLAIM_BATCH_SHARE))

    @property
    def busy(self) -> int:
        """Slots taken: sends in flight and finished sends not recorded yet (their leases are held)."""
        return len(self._sending) + len(self._finished)

    # --- the running worker ---------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        """Fan out once per poll (at once again while there is more), claim when slots are free and
        work may be due (something was fanned out, a poll passed, or a slot came free while a limit
        capped the last claim), and leave sending and recording to their own tasks."""
        poll = self.runtime.settings.worker_poll_seconds
        recorder = asyncio.create_task(self._record_continuously())
        next_poll = 0.0
        claim_wanted = False
        waiting_for_slot = False
        deferred_claim: float | None = None  # when a deferred claim is due
        try:
            while not stopping.is_set():
                self._slot_freed.clear()
                try:
                    polling = time.monotonic() >= next_poll
                    claim_wanted = claim_wanted or polling
                    can_claim = claim_wanted and self.busy < self.concurrency
                    if polling or can_claim:  # fan-out and claim share one short transaction
                        fanned, capped = await self._step(fan_out=polling, claim=can_claim)
                        if polling:
                            next_poll = time.monotonic() + (0 if fanned >= dispatch.FAN_OUT_BATCH else poll)
                        if can_claim:
                            waiting_for_slot = capped
                    if claim_wanted:
                        deferred_claim = None
                        # At this worker's own limit: the next freed slot claims.
                        waiting_for_slot = waiting_for_slot or not can_claim
                    claim_wanted = False
                except Exception as exc:  # the database is away: try again after a poll
                    log.error("webhook dispatch failed", error=type(exc).__name__)
                    next_poll = time.monotonic() + poll
                # Wait for a slot to come free (when a limit capped the last claim), or the next poll.
                waiters = [asyncio.ensure_future(stopping.wait())]
                if waiting_for_slot or self.busy >= self.concurrency:
                    waiters.append(asyncio.ensure_future(self._slot_freed.wait()))
                wake_at = next_poll if deferred_claim is None else min(next_poll, deferred_claim)
                timeout = max(0.0, wake_at - time.monotonic())
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
                # A freed slot is worth a claim only where the last claim left deliveries behind (or
                # when this worker's own limit did): a fast endpoint that got everything due gets its
                # next deliveries with the next fan-out, not from a claim after each answer.
                if self._slot_freed.is_set() and deferred_claim is None and self._claim_may_find_more():
                    deferred_claim = time.monotonic() + CLAIM_DELAY_SECONDS
                if deferred_claim is not None and (
                    self._freed_where_capped >= self._claim_batch
                    or not self._sending
                    or time.monotonic() >= deferred_claim
                ):
                    claim_wanted = True
        finally:
            await self._stop_sending()
            recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recorder
            await self._record_finished()

    def _claim_may_find_more(self) -> bool:
        return self._freed_where_capped > 0 or (
            self._freed_since_claim > 0 and (self._more_endpoints or self.busy + 1 >= self.concurrency)
        )

    async def _record_continuously(self) -> None:
        while True:
            await self._to_record.wait()
            self._to_record.clear()
            try:
                await self._record_finished()
            except Exception as exc:
                log.error("webhook recording failed", error=type(exc).__name__)
                await asyncio.sleep(self.runtime.settings.worker_poll_seconds)
                self._to_record.set()

    async def _stop_sending(self) -> None:
        if not self._sending:
            return
        await asyncio.wait(list(self._sending), timeout=STOP_GRACE_SECONDS)
        unsent = list(self._sending.values())
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with transaction(self.runtime.sessions) as session:
                await dispatch.release_leases(session, requests=unsent, lease_holder=self.lease.holder)

    # --- one pass (tests, the SQLite embedded worker's equivalents) -----------------------------

    async def run_pass(self) -> int:
        while self.attempted < PASS_BUDGET:
            claimed, _ = await self._claim_and_send()
            if not claimed and not self._sending:
                break
            if self._sending:
                await asyncio.wait(list(self._sending), return_when=asyncio.FIRST_COMPLETED)
            await self._record_finished()
        if self._sending:
            await asyncio.wait(list(self._sending))
        await self._record_finished()
        return self.attempted

    # --- the steps ------------------------------------------------------------------------------

    async def _claim_and_send(self) -> tuple[int, bool]:
        """Claim what the free slots allow and start sending it; (how many, whether a limit capped it)."""
        before = len(self._sending)
        _, capped = await self._step(fan_out=False, claim=True)
        return len(self._sending) - before, capped

    async def _step(self, *, fan_out: bool, claim: bool) -> tuple[int, bool]:
        """In one short transaction, fan new events out (``fan_out``) and claim what the free slots
        allow (``claim``); once committed, start sending the claimed deliveries. Returns how many events
        were fanned out and whether a limit capped the claim."""
        free = self.concurrency - self.busy
        if claim and free <= 0:
            claim = False
        if claim:
            self._freed_since_claim = 0
            self._freed_where_capped = 0
        fanned = 0
        async with transaction(self.runtime.sessions) as session:
            if fan_out:
                fanned = await fan_out_pending_events(session, self.runtime, clinic_id=self.clinic_id)
            if not claim:
                return fanned, free <= 0
            if time.monotonic() - self._dead_checked_at >= DEAD_HOLDER_CHECK_SECONDS:
                self._dead_holders = await dispatch.dead_lease_holders(
                    session, clock=self.runtime.clock, lease=self.lease
                )
                self._dead_checked_at = time.monotonic()
            claimed = await dispatch.claim_deliveries(
                session,
                box=self.runtime.box,
                clock=self.runtime.clock,
                lease=self.lease,
                limit=free,
                per_endpoint=self.per_endpoint,
                dead_holders=self._dead_holders,
                clinic_id=self.clinic_id,
            )
        self._capped_endpoints = claimed.capped_endpoints
        self._more_endpoints = claimed.more_endpoints or len(claimed.requests) == free
        # Committed: the leases are ours, and nothing is held while the requests are out.
        for request in claimed.requests:
            task = asyncio.create_task(self._send(request))
            self._sending[task] = request
        return fanned, claimed.capped

    async def _send(self, request: WebhookRequest) -> None:
        request = replace(request, attempted_at=self.runtime.clock.now())
        try:
            result = await send_webhook(self.client, request)
        except Exception as exc:  # send_webhook never raises; a bug must not lose the lease's record
            result = AttemptResult(status_code=None, latency_ms=0, error=f"internal: {type(exc).__name__}")
        self._finished.append((request, result))
        current = asyncio.current_task()
        if current is not None:
            self._sending.pop(current, None)
        self._to_record.set()

    async def _record_finished(self) -> None:
        while self._finished:
            batch = self._finished[:RECORD_BATCH]
            try:
                await self._record(batch)
            except DBAPIError:
                # One bad attempt must not keep the others from their record: one by one.
                for item in batch:
                    try:
                        await self._record([item])
                    except DBAPIError as exc:
                        log.error("webhook attempt not recorded", error=type(exc).__name__)
            del self._finished[: len(batch)]
            self.attempted += len(batch)
            self._freed_since_claim += len(batch)
            self._freed_where_capped += sum(
                1 for request, _ in batch if request.endpoint_id in self._capped_endpoints
            )
            self._slot_freed.set()

    async def _record(self, sent: Sequence[tuple[WebhookRequest, AttemptResult]]) -> None:
        async with transaction(self.runtime.sessions) as session:
            await dispatch.record_attempts(
                session,
                sent=sent,
                lease_holder=self.lease.holder,
                console_url=self.runtime.settings.base_url,
                clock=self.runtime.clock,
            )
        self._unlogged += len(sent)
        if time.monotonic() - self._logged_at >= LOG_EVERY_SECONDS:
            log.info("webhooks sent", job="webhook_delivery.send", count=self._unlogged)
            self._unlogged = 0
            self._logged_at = time.monotonic()
