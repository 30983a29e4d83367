"""All queries of the people domain. Every client lookup takes the clinic id."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Client, Counter, PatientExam
from clinicore.kit.contact import email_key


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def get_client(session: AsyncSession, *, clinic_id: uuid.UUID, client_id: uuid.UUID) -> Client | None:
    return await session.scalar(select(Client).where(Client.clinic_id == clinic_id, Client.id == client_id))


async def client_by_email(session: AsyncSession, *, clinic_id: uuid.UUID, email: str) -> Client | None:
    """The clinic's oldest client with this email, compared without case."""
    return await session.scalar(
        select(Client)
        .where(Client.clinic_id == clinic_id, func.lower(Client.email) == email_key(email))
        .order_by(Client.number)
        .limit(1)
    )


async def client_by_phone_without_email(
    session: AsyncSession, *, clinic_id: uuid.UUID, phone: str
) -> Client | None:
    """The clinic's oldest client with this E.164 phone number and no email on record."""
    return await session.scalar(
        select(Client)
        .where(Client.clinic_id == clinic_id, Client.phone == phone, Client.email.is_(None))
        .order_by(Client.number)
        .limit(1)
    )


async def client_has_exams(session: AsyncSession, *, client_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(PatientExam.client_id == client_id))))


async def next_counter_value(session: AsyncSession, name: str) -> int:
    """The counter's next value (1 first). The updated row stays locked until the caller commits, so
    concurrent transactions get distinct values."""
    await session.execute(_insert(session, Counter).values(name=name, value=0).on_conflict_do_nothing())
    statement = (
        update(Counter).where(Counter.name == name).values(value=Counter.value + 1).returning(Counter.value)
    )
    return int((await session.execute(statement)).scalar_one())
