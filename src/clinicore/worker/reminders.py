"""The reminder job: hand the appointment reminders that are due to the email and SMS outboxes (no
network call here: the email and SMS jobs send them). Voice reminders need a voice provider; none is
configurable yet, so they are recorded as not sent (``core/scheduling/reminders.py``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.scheduling import reminders
from clinicore.runtime import Runtime


async def send_due_reminders(session: AsyncSession, runtime: Runtime) -> int:
    return await reminders.send_due(
        session, clock=runtime.clock, base_url=runtime.settings.base_url, voice=None
    )
