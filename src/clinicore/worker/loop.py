"""The worker loop: runs each registered job when it is due, each run in its own transaction
(a standalone job opens its own); background jobs (the webhook delivery engine) run beside it for as
long as the worker runs.

``clinicore serve`` runs it embedded; ``clinicore worker`` runs it alone (any number of them on
PostgreSQL). Jobs must be safe to run in several processes at once: they claim their work from
the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.accounts import service as accounts_service
from clinicore.core.partners import service as partner_service
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.observability import get_logger
from clinicore.runtime import Runtime
from clinicore.worker.emails import send_queued_emails
from clinicore.worker.reminders import send_due_reminders
from clinicore.worker.sms import send_queued_sms
from clinicore.worker.telehealth import run_telehealth_timers
from clinicore.worker.webhooks import run_delivery_engine

log = get_logger("clinicore.worker")

JobRun = Callable[[AsyncSession, Runtime], Awaitable[int]]
StandaloneJobRun = Callable[[Runtime], Awaitable[int]]
BackgroundJobRun = Callable[[Runtime, asyncio.Event], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str  # dotted: console_session.purge
    interval_seconds: float
    run: JobRun  # returns how many things it did; a positive count runs it again at once


@dataclass(frozen=True, slots=True)
class StandaloneJob:
    """A job that opens its own transactions: one that calls out over the network must choose
    what it holds open while it waits (see worker/webhooks.py)."""

    name: str
    interval_seconds: float  # 0: on every pass of the loop
    run: StandaloneJobRun


@dataclass(frozen=True, slots=True)
class BackgroundJob:
    """A job that runs for as long as the worker does and returns once the event it is given is set;
    it never holds up the loop's other jobs (the webhook engine sends while e-mails go out)."""

    name: str
    run: BackgroundJobRun


async def _purge_expired_sessions(session: AsyncSession, runtime: Runtime) -> int:
    return await tenancy_service.purge_expired_sessions(session, clock=runtime.clock)


async def _purge_expired_desk_sessions(session: AsyncSession, runtime: Runtime) -> int:
    return await accounts_service.purge_expired_sessions(session, clock=runtime.clock)


async def _purge_expired_partner_sessions(session: AsyncSession, runtime: Runtime) -> int:
    return await partner_service.purge_expired_sessions(session, clock=runtime.clock)


Job = PeriodicJob | StandaloneJob | BackgroundJob

DEFAULT_JOBS: tuple[Job, ...] = (
    PeriodicJob("console_session.purge", 600, _purge_expired_sessions),
    PeriodicJob("desk_session.purge", 600, _purge_expired_desk_sessions),
    PeriodicJob("partner_session.purge", 600, _purge_expired_partner_sessions),
    BackgroundJob("webhook_delivery.engine", run_delivery_engine),  # fans out and delivers webhooks
    PeriodicJob("appointment_reminder.send", 30, send_due_reminders),
    StandaloneJob("email.send", 5, send_queued_emails),
    PeriodicJob("telehealth.timers", 1, run_telehealth_timers),
    StandaloneJob("sms.send", 5, send_queued_sms),
)


class Worker:
    def __init__(self, runtime: Runtime, jobs: Sequence[Job] = DEFAULT_JOBS) -> None:
        self.runtime = runtime
        self.jobs = [job for job in jobs if not isinstance(job, BackgroundJob)]
        self.background_jobs = [job for job in jobs if isinstance(job, BackgroundJob)]
        self._next_run = {job.name: 0.0 for job in self.jobs}
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run_once(self) -> int:
        """Run every due job once; return the total work done."""
        done = 0
        for job in self.jobs:
            if time.monotonic() < self._next_run[job.name]:
                continue
            try:
                if isinstance(job, StandaloneJob):
                    count = await job.run(self.runtime)
                else:
                    async with self.runtime.sessions() as session, session.begin():
                        count = await job.run(session, self.runtime)
            except Exception as exc:
                log.error("job failed", job=job.name, error=type(exc).__name__)
                self._next_run[job.name] = time.monotonic() + self.runtime.settings.worker_poll_seconds
                continue
            done += count
            if count == 0:
                self._next_run[job.name] = time.monotonic() + job.interval_seconds
            else:
                log.info("job ran", job=job.name, count=count)
        return done

    async def run_forever(self) -> None:
        log.info("worker started", count=len(self.jobs) + len(self.background_jobs))
        background = [asyncio.create_task(self._run_in_background(job)) for job in self.background_jobs]
        try:
            while not self._stopping.is_set():
                done = await self.run_once()
                if done:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._stopping.wait(), timeout=self.runtime.settings.worker_poll_seconds
                    )
        finally:
            self._stopping.set()
            await asyncio.gather(*background, return_exceptions=True)
        log.info("worker stopped")

    async def _run_in_background(self, job: BackgroundJob) -> None:
        """Run the job until the worker stops; restart it after a poll if it fails."""
        while not self._stopping.is_set():
            try:
                await job.run(self.runtime, self._stopping)
            except Exception as exc:
                log.error("job failed", job=job.name, error=type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._stopping.wait(), timeout=self.runtime.settings.worker_poll_seconds
                    )
