"""Webhook jobs: fan events out into deliveries, then send the due ones.

A claim takes a run: the delivery first in line at an endpoint and up to 19 queued behind it, sent one
after the other and stopped at the first that is not delivered. How a run is held while it is sent:

- PostgreSQL: each lane claims a run ``FOR UPDATE SKIP LOCKED`` and keeps it locked while it sends it
  and records the attempts, all in one transaction. A worker killed mid-send rolls back; the deliveries
  are due again for the next worker (at least once), and two workers never send the same delivery at
  the same time.
- SQLite allows one writer at a time, so no transaction stays open across HTTP: one short transaction
  claims runs at up to 8 endpoints as committed leases held by "host:pid", the runs are sent side by
  side, and a second transaction records them all. A lease whose process has died (same host, pid gone)
  is taken over at once instead of waiting it out.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.events import dispatch
from clinicore.core.events.delivery import send_webhook, webhook_client
from clinicore.core.events.schemas import AttemptResult, Lease, WebhookRequest
from clinicore.kit.db import transaction
from clinicore.runtime import Runtime
from clinicore.surfaces.registry import register_webhook_formats

DELIVERY_LANES = 8  # endpoints sent to at the same time
DELIVERIES_PER_LANE = 100  # then the loop comes round again, fanning out new events in between
# A run stops starting new calls after this long, so that even its last call (15 s at most) ends
# well inside the lease: a live worker's lease never runs out under it.
RUN_TIME_BUDGET_SECONDS = 30.0
SQLITE_LEASE = timedelta(seconds=60)


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


async def fan_out_pending_events(
    session: AsyncSession, runtime: Runtime, *, clinic_id: uuid.UUID | None = None
) -> int:
    return await dispatch.fan_out(session, clock=runtime.clock, clinic_id=clinic_id)


async def deliver_due_webhooks(
    runtime: Runtime, *, clinic_id: uuid.UUID | None = None, lanes: int = DELIVERY_LANES
) -> int:
    """Send due deliveries (those of ``clinic_id`` only, when given); return how many were attempted."""
    async with webhook_client(allow_private=runtime.settings.private_webhooks_allowed) as client:
        delivery_pass = DeliveryPass(runtime, client, clinic_id, lanes=lanes)
        if delivery_pass.lease is not None:
            return await delivery_pass.under_leases()
        # One lane first: an idle worker costs one short transaction per poll, not one per lane.
        first = await delivery_pass.holding_row_locks()
        if not first:
            return 0
        counts = await asyncio.gather(*(delivery_pass.lane() for _ in range(lanes)))
    return first + sum(counts)


class DeliveryPass:
    """One pass of the delivery job, sharing one HTTP client."""

    def __init__(
        self, runtime: Runtime, client: httpx.AsyncClient, clinic_id: uuid.UUID | None, *, lanes: int
    ) -> None:
        self.runtime = runtime
        self.client = client
        self.clinic_id = clinic_id
        self.lanes = lanes
        self.lease = (
            Lease(holder=this_process(), duration=SQLITE_LEASE, holder_is_alive=process_is_alive)
            if runtime.settings.is_sqlite
            else None
        )

    async def lane(self) -> int:
        """PostgreSQL: each lane claims one run at a time, in its own transaction."""
        attempted = 0
        while attempted < DELIVERIES_PER_LANE:
            sent = await self.holding_row_locks()
            if not sent:
                break
            attempted += sent
        return attempted

    async def holding_row_locks(self) -> int:
        async with transaction(self.runtime.sessions) as session:
            runs = await self._claim(session, lease=None, max_runs=1)
            results = [await self._send_in_order(run) for run in runs]
            await self._record(session, runs, results, lease_holder=None)
        return sum(len(run_results) for run_results in results)

    async def under_leases(self) -> int:
        """SQLite: one transaction claims runs at up to ``lanes`` endpoints, they are sent side by side,
        one transaction records them all; repeated while there is work, up to the lanes' budget."""
        assert self.lease is not None
        attempted = 0
        while attempted < DELIVERIES_PER_LANE * self.lanes:
            async with transaction(self.runtime.sessions) as session:
                runs = await self._claim(session, lease=self.lease, max_runs=self.lanes)
            if not runs:
                break
            results = await asyncio.gather(*(self._send_in_order(run) for run in runs))
            async with transaction(self.runtime.sessions) as session:
                await self._record(session, runs, results, lease_holder=self.lease.holder)
                unsent = [
                    request
                    for run, run_results in zip(runs, results, strict=True)
                    for request in run[len(run_results) :]
                ]
                await dispatch.release_unsent(session, requests=unsent, lease_holder=self.lease.holder)
            attempted += sum(len(run_results) for run_results in results)
        return attempted

    async def _claim(
        self, session: AsyncSession, *, lease: Lease | None, max_runs: int
    ) -> list[list[WebhookRequest]]:
        return await dispatch.claim_runs(
            session,
            box=self.runtime.box,
            clock=self.runtime.clock,
            lease=lease,
            max_runs=max_runs,
            clinic_id=self.clinic_id,
        )

    async def _send_in_order(self, run: list[WebhookRequest]) -> list[AttemptResult]:
        """Send one after the other; stop at the first that is not delivered (the rest must wait behind
        it) or when another call could outlast the lease."""
        results: list[AttemptResult] = []
        started = time.monotonic()
        for request in run:
            if results and time.monotonic() - started > RUN_TIME_BUDGET_SECONDS:
                break
            result = await send_webhook(self.client, request)
            results.append(result)
            if not result.delivered:
                break
        return results

    async def _record(
        self,
        session: AsyncSession,
        runs: list[list[WebhookRequest]],
        results: list[list[AttemptResult]],
        *,
        lease_holder: str | None,
    ) -> None:
        sent = [
            pair
            for run, run_results in zip(runs, results, strict=True)
            for pair in zip(run, run_results, strict=False)
        ]
        if sent:
            await dispatch.record_attempts(
                session,
                sent=sent,
                lease_holder=lease_holder,
                console_url=self.runtime.settings.base_url,
                clock=self.runtime.clock,
            )
