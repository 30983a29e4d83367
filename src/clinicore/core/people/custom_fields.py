"""Custom client fields: the profile fields a clinic defines beyond the ones every client has, and each
client's values.

- A field has a ``key`` (its id for integrators: 1 to ``MAX_KEY_LENGTH`` letters, digits, ``-`` or ``_``;
  made for it when not chosen, unique in the clinic, matched without case) and a ``label`` (1 to
  ``MAX_LABEL_LENGTH`` characters). A clinic defines at most ``MAX_FIELDS_PER_CLINIC`` fields.
- A value is text of at most ``MAX_VALUE_LENGTH`` characters (trimmed; blank clears it). A value for a
  field the clinic has not defined is refused, naming the key.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Client, ClientField
from clinicore.core.people import profile_repository as repository
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput

MAX_FIELDS_PER_CLINIC = 100
MAX_KEY_LENGTH = 40
MAX_LABEL_LENGTH = 200
MAX_VALUE_LENGTH = 1000
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,40}")
SUBJECT = "client"


@dataclass(frozen=True, slots=True)
class FieldValue:
    field: ClientField
    value: str | None  # None: the client has no value for this field


def _refuse(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, field=field, subject=SUBJECT)


def clean_value(value: str | None, key: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > MAX_VALUE_LENGTH:
        raise _refuse(
            f"custom_fields: the value of '{key}' is longer than {MAX_VALUE_LENGTH} characters",
            "custom_fields",
        )
    return text


async def define_field(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    label: str,
    key: str | None = None,
    clock: Clock = system_clock,
) -> ClientField:
    """A new custom field of the clinic."""
    cleaned_label = " ".join(label.split())
    if not cleaned_label or len(cleaned_label) > MAX_LABEL_LENGTH:
        raise _refuse(f"label: 1 to {MAX_LABEL_LENGTH} characters", "label")
    chosen = (key or "").strip() or secrets.token_hex(4)
    if not KEY_PATTERN.fullmatch(chosen):
        raise _refuse(f"key: 1 to {MAX_KEY_LENGTH} letters, digits, '-' or '_'", "key")
    existing = await repository.fields_of(session, clinic_id=clinic_id)
    if len(existing) >= MAX_FIELDS_PER_CLINIC:
        raise _refuse(f"key: a clinic defines at most {MAX_FIELDS_PER_CLINIC} custom fields", "key")
    if any(field.key.lower() == chosen.lower() for field in existing):
        raise _refuse(f"key: the clinic has a custom field '{chosen}' already", "key")
    field = ClientField(clinic_id=clinic_id, key=chosen, label=cleaned_label, created_at=clock.now())
    session.add(field)
    await session.flush()
    return field


async def list_fields(session: AsyncSession, *, clinic_id: uuid.UUID) -> Sequence[ClientField]:
    """The clinic's custom fields, oldest first."""
    return await repository.fields_of(session, clinic_id=clinic_id)


async def field_by_key(session: AsyncSession, *, clinic_id: uuid.UUID, key: str) -> ClientField | None:
    wanted = key.strip().lower()
    for field in await repository.fields_of(session, clinic_id=clinic_id):
        if field.key.lower() == wanted:
            return field
    return None


async def values_by_client(
    session: AsyncSession, *, clinic_id: uuid.UUID, client_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[FieldValue]]:
    """For each client, every field of the clinic with the client's value (``None`` when unset)."""
    fields = await repository.fields_of(session, clinic_id=clinic_id)
    values: dict[tuple[uuid.UUID, uuid.UUID], str] = {
        (row.client_id, row.field_id): row.value
        for row in await repository.values_of(session, clinic_id=clinic_id, client_ids=client_ids)
    }
    return {
        client_id: [FieldValue(field, values.get((client_id, field.id))) for field in fields]
        for client_id in client_ids
    }


async def set_values(
    session: AsyncSession,
    *,
    client: Client,
    values: Mapping[str, str | None],
    clock: Clock = system_clock,
) -> None:
    """Sets the client's values of the fields named by key (a blank value clears); the others stay."""
    fields = {
        field.key.lower(): field for field in await repository.fields_of(session, clinic_id=client.clinic_id)
    }
    chosen: dict[uuid.UUID, str | None] = {}
    for key, value in values.items():
        field = fields.get(key.strip().lower())
        if field is None:
            raise _refuse(f"custom_fields: no custom field '{key[:MAX_KEY_LENGTH]}'", "custom_fields")
        chosen[field.id] = clean_value(value, field.key)
    now = clock.now()
    for field_id, value in chosen.items():
        await repository.set_value(
            session, clinic_id=client.clinic_id, client_id=client.id, field_id=field_id, value=value, at=now
        )
