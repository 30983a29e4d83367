"""All intake queries; each is scoped to the intake's clinic, or reaches an intake by its id only where the
caller already proved it may (the form page's password or token)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Client, Intake, IntakeFile, IntakeStatus, IntakeToken, Practitioner


async def get_intake(session: AsyncSession, intake_id: uuid.UUID) -> Intake | None:
    return await session.get(Intake, intake_id)


async def intake_of_clinic(
    session: AsyncSession, *, clinic_id: uuid.UUID, intake_id: uuid.UUID
) -> Intake | None:
    return await session.scalar(select(Intake).where(Intake.id == intake_id, Intake.clinic_id == clinic_id))


async def client_by_number(session: AsyncSession, *, clinic_id: uuid.UUID, number: int) -> Client | None:
    return await session.scalar(select(Client).where(Client.clinic_id == clinic_id, Client.number == number))


async def client_by_external_id(
    session: AsyncSession, *, clinic_id: uuid.UUID, external_client_id: str
) -> Client | None:
    """The clinic's oldest client with this external id."""
    return await session.scalar(
        select(Client)
        .where(Client.clinic_id == clinic_id, Client.external_client_id == external_client_id)
        .order_by(Client.number)
        .limit(1)
    )


async def get_client(session: AsyncSession, *, clinic_id: uuid.UUID, client_id: uuid.UUID) -> Client | None:
    return await session.scalar(select(Client).where(Client.clinic_id == clinic_id, Client.id == client_id))


async def get_practitioner(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_id: uuid.UUID
) -> Practitioner | None:
    return await session.scalar(
        select(Practitioner).where(Practitioner.clinic_id == clinic_id, Practitioner.id == practitioner_id)
    )


async def files_of(session: AsyncSession, intake_id: uuid.UUID) -> Sequence[IntakeFile]:
    query = select(IntakeFile).where(IntakeFile.intake_id == intake_id).order_by(IntakeFile.created_at)
    return (await session.scalars(query)).all()


async def count_files(session: AsyncSession, intake_id: uuid.UUID) -> int:
    query = select(func.count(IntakeFile.id)).where(IntakeFile.intake_id == intake_id)
    return int(await session.scalar(query) or 0)


async def file_of_intake(
    session: AsyncSession, *, intake_id: uuid.UUID, file_id: uuid.UUID
) -> IntakeFile | None:
    return await session.scalar(
        select(IntakeFile).where(IntakeFile.id == file_id, IntakeFile.intake_id == intake_id)
    )


async def file_of_clinic(
    session: AsyncSession, *, clinic_id: uuid.UUID, file_id: uuid.UUID
) -> IntakeFile | None:
    return await session.scalar(
        select(IntakeFile)
        .join(Intake, Intake.id == IntakeFile.intake_id)
        .where(IntakeFile.id == file_id, Intake.clinic_id == clinic_id)
    )


async def valid_token(
    session: AsyncSession, *, intake_id: uuid.UUID, digest: str, now: datetime
) -> IntakeToken | None:
    return await session.scalar(
        select(IntakeToken).where(
            IntakeToken.intake_id == intake_id, IntakeToken.digest == digest, IntakeToken.expires_at > now
        )
    )


def _client_matches(text: str) -> ColumnElement[bool]:
    full_name = Client.first_name + " " + Client.last_name
    conditions = [
        full_name.icontains(text, autoescape=True),
        Client.email.icontains(text, autoescape=True),
    ]
    if text.isascii() and text.isdigit() and len(text) <= 9:
        conditions.append(Client.number == int(text))
    return or_(*conditions)


async def list_intakes(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    client_text: str | None,
    created_from: datetime | None,
    created_before: datetime | None,
    include_unsubmitted: bool,
    limit: int,
    offset: int,
    client_number: int | None = None,
    external_client_id: str | None = None,
    status: IntakeStatus | None = None,
    practitioner_scope: Collection[uuid.UUID] | None = None,
) -> Sequence[tuple[Intake, Client]]:
    """The clinic's intakes with their clients, newest first; ``status`` keeps those in that status,
    ``practitioner_scope`` (None: everyone's) those of these practitioners."""
    query = (
        select(Intake, Client)
        .join(Client, Client.id == Intake.client_id)
        .where(Intake.clinic_id == clinic_id)
        .order_by(Intake.created_at.desc(), Intake.id)
        .limit(limit)
        .offset(offset)
    )
    if not include_unsubmitted:
        query = query.where(Intake.status == IntakeStatus.submitted)
    if status is not None:
        query = query.where(Intake.status == status)
    if practitioner_scope is not None:
        query = query.where(Intake.practitioner_id.in_(list(practitioner_scope)))
    if client_text:
        query = query.where(_client_matches(client_text))
    if client_number is not None:
        query = query.where(Client.number == client_number)
    if external_client_id is not None:
        query = query.where(Client.external_client_id == external_client_id)
    if created_from is not None:
        query = query.where(Intake.created_at >= created_from)
    if created_before is not None:
        query = query.where(Intake.created_at < created_before)
    return [(intake, client) for intake, client in (await session.execute(query)).all()]


async def practitioners_by_id(
    session: AsyncSession, *, clinic_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Practitioner]:
    if not ids:
        return {}
    rows = await session.scalars(
        select(Practitioner).where(Practitioner.clinic_id == clinic_id, Practitioner.id.in_(set(ids)))
    )
    return {row.id: row for row in rows}


async def main_practitioner(session: AsyncSession, clinic_id: uuid.UUID) -> Practitioner | None:
    """The clinic's main practitioner when it is active."""
    return await session.scalar(
        select(Practitioner)
        .where(
            Practitioner.clinic_id == clinic_id,
            Practitioner.is_main.is_(True),
            Practitioner.is_active.is_(True),
        )
        .order_by(Practitioner.created_at)
        .limit(1)
    )


async def forget_expired_tokens(session: AsyncSession, *, intake_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        delete(IntakeToken).where(IntakeToken.intake_id == intake_id, IntakeToken.expires_at <= now)
    )


async def lock_intake(session: AsyncSession, intake_id: uuid.UUID) -> Intake | None:
    """The intake, its row locked until the caller commits (PostgreSQL; SQLite serialises writers), so
    that two submissions, or two wrong passwords, never both read the same state."""
    return await session.scalar(
        select(Intake)
        .where(Intake.id == intake_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
