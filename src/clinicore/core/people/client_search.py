"""The clinic console's patient list: a clinic's clients found by name, email, phone or client number,
each with how many exams they have had here and when the last one was made. Scoped to one clinic."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Client, PatientExam
from clinicore.kit.errors import InvalidInput, NotFound

SEARCH_LIMIT = 100  # characters of a search
TERMS_LIMIT = 5  # words of a search: each must match a name, the email, the phone or the number
PAGE_LIMIT = 200


@dataclass(frozen=True, slots=True)
class ClientRow:
    client: Client
    exam_count: int
    last_exam_at: datetime | None


def _term_matches(term: str) -> ColumnElement[bool]:
    fields = [Client.first_name, Client.last_name, Client.email, Client.phone]
    conditions = [column.icontains(term, autoescape=True) for column in fields]
    digits = "".join(character for character in term if character in "0123456789")
    if digits and len(digits) >= 3 and digits != term:  # "(212) 555" finds +12125550123
        conditions.append(Client.phone.contains(digits, autoescape=True))
    if term.isascii() and term.isdigit() and len(term) <= 9:
        conditions.append(Client.number == int(term))
    return or_(*conditions)


def search_terms(text: str | None) -> list[str]:
    """The words of a search, or an ``InvalidInput`` when it is longer than the page accepts."""
    cleaned = (text or "").strip()
    if len(cleaned) > SEARCH_LIMIT:
        raise InvalidInput(f"q: at most {SEARCH_LIMIT} characters", field="q")
    if any(ord(character) < 32 and not character.isspace() for character in cleaned):
        raise InvalidInput("q: contains a control character", field="q")
    terms = cleaned.split()
    if len(terms) > TERMS_LIMIT:
        raise InvalidInput(f"q: at most {TERMS_LIMIT} words", field="q")
    return terms


async def search_clients(
    session: AsyncSession, *, clinic_id: uuid.UUID, text: str | None, limit: int, offset: int = 0
) -> list[ClientRow]:
    """The clinic's clients matching every word of ``text`` (all of them when blank), by last then
    first name."""
    terms = search_terms(text)
    exams = (
        select(
            PatientExam.client_id.label("client_id"),
            func.count(PatientExam.id).label("exam_count"),
            func.max(PatientExam.created_at).label("last_exam_at"),
        )
        .where(PatientExam.clinic_id == clinic_id)
        .group_by(PatientExam.client_id)
        .subquery()
    )
    query = (
        select(Client, func.coalesce(exams.c.exam_count, 0), exams.c.last_exam_at)
        .outerjoin(exams, exams.c.client_id == Client.id)
        .where(Client.clinic_id == clinic_id, *(_term_matches(term) for term in terms))
        .order_by(func.lower(Client.last_name), func.lower(Client.first_name), Client.number)
        .limit(min(limit, PAGE_LIMIT + 1))
        .offset(max(offset, 0))
    )
    rows = (await session.execute(query)).all()
    return [ClientRow(client, int(count), last) for client, count, last in rows]


async def get_client(session: AsyncSession, *, clinic_id: uuid.UUID, client_id: uuid.UUID) -> Client:
    """One of the clinic's clients; another clinic's answers as a missing one."""
    client = await session.scalar(select(Client).where(Client.clinic_id == clinic_id, Client.id == client_id))
    if client is None:
        raise NotFound("patient not found", field="client_id")
    return client
