"""All partner console queries: partner users, their sessions, the host names partners serve."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Partner, PartnerConsoleSession, PartnerUser


async def get_partner(session: AsyncSession, partner_id: uuid.UUID) -> Partner | None:
    return await session.get(Partner, partner_id)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> PartnerUser | None:
    return await session.get(PartnerUser, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> PartnerUser | None:
    return await session.scalar(select(PartnerUser).where(PartnerUser.email == email))


async def get_console_session(session: AsyncSession, token_digest: str) -> PartnerConsoleSession | None:
    return await session.scalar(
        select(PartnerConsoleSession).where(PartnerConsoleSession.token_digest == token_digest)
    )


async def delete_console_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    await session.execute(delete(PartnerConsoleSession).where(PartnerConsoleSession.id == session_id))


async def delete_expired_console_sessions(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        delete(PartnerConsoleSession).where(PartnerConsoleSession.expires_at <= now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def host_names_of_partners(
    session: AsyncSession, *, except_partner_id: uuid.UUID | None = None
) -> Sequence[tuple[uuid.UUID, list[str]]]:
    """Every partner's host names (partners are few: a white-label deal each), but one's when given."""
    query = select(Partner.id, Partner.host_names)
    if except_partner_id is not None:
        query = query.where(Partner.id != except_partner_id)
    rows = await session.execute(query)
    return [(row_id, list(names or [])) for row_id, names in rows.all()]
