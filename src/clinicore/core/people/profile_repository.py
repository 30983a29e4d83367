"""Queries of client profiles: clients by number and external id, the filtered client list, tags and
custom field values. Every query takes the clinic id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Client, ClientField, ClientFieldValue, ClientTag
from clinicore.core.people.client_search import _term_matches as term_matches
from clinicore.kit.ids import new_uuid


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


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


async def list_clients(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    terms: Sequence[str],
    created_from: datetime | None,
    created_before: datetime | None,
    external_client_id: str | None,
    field_values: Sequence[tuple[uuid.UUID, str]],
    limit: int,
    offset: int,
) -> Sequence[Client]:
    """The clinic's clients matching every filter, by client number (oldest first)."""
    conditions: list[ColumnElement[bool]] = [Client.clinic_id == clinic_id]
    conditions += [term_matches(term) for term in terms]
    if created_from is not None:
        conditions.append(Client.created_at >= created_from)
    if created_before is not None:
        conditions.append(Client.created_at < created_before)
    if external_client_id is not None:
        conditions.append(Client.external_client_id == external_client_id)
    for field_id, value in field_values:
        conditions.append(
            select(ClientFieldValue.id)
            .where(
                ClientFieldValue.client_id == Client.id,
                ClientFieldValue.field_id == field_id,
                func.lower(ClientFieldValue.value) == value.lower(),
            )
            .exists()
        )
    query = select(Client).where(*conditions).order_by(Client.number).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


# --- tags -----------------------------------------------------------------------------------------


async def tags_of(
    session: AsyncSession, *, clinic_id: uuid.UUID, client_ids: Sequence[uuid.UUID]
) -> Sequence[ClientTag]:
    if not client_ids:
        return []
    query = (
        select(ClientTag)
        .where(ClientTag.clinic_id == clinic_id, ClientTag.client_id.in_(client_ids))
        .order_by(ClientTag.created_at, ClientTag.tag_key)
    )
    return (await session.scalars(query)).all()


async def add_tag(
    session: AsyncSession, *, clinic_id: uuid.UUID, client_id: uuid.UUID, tag: str, tag_key: str, at: datetime
) -> None:
    """Adds the tag unless the client holds it already (concurrent adds of one tag make one row)."""
    statement = (
        _insert(session, ClientTag)
        .values(
            id=new_uuid(), clinic_id=clinic_id, client_id=client_id, tag=tag, tag_key=tag_key, created_at=at
        )
        .on_conflict_do_nothing(index_elements=["client_id", "tag_key"])
    )
    await session.execute(statement)


async def remove_tags(
    session: AsyncSession, *, clinic_id: uuid.UUID, client_id: uuid.UUID, tag_keys: Sequence[str]
) -> None:
    if not tag_keys:
        return
    await session.execute(
        delete(ClientTag).where(
            ClientTag.clinic_id == clinic_id,
            ClientTag.client_id == client_id,
            ClientTag.tag_key.in_(tag_keys),
        )
    )


# --- custom fields --------------------------------------------------------------------------------


async def fields_of(session: AsyncSession, *, clinic_id: uuid.UUID) -> Sequence[ClientField]:
    query = (
        select(ClientField)
        .where(ClientField.clinic_id == clinic_id)
        .order_by(ClientField.created_at, ClientField.key)
    )
    return (await session.scalars(query)).all()


async def count_fields(session: AsyncSession, *, clinic_id: uuid.UUID) -> int:
    return int(
        await session.scalar(select(func.count(ClientField.id)).where(ClientField.clinic_id == clinic_id))
        or 0
    )


async def values_of(
    session: AsyncSession, *, clinic_id: uuid.UUID, client_ids: Sequence[uuid.UUID]
) -> Sequence[ClientFieldValue]:
    if not client_ids:
        return []
    query = select(ClientFieldValue).where(
        ClientFieldValue.clinic_id == clinic_id, ClientFieldValue.client_id.in_(client_ids)
    )
    return (await session.scalars(query)).all()


async def set_value(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    client_id: uuid.UUID,
    field_id: uuid.UUID,
    value: str | None,
    at: datetime,
) -> None:
    """Sets one client's value of a field; ``None`` removes it."""
    if value is None:
        await session.execute(
            delete(ClientFieldValue).where(
                ClientFieldValue.clinic_id == clinic_id,
                ClientFieldValue.client_id == client_id,
                ClientFieldValue.field_id == field_id,
            )
        )
        return
    statement = _insert(session, ClientFieldValue).values(
        id=new_uuid(), clinic_id=clinic_id, client_id=client_id, field_id=field_id, value=value, updated_at=at
    )
    statement = statement.on_conflict_do_update(
        index_elements=["client_id", "field_id"], set_={"value": value, "updated_at": at}
    )
    await session.execute(statement)
