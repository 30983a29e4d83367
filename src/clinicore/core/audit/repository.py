"""Audit log queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import AuditEntry


async def recent_for_clinic(
    session: AsyncSession, clinic_id: uuid.UUID, *, limit: int = 50
) -> Sequence[AuditEntry]:
    result = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.clinic_id == clinic_id)
        .order_by(AuditEntry.occurred_at.desc())
        .limit(limit)
    )
    return result.all()
