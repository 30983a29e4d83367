"""Outbox queries (email and SMS share the same delivery columns)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import EmailStatus, OutboundEmail, OutboundSms

Message = TypeVar("Message", OutboundEmail, OutboundSms)


async def due_messages(
    session: AsyncSession, model: type[Message], *, now: datetime, limit: int
) -> Sequence[Message]:
    """Pending messages that are due and not leased by a live send, locked on PostgreSQL."""
    query = (
        select(model)
        .where(
            model.status == EmailStatus.pending,
            model.next_attempt_at <= now,
            or_(model.claimed_until.is_(None), model.claimed_until <= now),
        )
        .order_by(model.next_attempt_at)
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


async def sms_to(session: AsyncSession, to_number: str) -> Sequence[OutboundSms]:
    query = select(OutboundSms).where(OutboundSms.to_number == to_number).order_by(OutboundSms.created_at)
    return (await session.scalars(query)).all()
