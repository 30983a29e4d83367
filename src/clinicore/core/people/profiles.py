"""Client profiles: a clinic's clients listed, read and saved with their tags and custom field values.

- **Listing.** Filters apply together: ``text`` (each word a part of a name, the email or the phone, or
  the client number), the days the client was made (``created_start``/``created_end``, local days of the
  clinic, both included), an external client id, and custom field values (equal without case). By client
  number, ``PAGE_SIZE`` a page, pages from 1.
- **Saving without a client number** names the client as everywhere in Clinicore: by external client id,
  then by email (a phone only for a client without email); a known client's identity (names, email, phone,
  date of birth, gender) is only completed where blank, its other details (address, practitioner) are
  updated, the tags given are added and the custom values given set; an external id is written on a
  client that has none. Nobody found: a new client with the clinic's next number (a first and a last name
  needed; an email or a phone is not).
- **Saving with a client number** updates that client: each detail given replaces the one held (null
  clears it; names may not be blank), the tags given replace the client's tags.
- An email or an external client id that another of the clinic's clients holds is refused: it would make
  two people one.
- Every save is audited with ids only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import Client, Clinic
from clinicore.core.people import custom_fields, tags
from clinicore.core.people import profile_repository as repository
from clinicore.core.people import repository as people_repository
from clinicore.core.people import service as people_service
from clinicore.core.people.custom_fields import FieldValue
from clinicore.core.staff import service as staff_service
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.contact import normalise_email, normalise_phone
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.kit.inputs import NOT_GIVEN, SUPPORTED_YEARS, SUPPORTED_YEARS_TEXT, Given
from clinicore.kit.local_time import start_of_local_day

PAGE_SIZE = 100
MAX_PAGE = 100_000
MAX_SEARCH_LENGTH = 200
MAX_SEARCH_WORDS = 10
MAX_FIELD_FILTERS = 10
MAX_NAME_LENGTH = 100
MAX_EXTERNAL_ID = 200
ADDRESS_LIMITS = {"address_line_1": 200, "address_line_2": 200, "city": 100, "zip_code": 10}
SUBJECT = "client"


@dataclass(frozen=True, slots=True)
class ClientQuery:
    text: str | None = None
    page: int = 1
    created_start: date | None = None
    created_end: date | None = None
    external_client_id: str | None = None
    field_values: Mapping[str, str] = field(default_factory=dict)  # custom field key -> value


@dataclass(frozen=True, slots=True)
class ClientProfile:
    client: Client
    tags: list[str]
    fields: list[FieldValue]


@dataclass(frozen=True, slots=True)
class ClientDetails:
    """What a save gives; ``NOT_GIVEN`` leaves a detail as it is. ``full_name`` is read as first word and
    the rest when ``first_name``/``last_name`` are not given."""

    first_name: Given[str | None] = NOT_GIVEN
    last_name: Given[str | None] = NOT_GIVEN
    full_name: Given[str | None] = NOT_GIVEN
    email: Given[str | None] = NOT_GIVEN
    phone: Given[str | None] = NOT_GIVEN
    date_of_birth: Given[date | None] = NOT_GIVEN
    gender: Given[int | None] = NOT_GIVEN
    external_client_id: Given[str | None] = NOT_GIVEN
    address_line_1: Given[str | None] = NOT_GIVEN
    address_line_2: Given[str | None] = NOT_GIVEN
    city: Given[str | None] = NOT_GIVEN
    state: Given[str | None] = NOT_GIVEN
    zip_code: Given[str | None] = NOT_GIVEN
    practitioner: Given[str | None] = NOT_GIVEN  # our id or the external practitioner id
    tags: Given[Sequence[str | None] | None] = NOT_GIVEN
    custom_fields: Given[Mapping[str, str | None] | None] = NOT_GIVEN


def _refuse(message: str, field_name: str) -> InvalidInput:
    return InvalidInput(message, field=field_name, subject=SUBJECT)


def _missing() -> NotFound:
    return NotFound("client not found", subject=SUBJECT)


def _bounded(value: str | None, field_name: str, longest: int) -> str | None:
    text = (value or "").strip()
    if len(text) > longest:
        raise _refuse(f"{field_name}: at most {longest} characters", field_name)
    return text or None


def search_words(text: str | None) -> list[str]:
    cleaned = (text or "").strip()
    if len(cleaned) > MAX_SEARCH_LENGTH:
        raise _refuse(f"search: at most {MAX_SEARCH_LENGTH} characters", "search")
    words = cleaned.split()
    if len(words) > MAX_SEARCH_WORDS:
        raise _refuse(f"search: at most {MAX_SEARCH_WORDS} words", "search")
    return words


async def _profiles(
    session: AsyncSession, clinic_id: uuid.UUID, clients: Sequence[Client]
) -> list[ClientProfile]:
    ids = [client.id for client in clients]
    held = await tags.tags_by_client(session, clinic_id=clinic_id, client_ids=ids)
    values = await custom_fields.values_by_client(session, clinic_id=clinic_id, client_ids=ids)
    return [ClientProfile(client, held[client.id], values[client.id]) for client in clients]


async def list_clients(
    session: AsyncSession, *, clinic: Clinic, query: ClientQuery, with_profiles: bool
) -> list[ClientProfile]:
    """One page of the clinic's clients; tags and custom values only ``with_profiles`` (else empty)."""
    if not 1 <= query.page <= MAX_PAGE:
        raise _refuse(f"page: must be a whole number from 1 to {MAX_PAGE}", "page")
    words = search_words(query.text)
    for name, day in (("created_start", query.created_start), ("created_end", query.created_end)):
        if day is not None and day.year not in SUPPORTED_YEARS:
            raise _refuse(f"{name}: must be {SUPPORTED_YEARS_TEXT}", name)
    if query.created_start and query.created_end and query.created_end < query.created_start:
        raise _refuse("created_end: must not be before created_start", "created_end")
    if len(query.field_values) > MAX_FIELD_FILTERS:
        raise _refuse(f"custom: at most {MAX_FIELD_FILTERS} custom field filters", "custom")
    filters: list[tuple[uuid.UUID, str]] = []
    for key, value in query.field_values.items():
        found = await custom_fields.field_by_key(session, clinic_id=clinic.id, key=key)
        if found is None:
            raise _refuse(f"custom[{key[:40]}]: no such custom field", "custom")
        if len(value) > custom_fields.MAX_VALUE_LENGTH:
            raise _refuse(
                f"custom[{found.key}]: at most {custom_fields.MAX_VALUE_LENGTH} characters", "custom"
            )
        filters.append((found.id, value.strip()))
    clients = await repository.list_clients(
        session,
        clinic_id=clinic.id,
        terms=words,
        created_from=start_of_local_day(query.created_start, clinic.time_zone)
        if query.created_start
        else None,
        created_before=start_of_local_day(query.created_end + timedelta(days=1), clinic.time_zone)
        if query.created_end
        else None,
        external_client_id=_bounded(query.external_client_id, "external_client_id", MAX_EXTERNAL_ID),
        field_values=filters,
        limit=PAGE_SIZE,
        offset=(query.page - 1) * PAGE_SIZE,
    )
    if not with_profiles:
        return [ClientProfile(client, [], []) for client in clients]
    return await _profiles(session, clinic.id, clients)


