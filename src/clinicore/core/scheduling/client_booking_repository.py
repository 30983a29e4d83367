"""Queries of the client booking widget: the practice a public page names, and its widget settings."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import BookingWidgetSettings, Clinic


async def open_clinic_by_practice_id(session: AsyncSession, practice_id: str) -> Clinic | None:
    """The active, not deleted clinic whose IntakeQ practice id is ``practice_id`` (upper-case hex)."""
    return await session.scalar(
        select(Clinic).where(
            Clinic.practice_id == practice_id, Clinic.deleted_at.is_(None), Clinic.is_active.is_(True)
        )
    )


async def get_widget_settings(session: AsyncSession, clinic_id: uuid.UUID) -> BookingWidgetSettings | None:
    return await session.get(BookingWidgetSettings, clinic_id)
