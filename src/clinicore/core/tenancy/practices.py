"""A partner's practices: the clinics a partner makes, changes, lists and deletes (IntakeQ partner API).

- Creating a practice provisions the clinic, its main practitioner (the main user: ``Administrator``),
  its practice API key (retrievable: stored encrypted) and its booking settings (the defaults).
- ``external_practice_id`` is unique among the partner's practices, deleted ones included (a deleted
  practice keeps its records, and so its external id).
- A practice is addressed by its practice id (any case) or by the partner's external id: ours first.
- Deleting is soft: the clinic is hidden from every partner lookup, deactivated, and every key of it is
  revoked at once; its records are kept, with no automatic purge (docs/compat/intakeq.md).
- ``forms_enabled`` and ``booking_enabled`` switch those parts of the clinic; new practices have forms
  on and booking off unless told otherwise.
- Another partner's practice reads as missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import ApiKeyKind, Clinic, Partner, Practitioner
from clinicore.core.scheduling import settings as scheduling_settings
from clinicore.core.staff import repository as staff_repository
from clinicore.core.staff import service as staff_service
from clinicore.core.staff.schemas import PractitionerDetails
from clinicore.core.tenancy import repository
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.crypto import SecretBox
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.kit.inputs import NOT_GIVEN, Given

DEFAULT_TIME_ZONE = "America/New_York"
PAGE_SIZE = 100
MAX_PAGE = 100_000
MAX_EXTERNAL_ID = 200
ADDRESS_LIMITS = {"address_street": 200, "address_city": 100, "address_zip": 10}


@dataclass(frozen=True, slots=True, kw_only=True)
class PracticeDetails:
    """A practice as its partner describes it; the main user's names and email are its main
    practitioner's. On update only the fields given change."""

    name: Given[str] = NOT_GIVEN
    first_name: Given[str] = NOT_GIVEN
    last_name: Given[str] = NOT_GIVEN
    email: Given[str] = NOT_GIVEN
    external_practice_id: Given[str | None] = NOT_GIVEN
    address_street: Given[str | None] = NOT_GIVEN
    address_city: Given[str | None] = NOT_GIVEN
    address_state: Given[str | None] = NOT_GIVEN
    address_zip: Given[str | None] = NOT_GIVEN
    forms_enabled: Given[bool] = NOT_GIVEN
    booking_enabled: Given[bool] = NOT_GIVEN


@dataclass(frozen=True, slots=True)
class Practice:
    clinic: Clinic
    main: Practitioner | None  # None only for a clinic that was not made by the partner API


def _required(value: Given[str], field: str) -> str:
    if value is NOT_GIVEN or not value.strip():
        raise InvalidInput(f"{field}: is required", field=field)
    return value


def _practice_name(value: str) -> str:
    name = _required(value, "name").strip()
    if len(name) > 200:
        raise InvalidInput("name: at most 200 characters", field="name")
    return name


def _external_practice_id(value: str | None) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > MAX_EXTERNAL_ID:
        raise InvalidInput(
            f"external_practice_id: at most {MAX_EXTERNAL_ID} characters", field="external_practice_id"
        )
    return cleaned or None


def _address_value(field: str, value: str | None) -> str | None:
    cleaned = (value or "").strip() or None
    if cleaned is None:
        return None
    if field == "address_state":
        if len(cleaned) != 2 or not cleaned.isascii() or not cleaned.isalpha():
            raise InvalidInput("address_state: must be a two-letter state code", field="address_state")
        return cleaned.upper()
    if len(cleaned) > ADDRESS_LIMITS[field]:
        raise InvalidInput(f"{field}: at most {ADDRESS_LIMITS[field]} characters", field=field)
    return cleaned


def _apply_address_and_switches(clinic: Clinic, details: PracticeDetails) -> None:
    for field in ("address_street", "address_city", "address_state", "address_zip"):
        value = getattr(details, field)
        if value is not NOT_GIVEN:
            setattr(clinic, field, _address_value(field, value))
    if details.forms_enabled is not NOT_GIVEN:
        clinic.forms_enabled = details.forms_enabled
    if details.booking_enabled is not NOT_GIVEN:
        clinic.booking_enabled = details.booking_enabled


async def _require_external_id_free(
    session: AsyncSession, *, partner_id: uuid.UUID, external_practice_id: str | None, clinic: Clinic | None
) -> None:
    if external_practice_id is None:
        return
    holder = await repository.partner_clinic_with_external_id(
        session, partner_id=partner_id, external_practice_id=external_practice_id
    )
    if holder is not None and holder is not clinic:
        raise InvalidInput(
            "external_practice_id: another practice of this partner has this external_practice_id",
            field="external_practice_id",
            rule="practices.external_id_taken",
        )