async def client_by_number(session: AsyncSession, *, clinic_id: uuid.UUID, number: int) -> Client:
    """The clinic's client with this number; another clinic's reads as missing."""
    found = await repository.client_by_number(session, clinic_id=clinic_id, number=number)
    if found is None:
        raise _missing()
    return found


async def get_profile(session: AsyncSession, *, clinic_id: uuid.UUID, number: int) -> ClientProfile:
    client = await client_by_number(session, clinic_id=clinic_id, number=number)
    return (await _profiles(session, clinic_id, [client]))[0]


# --- saving ---------------------------------------------------------------------------------------


def _names(details: ClientDetails) -> tuple[Given[str], Given[str]]:
    """(first, last) as given; ``full_name`` fills the ones not given."""
    first: Given[str | None] = details.first_name
    last: Given[str | None] = details.last_name
    if details.full_name is not NOT_GIVEN and (first is NOT_GIVEN or last is NOT_GIVEN):
        split_first, split_last = people_service.split_full_name(details.full_name)
        if first is NOT_GIVEN:
            first = split_first
        if last is NOT_GIVEN:
            last = split_last
    cleaned: list[Given[str]] = []
    for name, value in (("first_name", first), ("last_name", last)):
        if value is NOT_GIVEN:
            cleaned.append(NOT_GIVEN)
            continue
        text = " ".join((value or "").split())
        if len(text) > MAX_NAME_LENGTH:
            raise _refuse(f"{name}: at most {MAX_NAME_LENGTH} characters", name)
        cleaned.append(text)
    return cleaned[0], cleaned[1]


