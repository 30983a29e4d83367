"""Outbound email queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import EmailStatus, OutboundEmail


async def due_emails(session: AsyncSession, *, now: datetime, limit: int) -> Sequence[OutboundEmail]:
    """Pending emails that are due and not leased by a live send, locked on PostgreSQL."""
    query = (
        select(OutboundEmail)
        .where(
            OutboundEmail.status == EmailStatus.pending,
            OutboundEmail.next_attempt_at <= now,
            or_(OutboundEmail.claimed_until.is_(None), OutboundEmail.claimed_until <= now),
        )
        .order_by(OutboundEmail.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(query)).all()


async def get_email(session: AsyncSession, email_id: object) -> OutboundEmail | None:
    return await session.get(OutboundEmail, email_id)


async def emails_to(session: AsyncSession, to_address: str) -> Sequence[OutboundEmail]:
    query = (
        select(OutboundEmail).where(OutboundEmail.to_address == to_address).order_by(OutboundEmail.created_at)
    )
    return (await session.scalars(query)).all()
