"""Clients: a clinic's patients, matched by normalised email (a phone only for a client without email),
created with the clinic's next client number otherwise. Services never commit."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Client
from clinicore.core.people import repository
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.contact import normalise_email, normalise_phone
from clinicore.kit.errors import InvalidInput

GENDERS = {1: "male", 2: "female", 3: "prefer not to say"}


def client_counter_name(clinic_id: uuid.UUID) -> str:
    return f"client:{clinic_id}"


async def get_client(session: AsyncSession, *, clinic_id: uuid.UUID, client_id: uuid.UUID) -> Client | None:
    return await repository.get_client(session, clinic_id=clinic_id, client_id=client_id)


async def match_client(
    session: AsyncSession, *, clinic_id: uuid.UUID, email: str | None, phone: str | None
) -> Client | None:
    """The person these (normalised) details name, if the clinic knows them.

    A patient is matched by email (normalised, compared without case). A phone alone is no identity:
    families share phones and integrations send one sample number for every patient, so a phone
    matches only a client who has no email on record (the invite then gives them one)."""
    client = None
    if email:
        client = await repository.client_by_email(session, clinic_id=clinic_id, email=email)
    if client is None and phone:
        client = await repository.client_by_phone_without_email(session, clinic_id=clinic_id, phone=phone)
    return client


async def _new_client(session: AsyncSession, *, clinic_id: uuid.UUID, clock: Clock) -> Client:
    """A client with the clinic's next number, added to the session (the caller fills it in)."""
    number = await repository.next_counter_value(session, client_counter_name(clinic_id))
    now = clock.now()
    client = Client(clinic_id=clinic_id, number=number, created_at=now, updated_at=now)
    session.add(client)
    return client


def split_full_name(full_name: str | None) -> tuple[str, str]:
    """(first name, last name) of a name written in one field: the first word, then the rest.
    ``"Ana María de la Cruz"`` reads as ``("Ana", "María de la Cruz")``; a single word is a first name."""
    words = (full_name or "").split()
    if not words:
        return "", ""
    return words[0][:100], " ".join(words[1:])[:100]


async def client_for_contact(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    full_name: str | None,
    email: str | None,
    phone: str | None,
    clock: Clock = system_clock,
) -> Client:
    """The clinic's client a prospect's contact details name (``match_client``), or a new client with the
    clinic's next number. At least one of ``email`` and ``phone`` is needed.

    A prospect's details (a lead's, typed by the prospect or an agent) only fill a known client's blanks:
    they never rewrite a client's name, email or phone."""
    email = normalise_email(email) if email else None
    phone = normalise_phone(phone) if phone else None
    if email is None and phone is None:
        raise InvalidInput("email: an email or a phone is needed to find the client", field="email")
    client = await match_client(session, clinic_id=clinic_id, email=email, phone=phone)
    if client is None:
        client = await _new_client(session, clinic_id=clinic_id, clock=clock)
    first_name, last_name = split_full_name(full_name)
    given = {"first_name": first_name, "last_name": last_name, "email": email, "phone": phone}
    changed = False
    for name, value in given.items():
        if value and getattr(client, name) in (None, ""):
            setattr(client, name, value)
            changed = True
    for name in ("first_name", "last_name"):  # a new client named by nobody has blank names, not none
        if getattr(client, name) is None:
            setattr(client, name, "")
    if changed:
        client.updated_at = clock.now()
    await session.flush()
    return client


async def find_or_create_client(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    first_name: str,
    last_name: str,
    email: str,
    phone: str,
    dob: date | None = None,
    gender: int | None = None,
    dmv_license_number: str | None = None,
    address_line_1: str | None = None,
    address_line_2: str | None = None,
    city: str | None = None,
    state: str | None = None,
    zip_code: str | None = None,
    clock: Clock = system_clock,
) -> Client:
    """The clinic's client these details name (``match_client``), or a new client with the clinic's
    next number.

    The identity of a client who already has exams (name, email, phone, date of birth, gender) is
    never rewritten, only completed where blank: their earlier exams are theirs. A client without
    exams takes the details given. Other details (address, licence) are updated when given."""
    email = normalise_email(email)
    phone = normalise_phone(phone)
    if gender is not None and gender not in GENDERS:
        raise InvalidInput("gender: must be 1 (male), 2 (female) or 3 (prefer not to say)", field="gender")
    client = await match_client(session, clinic_id=clinic_id, email=email, phone=phone)
    now = clock.now()
    keep_identity = False
    if client is None:
        client = await _new_client(session, clinic_id=clinic_id, clock=clock)
    else:
        keep_identity = await repository.client_has_exams(session, client_id=client.id)
    identity = {
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "phone": phone,
        "date_of_birth": dob,
        "gender": gender,
    }
    changed = False
    for name, value in identity.items():
        if value is None or getattr(client, name) == value:
            continue
        if keep_identity and getattr(client, name) not in (None, ""):
            continue
        setattr(client, name, value)
        changed = True
    details = {
        "dmv_license_number": dmv_license_number,
        "address_line_1": address_line_1,
        "address_line_2": address_line_2,
        "city": city,
        "state": state,
        "zip_code": zip_code,
    }
    for name, value in details.items():
        if value is not None and getattr(client, name) != value:
            setattr(client, name, value)
            changed = True
    # An invite that repeats what the row holds writes nothing: no row lock that every invite of a
    # returning patient would queue behind (PostgreSQL) until the other's commit.
    if changed:
        client.updated_at = now
    await session.flush()
    return client
