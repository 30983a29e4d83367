"""All tenancy queries. Every clinic-owned lookup takes the clinic id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import ApiKey, Clinic, ClinicUser, ConsoleSession, Partner


async def get_partner(session: AsyncSession, partner_id: uuid.UUID) -> Partner | None:
    return await session.get(Partner, partner_id)


async def get_partner_by_name(session: AsyncSession, name: str) -> Partner | None:
    return await session.scalar(select(Partner).where(Partner.name == name).limit(1))


async def get_clinic(session: AsyncSession, clinic_id: uuid.UUID) -> Clinic | None:
    return await session.get(Clinic, clinic_id)


async def get_clinic_by_name(
    session: AsyncSession, *, partner_id: uuid.UUID | None, name: str
) -> Clinic | None:
    return await session.scalar(
        select(Clinic).where(Clinic.partner_id == partner_id, Clinic.name == name).limit(1)
    )


async def next_clinic_number(session: AsyncSession) -> int:
    highest = await session.scalar(select(func.max(Clinic.number)))
    return (highest or 1000) + 1


async def practice_id_taken(session: AsyncSession, practice_id: str) -> bool:
    return (await session.scalar(select(Clinic.id).where(Clinic.practice_id == practice_id))) is not None


async def get_user_by_email(session: AsyncSession, email: str) -> ClinicUser | None:
    """The user who signs in with this email and a password (single sign-on users have no password)."""
    return await session.scalar(
        select(ClinicUser).where(ClinicUser.email == email, ClinicUser.password_hash.is_not(None))
    )


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> ClinicUser | None:
    return await session.get(ClinicUser, user_id)


async def list_admins(session: AsyncSession, clinic_id: uuid.UUID) -> Sequence[ClinicUser]:
    result = await session.scalars(
        select(ClinicUser).where(
            ClinicUser.clinic_id == clinic_id, ClinicUser.role == "admin", ClinicUser.is_active.is_(True)
        )
    )
    return result.all()


async def get_console_session(session: AsyncSession, token_digest: str) -> ConsoleSession | None:
    return await session.scalar(select(ConsoleSession).where(ConsoleSession.token_digest == token_digest))


async def delete_console_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    await session.execute(delete(ConsoleSession).where(ConsoleSession.id == session_id))


async def delete_expired_console_sessions(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def list_keys(session: AsyncSession, clinic_id: uuid.UUID) -> Sequence[ApiKey]:
    result = await session.scalars(
        select(ApiKey).where(ApiKey.clinic_id == clinic_id).order_by(ApiKey.created_at.desc(), ApiKey.id)
    )
    return result.all()


async def get_key(session: AsyncSession, *, clinic_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.clinic_id == clinic_id))


async def active_keys_of_kind(
    session: AsyncSession,
    *,
    kind: str,
    clinic_id: uuid.UUID | None = None,
    partner_id: uuid.UUID | None = None,
) -> Sequence[ApiKey]:
    query = select(ApiKey).where(ApiKey.kind == kind, ApiKey.revoked_at.is_(None))
    query = (
        query.where(ApiKey.clinic_id == clinic_id)
        if clinic_id
        else query.where(ApiKey.partner_id == partner_id)
    )
    result = await session.scalars(query.order_by(ApiKey.created_at.desc()))
    return result.all()


# Built once: building an ORM statement costs more CPU than running this indexed read on SQLite.
_KEYS_WITH_PREFIX = (
    select(ApiKey, Clinic)
    .outerjoin(Clinic, Clinic.id == ApiKey.clinic_id)
    .where(ApiKey.kind == bindparam("kind"), ApiKey.prefix == bindparam("prefix"))
)


async def keys_with_prefix(
    session: AsyncSession, *, kind: str, prefix: str
) -> Sequence[tuple[ApiKey, Clinic | None]]:
    """Candidate keys for a prefix, each with its clinic, in one round trip (this runs on every request)."""
    result = await session.execute(_KEYS_WITH_PREFIX, {"kind": kind, "prefix": prefix})
    return [(row[0], row[1]) for row in result]


async def active_keys_of_clinic(session: AsyncSession, clinic_id: uuid.UUID) -> Sequence[ApiKey]:
    result = await session.scalars(
        select(ApiKey).where(ApiKey.clinic_id == clinic_id, ApiKey.revoked_at.is_(None)).order_by(ApiKey.id)
    )
    return result.all()


# --- a partner's practices (its clinics) ----------------------------------------------------------


def _partner_practices(partner_id: uuid.UUID) -> Select[Clinic]:
    """The partner's clinics that are not deleted."""
    return select(Clinic).where(Clinic.partner_id == partner_id, Clinic.deleted_at.is_(None))


async def find_partner_practices(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    practice_id: str | None,
    email: str | None,
    external_practice_id: str | None,
    limit: int,
    offset: int,
) -> Sequence[Clinic]:
    query = _partner_practices(partner_id)
    if practice_id is not None:
        query = query.where(Clinic.practice_id == practice_id)
    if email is not None:
        query = query.where(Clinic.email == email)
    if external_practice_id is not None:
        query = query.where(Clinic.external_practice_id == external_practice_id)
    query = query.order_by(Clinic.created_at, Clinic.id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def partner_practice_by_reference(
    session: AsyncSession, *, partner_id: uuid.UUID, reference: str
) -> Clinic | None:
    """The partner's clinic whose practice id (any case) is ``reference``, else whose external id is."""
    by_id = await session.scalar(
        _partner_practices(partner_id).where(Clinic.practice_id == reference.upper())
    )
    if by_id is not None:
        return by_id
    return await session.scalar(
        _partner_practices(partner_id).where(Clinic.external_practice_id == reference)
    )


async def partner_clinic_with_external_id(
    session: AsyncSession, *, partner_id: uuid.UUID, external_practice_id: str
) -> Clinic | None:
    """Deleted clinics included: a deleted practice keeps its external id."""
    return await session.scalar(
        select(Clinic).where(
            Clinic.partner_id == partner_id, Clinic.external_practice_id == external_practice_id
        )
    )
