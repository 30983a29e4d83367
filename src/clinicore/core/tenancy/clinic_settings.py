"""What a clinic may change about itself: its name, contact email and phone, time zone and address.

- The name is required (at most 200 characters), as for a practice its partner makes.
- The email is the clinic's contact address (IntakeQ's practice ``Email``); it is not the main
  practitioner's sign-in address, which is changed with the practitioner. Blank clears it.
- The phone is stored in E.164 (``kit/contact``); blank clears it.
- The time zone is an IANA name; the clinic's local rules (opening hours, "today") follow it at once.
- The address is checked as the partner API checks it (the same function of ``practices``: a two-letter
  state, bounded lengths); blank clears a part.
- ``forms_enabled`` and ``booking_enabled`` are its partner's switches: not changed here.
- Only the fields given change; each change is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import Clinic
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.practices import _address_value as address_value  # one address rule
from clinicore.kit import contact
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput
from clinicore.kit.inputs import NOT_GIVEN, Given

MAX_NAME = 200
MAX_TIME_ZONE = 64
ADDRESS_FIELDS = ("address_street", "address_city", "address_state", "address_zip")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClinicSettingsChanges:
    name: Given[str] = NOT_GIVEN
    email: Given[str | None] = NOT_GIVEN
    phone: Given[str | None] = NOT_GIVEN
    time_zone: Given[str] = NOT_GIVEN
    address_street: Given[str | None] = NOT_GIVEN
    address_city: Given[str | None] = NOT_GIVEN
    address_state: Given[str | None] = NOT_GIVEN
    address_zip: Given[str | None] = NOT_GIVEN


def _refuse_unstorable(field: str, value: str | None) -> None:
    if value is not None and "\x00" in value:
        raise InvalidInput(f"{field}: must not contain NUL characters", field=field)


def _name(value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInput("name: is required", field="name")
    if len(cleaned) > MAX_NAME:
        raise InvalidInput(f"name: at most {MAX_NAME} characters", field="name")
    return cleaned


def _time_zone(value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInput("time_zone: is required", field="time_zone")
    if len(cleaned) > MAX_TIME_ZONE:
        raise InvalidInput(f"time_zone: {cleaned[:20]!r}... is not an IANA time zone", field="time_zone")
    return tenancy_service.validate_time_zone(cleaned)


async def update_clinic_settings(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    changes: ClinicSettingsChanges,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> Clinic:
    """Change the clinic's own settings given in ``changes``; nothing changes when one is refused."""
    clinic = await tenancy_service.get_clinic(session, clinic_id)
    for field in ("name", "email", "phone", "time_zone", *ADDRESS_FIELDS):
        value = getattr(changes, field)
        if value is not NOT_GIVEN:
            _refuse_unstorable(field, value)
    values: dict[str, object] = {}
    if changes.name is not NOT_GIVEN:
        values["name"] = _name(changes.name)
    if changes.email is not NOT_GIVEN:
        email = (changes.email or "").strip()
        values["email"] = tenancy_service.normalise_email(email) if email else None
    if changes.phone is not NOT_GIVEN:
        phone = (changes.phone or "").strip()
        values["phone"] = contact.normalise_phone(phone) if phone else None
    if changes.time_zone is not NOT_GIVEN:
        values["time_zone"] = _time_zone(changes.time_zone)
    for field in ADDRESS_FIELDS:
        value = getattr(changes, field)
        if value is not NOT_GIVEN:
            values[field] = address_value(field, value)
    changed = sorted(field for field, value in values.items() if getattr(clinic, field) != value)
    for field in changed:
        setattr(clinic, field, values[field])
    if changed:
        clinic.updated_at = clock.now()
        await session.flush()
        await audit_service.record(
            session,
            clinic_id=clinic.id,
            actor=actor,
            action="clinic.settings_updated",
            target_type="clinic",
            target_id=clinic.id,
            details={"fields": changed},
            clock=clock,
        )
    return clinic