def _state(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) != 2 or not text.isascii() or not text.isalpha():
        raise _refuse("state: must be a two-letter code (NY)", "state")
    return text.upper()


def _cleaned(details: ClientDetails, today: date) -> dict[str, Any]:
    """Every detail given, checked and normalised (names apart); None clears."""
    values: dict[str, Any] = {}
    if details.email is not NOT_GIVEN:
        try:
            values["email"] = (
                normalise_email(details.email) if details.email and details.email.strip() else None
            )
        except InvalidInput as error:
            raise _refuse(error.message, "email") from None
    if details.phone is not NOT_GIVEN:
        try:
            values["phone"] = (
                normalise_phone(details.phone) if details.phone and details.phone.strip() else None
            )
        except InvalidInput:
            raise _refuse("phone: not a telephone number (use +15552223232 or 1234567890)", "phone") from None
    if details.date_of_birth is not NOT_GIVEN:
        born = details.date_of_birth
        if born is not None and (born.year not in SUPPORTED_YEARS or born > today):
            raise _refuse(f"date_of_birth: must be a past date {SUPPORTED_YEARS_TEXT}", "date_of_birth")
        values["date_of_birth"] = born
    if details.gender is not NOT_GIVEN:
        if details.gender is not None and details.gender not in people_service.GENDERS:
            raise _refuse("gender: must be male, female or prefer not to say", "gender")
        values["gender"] = details.gender
    if details.external_client_id is not NOT_GIVEN:
        values["external_client_id"] = _bounded(
            details.external_client_id, "external_client_id", MAX_EXTERNAL_ID
        )
    for name, longest in ADDRESS_LIMITS.items():
        value = getattr(details, name)
        if value is not NOT_GIVEN:
            values[name] = _bounded(value, name, longest)
    if details.state is not NOT_GIVEN:
        values["state"] = _state(details.state)
    return values


async def _practitioner_id(
    session: AsyncSession, clinic_id: uuid.UUID, reference: str | None
) -> uuid.UUID | None:
    if not (reference or "").strip():
        return None
    try:
        found = await staff_service.practitioner_by_reference(
            session, clinic_id=clinic_id, reference=reference or ""
        )
    except NotFound:
        raise _refuse("practitioner_id: no such practitioner", "practitioner_id") from None
    if not found.is_active:
        raise _refuse("practitioner_id: the practitioner is disabled", "practitioner_id")
    return found.id


async def _refuse_a_taken(
    session: AsyncSession, client: Client | None, clinic_id: uuid.UUID, values: dict[str, Any]
) -> None:
    email = values.get("email")
    if email:
        holder = await people_repository.client_by_email(session, clinic_id=clinic_id, email=email)
        if holder is not None and (client is None or holder.id != client.id):
            raise _refuse("email: another client of the practice holds it already", "email")
    external = values.get("external_client_id")
    if external:
        holder = await repository.client_by_external_id(
            session, clinic_id=clinic_id, external_client_id=external
        )
        if holder is not None and (client is None or holder.id != client.id):
            raise _refuse(
                "external_client_id: another client of the practice holds it already", "external_client_id"
            )


