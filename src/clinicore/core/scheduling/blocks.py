"""Busy blocks: time taken by an external calendar, keyed by (external_source, external_id)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import BusyBlock
from clinicore.core.scheduling import hours, repository
from clinicore.core.scheduling.rules import require_aware, require_range
from clinicore.kit.clock import Clock, system_clock


async def upsert_block(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    external_source: str,
    external_id: str,
    starts_at: datetime,
    ends_at: datetime,
    title: str | None = None,
    practitioner_id: uuid.UUID | None = None,
    clock: Clock = system_clock,
) -> tuple[BusyBlock, bool]:
    """Create or update the block (external_source, external_id); True when it was created.

    Without a practitioner the block takes the whole clinic's time.
    """
    require_aware(starts_at, field="starts_at", subject="block")
    require_aware(ends_at, field="ends_at", subject="block")
    if practitioner_id is not None:
        await hours.practitioner_given(session, clinic_id=clinic_id, practitioner_id=practitioner_id)
    require_range(starts_at, ends_at, subject="block")
    now = clock.now()
    fields = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "title": title,
        "practitioner_id": practitioner_id,
        "updated_at": now,
    }
    block = await repository.get_block(
        session, clinic_id=clinic_id, external_source=external_source, external_id=external_id
    )
    if block is None:
        block = BusyBlock(
            clinic_id=clinic_id,
            external_source=external_source,
            external_id=external_id,
            created_at=now,
            **fields,
        )
        try:
            async with session.begin_nested():
                session.add(block)
                await session.flush()
            return block, True
        except IntegrityError:  # a concurrent request created it first: update theirs
            block = await repository.get_block(
                session, clinic_id=clinic_id, external_source=external_source, external_id=external_id
            )
            if block is None:
                raise
    for name, value in fields.items():
        setattr(block, name, value)
    await session.flush()
    return block, False


async def delete_block(
    session: AsyncSession, *, clinic_id: uuid.UUID, external_source: str, external_id: str
) -> bool:
    """True when a block was deleted; deleting a missing one is no error (the calendar event is gone)."""
    block = await repository.get_block(
        session, clinic_id=clinic_id, external_source=external_source, external_id=external_id
    )
    if block is None:
        return False
    await repository.delete_block(session, block.id)
    return True


async def list_blocks(
    session: AsyncSession, *, clinic_id: uuid.UUID, clock: Clock = system_clock
) -> Sequence[BusyBlock]:
    """The blocks that end after yesterday at this time."""
    return await repository.list_blocks(session, clinic_id=clinic_id, since=clock.now() - timedelta(days=1))
