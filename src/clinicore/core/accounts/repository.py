"""Every query of desk accounts and their sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import DeskAccountKind, DeskSession, PharmacyUser, Provider

DeskAccount = Provider | PharmacyUser
_MODELS: dict[DeskAccountKind, type[Provider] | type[PharmacyUser]] = {
    DeskAccountKind.provider: Provider,
    DeskAccountKind.pharmacy_user: PharmacyUser,
}


async def get_account(
    session: AsyncSession, *, kind: DeskAccountKind, account_id: uuid.UUID
) -> DeskAccount | None:
    return await session.get(_MODELS[kind], account_id)


async def get_account_by_email(
    session: AsyncSession, *, kind: DeskAccountKind, email: str
) -> DeskAccount | None:
    model = _MODELS[kind]
    result: DeskAccount | None = await session.scalar(select(model).where(model.email == email))
    return result


async def get_desk_session(
    session: AsyncSession, *, kind: DeskAccountKind, token_digest: str
) -> DeskSession | None:
    return await session.scalar(
        select(DeskSession).where(DeskSession.token_digest == token_digest, DeskSession.account_kind == kind)
    )


async def delete_desk_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    await session.execute(delete(DeskSession).where(DeskSession.id == session_id))


async def delete_expired_desk_sessions(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(DeskSession).where(DeskSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
