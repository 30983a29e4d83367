"""The telehealth timers job: steps every patient exam whose ``next_action_at`` is due (a live exam
missed after 3 minutes in the waiting room; the test providers' next step). The claim is made in the
core (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so any number of workers can run it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.telehealth import timers
from clinicore.runtime import Runtime


async def run_telehealth_timers(session: AsyncSession, runtime: Runtime) -> int:
    return await timers.run_due_timers(
        session,
        clock=runtime.clock,
        links=runtime.links,
        test_delay=timedelta(seconds=runtime.settings.test_provider_delay_seconds),
    )
