"""An exam's timeline: each status move, when, and who made it, in words a clinic reads ("provider Liza
Park", "API key Production", "the missed-window timer"). The rows are written by every move
(transitions.py); this module only reads them, scoped to the clinic."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import ApiKey, ClinicUser, ExamStatusChange, PharmacyUser, Provider

# What each kind of actor is called on the timeline when no name can be found for it.
ACTOR_KINDS: Mapping[str, str] = {
    "patient": "patient",
    "provider": "provider",
    "pharmacy": "pharmacy",
    "api_key": "API key",
    "user": "clinic user",
    "timer": "timer",
    "system": "system",
    "cli": "command line",
}
NAMED_ACTORS: Mapping[str, Any] = {
    "provider": Provider,
    "pharmacy": PharmacyUser,
    "api_key": ApiKey,
    "user": ClinicUser,
}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    occurred_at: datetime
    from_status: str | None  # None: the exam was created
    to_status: str
    outcome: str | None
    actor_type: str
    actor: str  # "provider Liza Park", "API key Production", "patient", "timer"


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def _actor_names(
    session: AsyncSession, changes: Sequence[ExamStatusChange]
) -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    for kind, model in NAMED_ACTORS.items():
        ids = {_uuid(change.actor_id) for change in changes if change.actor_type == kind} - {None}
        if ids:
            rows = await session.execute(select(model.id, model.name).where(model.id.in_(ids)))
            names.update(((kind, str(row_id)), name) for row_id, name in rows)
    return names


async def exam_timeline(
    session: AsyncSession, *, clinic_id: uuid.UUID, patient_exam_id: int
) -> list[TimelineEntry]:
    """The exam's moves, oldest first (an exam of another clinic has none)."""
    changes = (
        await session.scalars(
            select(ExamStatusChange)
            .where(
                ExamStatusChange.clinic_id == clinic_id,
                ExamStatusChange.patient_exam_id == patient_exam_id,
            )
            .order_by(ExamStatusChange.id)
        )
    ).all()
    names = await _actor_names(session, changes)
    entries = []
    for change in changes:
        kind = ACTOR_KINDS.get(change.actor_type, change.actor_type)
        name = names.get((change.actor_type, change.actor_id or ""))
        entries.append(
            TimelineEntry(
                occurred_at=change.occurred_at,
                from_status=change.from_status,
                to_status=change.to_status,
                outcome=change.outcome,
                actor_type=change.actor_type,
                actor=f"{kind} {name}" if name else kind,
            )
        )
    return entries
