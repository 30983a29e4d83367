"""All staff queries: roles by partner; practitioners, assistants and client ownership by clinic."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import (
    Appointment,
    Assistant,
    AssistantPractitioner,
    Client,
    Clinic,
    Practitioner,
    StaffRole,
)

# --- roles ----------------------------------------------------------------------------------------


async def list_roles(session: AsyncSession, partner_id: uuid.UUID) -> Sequence[StaffRole]:
    query = select(StaffRole).where(StaffRole.partner_id == partner_id).order_by(StaffRole.name)
    return (await session.scalars(query)).all()


async def role_named(session: AsyncSession, *, partner_id: uuid.UUID, name: str) -> StaffRole | None:
    """The partner's role of that name, compared without case."""
    return await session.scalar(
        select(StaffRole).where(
            StaffRole.partner_id == partner_id, func.lower(StaffRole.name) == name.lower()
        )
    )


async def count_role_holders(session: AsyncSession, *, partner_id: uuid.UUID, name: str) -> int:
    """Practitioners and assistants (disabled ones and those of deleted practices too) of the partner's
    clinics who hold the role of that name, compared without case."""
    clinics = select(Clinic.id).where(Clinic.partner_id == partner_id)
    practitioners = await session.scalar(
        select(func.count())
        .select_from(Practitioner)
        .where(Practitioner.clinic_id.in_(clinics), func.lower(Practitioner.role_name) == name.lower())
    )
    assistants = await session.scalar(
        select(func.count())
        .select_from(Assistant)
        .where(Assistant.clinic_id.in_(clinics), func.lower(Assistant.role_name) == name.lower())
    )
    return int(practitioners or 0) + int(assistants or 0)


async def delete_role(session: AsyncSession, role: StaffRole) -> None:
    await session.delete(role)


# --- practitioners --------------------------------------------------------------------------------


async def get_practitioner(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_id: uuid.UUID
) -> Practitioner | None:
    return await session.scalar(
        select(Practitioner).where(Practitioner.id == practitioner_id, Practitioner.clinic_id == clinic_id)
    )


async def practitioner_by_external_id(
    session: AsyncSession, *, clinic_id: uuid.UUID, external_id: str
) -> Practitioner | None:
    return await session.scalar(
        select(Practitioner).where(
            Practitioner.clinic_id == clinic_id, Practitioner.external_id == external_id
        )
    )


async def main_practitioner(session: AsyncSession, clinic_id: uuid.UUID) -> Practitioner | None:
    return await session.scalar(
        select(Practitioner)
        .where(Practitioner.clinic_id == clinic_id, Practitioner.is_main.is_(True))
        .order_by(Practitioner.created_at)
        .limit(1)
    )


async def main_practitioners(
    session: AsyncSession, clinic_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Practitioner]:
    rows = await session.scalars(
        select(Practitioner)
        .where(Practitioner.clinic_id.in_(clinic_ids), Practitioner.is_main.is_(True))
        .order_by(Practitioner.created_at.desc())
    )
    return {row.clinic_id: row for row in rows}


async def list_practitioners(
    session: AsyncSession, *, clinic_id: uuid.UUID, include_inactive: bool
) -> Sequence[Practitioner]:
    query = select(Practitioner).where(Practitioner.clinic_id == clinic_id)
    if not include_inactive:
        query = query.where(Practitioner.is_active.is_(True))
    return (await session.scalars(query.order_by(Practitioner.created_at, Practitioner.id))).all()


async def practitioners_in(
    session: AsyncSession, *, clinic_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> Sequence[Practitioner]:
    query = select(Practitioner).where(Practitioner.clinic_id == clinic_id, Practitioner.id.in_(ids))
    return (await session.scalars(query)).all()


async def count_owned_clients(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_id: uuid.UUID
) -> int:
    query = select(func.count(Client.id)).where(
        Client.clinic_id == clinic_id, Client.practitioner_id == practitioner_id
    )
    return int(await session.scalar(query) or 0)


async def count_appointments(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_id: uuid.UUID
) -> int:
    """Every appointment row of the practitioner, cancelled and deleted ones included (they are history)."""
    query = select(func.count(Appointment.id)).where(
        Appointment.clinic_id == clinic_id, Appointment.practitioner_id == practitioner_id
    )
    return int(await session.scalar(query) or 0)


async def count_assistants_limited_to_only(session: AsyncSession, *, practitioner_id: uuid.UUID) -> int:
    """Assistants whose one and only practitioner is this one."""
    limited = select(AssistantPractitioner.assistant_id).where(
        AssistantPractitioner.practitioner_id == practitioner_id
    )
    query = (
        select(AssistantPractitioner.assistant_id)
        .where(AssistantPractitioner.assistant_id.in_(limited))
        .group_by(AssistantPractitioner.assistant_id)
        .having(func.count() == 1)
    )
    return len((await session.scalars(query)).all())


async def move_client_ownership(
    session: AsyncSession, *, clinic_id: uuid.UUID, from_id: uuid.UUID, to_id: uuid.UUID
) -> int:
    result = await session.execute(
        update(Client)
        .where(Client.clinic_id == clinic_id, Client.practitioner_id == from_id)
        .values(practitioner_id=to_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_practitioner(session: AsyncSession, practitioner: Practitioner) -> None:
    await session.delete(practitioner)
    await session.flush()


# --- assistants -----------------------------------------------------------------------------------


async def get_assistant(
    session: AsyncSession, *, clinic_id: uuid.UUID, assistant_id: uuid.UUID
) -> Assistant | None:
    return await session.scalar(
        select(Assistant).where(Assistant.id == assistant_id, Assistant.clinic_id == clinic_id)
    )


async def assistant_by_external_id(
    session: AsyncSession, *, clinic_id: uuid.UUID, external_id: str
) -> Assistant | None:
    return await session.scalar(
        select(Assistant).where(Assistant.clinic_id == clinic_id, Assistant.external_id == external_id)
    )


async def list_assistants(
    session: AsyncSession, *, clinic_id: uuid.UUID, include_inactive: bool
) -> Sequence[Assistant]:
    query = select(Assistant).where(Assistant.clinic_id == clinic_id)
    if not include_inactive:
        query = query.where(Assistant.is_active.is_(True))
    return (await session.scalars(query.order_by(Assistant.created_at, Assistant.id))).all()


async def assistant_practitioner_ids(
    session: AsyncSession, assistant_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = await session.execute(
        select(AssistantPractitioner.assistant_id, AssistantPractitioner.practitioner_id)
        .where(AssistantPractitioner.assistant_id.in_(assistant_ids))
        .order_by(AssistantPractitioner.practitioner_id)
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = {assistant_id: [] for assistant_id in assistant_ids}
    for assistant_id, practitioner_id in rows:
        found[assistant_id].append(practitioner_id)
    return found


async def replace_assistant_practitioners(
    session: AsyncSession, *, assistant_id: uuid.UUID, practitioner_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(
        delete(AssistantPractitioner).where(AssistantPractitioner.assistant_id == assistant_id)
    )
    session.add_all(
        AssistantPractitioner(assistant_id=assistant_id, practitioner_id=practitioner_id)
        for practitioner_id in practitioner_ids
    )
    await session.flush()


async def delete_assistant(session: AsyncSession, assistant: Assistant) -> None:
    await session.delete(assistant)
    await session.flush()