async def _found(session: AsyncSession, clinic_id: uuid.UUID, values: dict[str, Any]) -> Client | None:
    """The known client a save without a number names."""
    if values.get("external_client_id"):
        found = await repository.client_by_external_id(
            session, clinic_id=clinic_id, external_client_id=values["external_client_id"]
        )
        if found is not None:
            return found
    return await people_service.match_client(
        session, clinic_id=clinic_id, email=values.get("email"), phone=values.get("phone")
    )


async def save_client(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    number: int | None,
    details: ClientDetails,
    actor: Actor,
    clock: Clock = system_clock,
) -> ClientProfile:
    """Creates or updates one of the clinic's clients (see the module's rules); answers its profile."""
    now = clock.now()
    first, last = _names(details)
    values = _cleaned(details, now.date())
    practitioner: Given[uuid.UUID | None] = NOT_GIVEN
    if details.practitioner is not NOT_GIVEN:
        practitioner = await _practitioner_id(session, clinic_id, details.practitioner)
    if number is not None:
        client: Client | None = await client_by_number(session, clinic_id=clinic_id, number=number)
        mode = "update"
    else:
        client = await _found(session, clinic_id, values)
        mode = "create" if client is None else "complete"
    for name, value in (("first_name", first), ("last_name", last)):
        blank = value is NOT_GIVEN or not value
        if (mode == "create" and blank) or (mode == "update" and value is not NOT_GIVEN and not value):
            raise _refuse(f"{name}: is required (give first_name and last_name, or full_name)", name)
    if mode == "complete" and client is not None and client.email:
        values.pop("email", None)  # a known client's email is never rewritten by a save without number
    await _refuse_a_taken(session, client, clinic_id, values)
    if client is None:
        client_number = await people_repository.next_counter_value(
            session, people_service.client_counter_name(clinic_id)
        )
        client = Client(clinic_id=clinic_id, number=client_number, created_at=now, updated_at=now)
        session.add(client)
    identity = {"first_name": first, "last_name": last} | {
        name: values.pop(name) for name in ("email", "phone", "date_of_birth", "gender") if name in values
    }
    for name, value in identity.items():
        if value is NOT_GIVEN or (
            mode == "complete" and (getattr(client, name) not in (None, "") or not value)
        ):
            continue
        setattr(client, name, value)
    external = values.pop("external_client_id", NOT_GIVEN)
    if external is not NOT_GIVEN and (mode != "complete" or (external and not client.external_client_id)):
        client.external_client_id = external
    for name, value in values.items():
        setattr(client, name, value)
    if practitioner is not NOT_GIVEN:
        client.practitioner_id = practitioner
    client.updated_at = now
    await session.flush()
    if details.tags is not NOT_GIVEN:
        given_tags = list(details.tags or [])
        if mode == "update":
            await tags.replace_tags(session, client=client, tags=given_tags, clock=clock)
        else:
            for tag in given_tags:
                await tags.add_tag(session, client=client, tag=tag, clock=clock)
    if details.custom_fields is not NOT_GIVEN and details.custom_fields:
        await custom_fields.set_values(session, client=client, values=details.custom_fields, clock=clock)
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="client.created" if mode == "create" else "client.updated",
        target_type="client",
        target_id=client.id,
        clock=clock,
    )
    return (await _profiles(session, clinic_id, [client]))[0]


async def tag_client(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    number: int,
    tag: str | None,
    actor: Actor,
    clock: Clock = system_clock,
) -> tuple[Client, str]:
    """Puts a tag on the clinic's client with this number; answers the client and the tag as stored."""
    client = await client_by_number(session, clinic_id=clinic_id, number=number)
    stored = await tags.add_tag(session, client=client, tag=tag, clock=clock)
    client.updated_at = clock.now()
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="client.tagged",
        target_type="client",
        target_id=client.id,
        clock=clock,
    )
    return client, stored


async def untag_client(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    number: int,
    tag: str | None,
    actor: Actor,
    clock: Clock = system_clock,
) -> None:
    client = await client_by_number(session, clinic_id=clinic_id, number=number)
    await tags.remove_tag(session, client=client, tag=tag)
    client.updated_at = clock.now()
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="client.untagged",
        target_type="client",
        target_id=client.id,
        clock=clock,
    )
