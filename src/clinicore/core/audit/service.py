"""Record who did what, when, in which clinic. Details must never hold a secret or a patient field."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import repository
from clinicore.core.models import AuditEntry
from clinicore.kit.clock import Clock, system_clock


@dataclass(frozen=True, slots=True)
class Actor:
    type: str  # user | api_key | cli | system | patient | provider | pharmacy_user | timer
    id: str | None = None

    @classmethod
    def user(cls, user_id: uuid.UUID) -> Actor:
        return cls("user", str(user_id))

    @classmethod
    def api_key(cls, key_id: uuid.UUID) -> Actor:
        return cls("api_key", str(key_id))

    @classmethod
    def patient(cls, client_id: uuid.UUID) -> Actor:
        return cls("patient", str(client_id))

    @classmethod
    def provider(cls, provider_id: uuid.UUID) -> Actor:
        return cls("provider", str(provider_id))


CLI = Actor("cli")
SYSTEM = Actor("system")
TIMER = Actor("timer")  # the worker, when a timer falls due (a missed exam, a test-mode step)


async def record(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID | None,
    actor: Actor,
    action: str,
    target_type: str | None = None,
    target_id: str | uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    clock: Clock = system_clock,
) -> AuditEntry:
    entry = AuditEntry(
        clinic_id=clinic_id,
        actor_type=actor.type,
        actor_id=actor.id,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        details=details or {},
        occurred_at=clock.now(),
    )
    session.add(entry)
    return entry


async def recent_entries(
    session: AsyncSession, *, clinic_id: uuid.UUID, limit: int = 50
) -> Sequence[AuditEntry]:
    """The clinic's latest audit entries, newest first."""
    return await repository.recent_for_clinic(session, clinic_id, limit=limit)