async def create_practice(
    session: AsyncSession,
    *,
    box: SecretBox,
    partner: Partner,
    details: PracticeDetails,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> Practice:
    name = _practice_name(_required(details.name, "name"))
    main_details = PractitionerDetails(
        first_name=_required(details.first_name, "first_name"),
        last_name=_required(details.last_name, "last_name"),
        email=_required(details.email, "email"),
    )
    email = tenancy_service.normalise_email(_required(details.email, "email"))
    external_practice_id = _external_practice_id(
        None if details.external_practice_id is NOT_GIVEN else details.external_practice_id
    )
    await _require_external_id_free(
        session, partner_id=partner.id, external_practice_id=external_practice_id, clinic=None
    )
    clinic = await tenancy_service.create_clinic(
        session,
        name=name,
        time_zone=DEFAULT_TIME_ZONE,
        partner_id=partner.id,
        external_practice_id=external_practice_id,
        email=email,
        actor=actor,
        clock=clock,
    )
    clinic.forms_enabled, clinic.booking_enabled = True, False
    _apply_address_and_switches(clinic, details)
    main = await staff_service.create_practitioner(
        session, clinic=clinic, details=main_details, is_main=True, actor=actor, clock=clock
    )
    await tenancy_service.create_key(
        session,
        box=box,
        kind=ApiKeyKind.intakeq_practice,
        name="Practice API key",
        clinic_id=clinic.id,
        actor=actor,
        clock=clock,
    )
    await scheduling_settings.get_booking_settings(session, clinic_id=clinic.id, clock=clock)
    await session.flush()
    return Practice(clinic=clinic, main=main)


async def practice_of_partner(session: AsyncSession, *, partner_id: uuid.UUID, reference: str) -> Clinic:
    """The partner's practice whose id or external id is ``reference``; deleted or another partner's
    practices read as missing."""
    reference = reference.strip()
    clinic = (
        await repository.partner_practice_by_reference(session, partner_id=partner_id, reference=reference)
        if reference and len(reference) <= MAX_EXTERNAL_ID and "\x00" not in reference
        else None
    )
    if clinic is None:
        raise NotFound("practice not found")
    return clinic


async def update_practice(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    reference: str | None,
    details: PracticeDetails,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> Practice:
    """Change the fields given. The practice is ``reference`` (its id or external id) when given, else
    the one whose external id ``details`` names; with both, the external id given becomes the practice's."""
    if reference:
        clinic = await practice_of_partner(session, partner_id=partner_id, reference=reference)
    elif details.external_practice_id is not NOT_GIVEN and (
        external := _external_practice_id(details.external_practice_id)
    ):
        clinic = await practice_of_partner(session, partner_id=partner_id, reference=external)
    else:
        raise InvalidInput("id: give the practice's id or its external_practice_id", field="id")
    if details.name is not NOT_GIVEN:
        clinic.name = _practice_name(details.name)
    if details.external_practice_id is not NOT_GIVEN:
        external_practice_id = _external_practice_id(details.external_practice_id)
        await _require_external_id_free(
            session, partner_id=partner_id, external_practice_id=external_practice_id, clinic=clinic
        )
        clinic.external_practice_id = external_practice_id
    _apply_address_and_switches(clinic, details)
    main = await staff_repository.main_practitioner(session, clinic.id)
    main_details = PractitionerDetails(
        first_name=details.first_name, last_name=details.last_name, email=details.email
    )
    if main is not None and main_details != PractitionerDetails():
        main = await staff_service.update_practitioner(
            session, clinic=clinic, reference=str(main.id), details=main_details, actor=actor, clock=clock
        )
        clinic.email = main.email
    elif main is None and NOT_GIVEN not in (details.first_name, details.last_name, details.email):
        main = await staff_service.create_practitioner(
            session, clinic=clinic, details=main_details, is_main=True, actor=actor, clock=clock
        )
        clinic.email = main.email
    clinic.updated_at = clock.now()
    await session.flush()
    await audit_service.record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="clinic.updated",
        target_type="clinic",
        target_id=clinic.id,
        clock=clock,
    )
    return Practice(clinic=clinic, main=main)


async def delete_practice(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    reference: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> None:
    clinic = await practice_of_partner(session, partner_id=partner_id, reference=reference)
    now = clock.now()
    clinic.deleted_at, clinic.is_active, clinic.updated_at = now, False, now
    await tenancy_service.revoke_clinic_keys(session, clinic_id=clinic.id, actor=actor, clock=clock)
    await audit_service.record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="clinic.deleted",
        target_type="clinic",
        target_id=clinic.id,
        clock=clock,
    )


async def find_practices(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    practice_id: str | None = None,
    email: str | None = None,
    external_practice_id: str | None = None,
    page: int = 1,
) -> Sequence[Practice]:
    """The partner's practices, oldest first, ``PAGE_SIZE`` a page (the first is 1); the filters given
    all apply. A filter no practice can match (a malformed email) finds none."""
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput(f"page: must be between 1 and {MAX_PAGE}", field="page")
    if email is not None:
        try:
            email = tenancy_service.normalise_email(email)
        except InvalidInput:
            return []
    clinics = await repository.find_partner_practices(
        session,
        partner_id=partner_id,
        practice_id=practice_id.strip().upper() if practice_id is not None else None,
        email=email,
        external_practice_id=external_practice_id.strip() if external_practice_id is not None else None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    mains = await staff_repository.main_practitioners(session, [clinic.id for clinic in clinics])
    return [Practice(clinic=clinic, main=mains.get(clinic.id)) for clinic in clinics]


async def get_practice(session: AsyncSession, *, partner_id: uuid.UUID, reference: str) -> Practice:
    clinic = await practice_of_partner(session, partner_id=partner_id, reference=reference)
    return Practice(clinic=clinic, main=await staff_repository.main_practitioner(session, clinic.id))


async def practice_key(
    session: AsyncSession,
    *,
    box: SecretBox,
    partner_id: uuid.UUID,
    reference: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> str:
    """The practice's API key (retrievable by design); a practice that has none yet gets one."""
    clinic = await practice_of_partner(session, partner_id=partner_id, reference=reference)
    secret = await tenancy_service.reveal_key(
        session, box=box, clinic_id=clinic.id, kind=ApiKeyKind.intakeq_practice
    )
    if secret is not None:
        return secret
    created = await tenancy_service.create_key(
        session,
        box=box,
        kind=ApiKeyKind.intakeq_practice,
        name="Practice API key",
        clinic_id=clinic.id,
        actor=actor,
        clock=clock,
    )
    return created.secret
