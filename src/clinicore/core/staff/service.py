"""Clinic staff: practitioners (the scheduling core's own, seen as staff: names, role, external id, the
clinic's main user) and assistants.

- Staff are addressed by our id or by the caller's external id (``reference``): our id first.
- An external id is unique among the clinic's practitioners (and among its assistants).
- The role is one of the clinic's partner's roles (``roles.role_for``), ``Administrator`` when not named.
- The main practitioner (made with the clinic) cannot be disabled or deleted.
- A practitioner is deleted only when nothing names it: no client it owns, no appointment (cancelled and
  deleted ones included: they are history), no assistant limited to it alone (limited to nobody, the
  assistant would act for everyone). ``transfer_client_data`` hands both over to another
  practitioner; ``transfer_client_ownership`` the clients only, leaving the history where it was.
- A disabled practitioner is never booked (the scheduling core books active practitioners only).
- An assistant limited to some practitioners acts for those only; limited to none, for all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import Assistant, Clinic, Practitioner
from clinicore.core.scheduling import booking, hours
from clinicore.core.staff import repository, roles
from clinicore.core.staff.schemas import AssistantDetails, AssistantView, PractitionerDetails
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.kit.inputs import NOT_GIVEN, Given

MAX_NAME = 100
MAX_FULL_NAME = 200
MAX_EXTERNAL_ID = 200


def _required(value: Given[str], field: str, subject: str) -> str:
    if value is NOT_GIVEN:
        raise InvalidInput(f"{field}: is required", field=field, subject=subject)
    return value


def _name(value: str, field: str, subject: str, *, longest: int = MAX_NAME) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInput(f"{field}: must not be empty", field=field, subject=subject)
    if len(cleaned) > longest:
        raise InvalidInput(f"{field}: at most {longest} characters", field=field, subject=subject)
    return cleaned


def _email(value: str, subject: str) -> str:
    if not value.strip():
        raise InvalidInput("email: is required", field="email", subject=subject)
    return tenancy_service.normalise_email(value)


def _external_id(value: str | None, subject: str) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > MAX_EXTERNAL_ID:
        raise InvalidInput(
            f"external_id: at most {MAX_EXTERNAL_ID} characters", field="external_id", subject=subject
        )
    return cleaned or None


def _our_id(reference: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(reference)
    except ValueError:
        return None


# --- practitioners --------------------------------------------------------------------------------


async def practitioner_by_reference(
    session: AsyncSession, *, clinic_id: uuid.UUID, reference: str
) -> Practitioner:
    """The clinic's practitioner whose id or external id is ``reference`` (another clinic's: missing)."""
    reference = reference.strip()
    our_id = _our_id(reference)
    found = (
        await repository.get_practitioner(session, clinic_id=clinic_id, practitioner_id=our_id)
        if our_id is not None
        else None
    )
    if found is None and reference and len(reference) <= MAX_EXTERNAL_ID and "\x00" not in reference:
        found = await repository.practitioner_by_external_id(
            session, clinic_id=clinic_id, external_id=reference
        )
    if found is None:
        raise NotFound("practitioner not found")
    return found


def _refuse_a_taken_external_id(kind: str, holder: object | None, itself: object | None) -> None:
    """An external id names one practitioner (or assistant) of a clinic: another holder is refused."""
    if holder is not None and holder is not itself:
        raise InvalidInput(
            f"external_id: another {kind} of this clinic has this external_id",
            field="external_id",
            subject=kind,
            rule="staff.external_id_taken",
        )


async def _require_unique_practitioner(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner: Practitioner | None, external_id: str | None
) -> None:
    if external_id is not None:
        holder = await repository.practitioner_by_external_id(
            session, clinic_id=clinic_id, external_id=external_id
        )
        _refuse_a_taken_external_id("practitioner", holder, practitioner)


async def create_practitioner(
    session: AsyncSession,
    *,
    clinic: Clinic,
    details: PractitionerDetails,
    is_main: bool = False,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> Practitioner:
    subject = "practitioner"
    first_name = _name(_required(details.first_name, "first_name", subject), "first_name", subject)
    last_name = _name(_required(details.last_name, "last_name", subject), "last_name", subject)
    email = _email(_required(details.email, "email", subject), subject)
    role = await roles.role_for(
        session, clinic=clinic, name=None if details.role_name is NOT_GIVEN else details.role_name
    )
    external_id = _external_id(None if details.external_id is NOT_GIVEN else details.external_id, subject)
    await _require_unique_practitioner(
        session, clinic_id=clinic.id, practitioner=None, external_id=external_id
    )
    practitioner = await hours.create_practitioner(
        session, clinic_id=clinic.id, name=f"{first_name} {last_name}", email=email, clock=clock
    )
    practitioner.first_name, practitioner.last_name = first_name, last_name
    practitioner.role_name, practitioner.external_id, practitioner.is_main = role.name, external_id, is_main
    await session.flush()
    await audit_service.record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="practitioner.created",
        target_type="practitioner",
        target_id=practitioner.id,
        clock=clock,
    )
    return practitioner


async def update_practitioner(
    session: AsyncSession,
    *,
    clinic: Clinic,
    reference: str | None,
    details: PractitionerDetails,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> Practitioner:
    """Change the fields given. The practitioner is ``reference`` (id or external id) when given, else
    the one whose external id ``details`` names."""
    subject = "practitioner"
    if reference:
        practitioner = await practitioner_by_reference(session, clinic_id=clinic.id, reference=reference)
    elif details.external_id is not NOT_GIVEN and (external := _external_id(details.external_id, subject)):
        practitioner = await practitioner_by_reference(session, clinic_id=clinic.id, reference=external)
    else:
        raise InvalidInput("id: give the practitioner's id or its external_id", field="id", subject=subject)
    if details.first_name is not NOT_GIVEN:
        practitioner.first_name = _name(details.first_name, "first_name", subject)
    if details.last_name is not NOT_GIVEN:
        practitioner.last_name = _name(details.last_name, "last_name", subject)
    if details.email is not NOT_GIVEN:
        practitioner.email = _email(details.email, subject)
    if details.role_name is not NOT_GIVEN:
        practitioner.role_name = (await roles.role_for(session, clinic=clinic, name=details.role_name)).name
    if details.external_id is not NOT_GIVEN:
        external_id = _external_id(details.external_id, subject)
        await _require_unique_practitioner(
            session, clinic_id=clinic.id, practitioner=practitioner, external_id=external_id
        )
        practitioner.external_id = external_id
    practitioner.name = " ".join(
        part for part in (practitioner.first_name, practitioner.last_name) if part
    ) or (practitioner.name)
    practitioner.updated_at = clock.now()
    await session.flush()
    await audit_service.record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="practitioner.updated",
        target_type="practitioner",
        target_id=practitioner.id,
        clock=clock,
    )
    return practitioner


async def list_practitioners(
    session: AsyncSession, *, clinic_id: uuid.UUID, include_inactive: bool = False
) -> Sequence[Practitioner]:
    return await repository.list_practitioners(
        session, clinic_id=clinic_id, include_inactive=include_inactive
    )


async def set_practitioner_active(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    reference: str,
    active: bool,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> Practitioner:
    """Enable or disable; a disabled practitioner keeps its data and is never booked."""
    practitioner = await practitioner_by_reference(session, clinic_id=clinic_id, reference=reference)
    if not active and practitioner.is_main:
        raise InvalidInput(
            "the clinic's main practitioner cannot be disabled", rule="staff.main_practitioner"
        )
    if practitioner.is_active != active:
        practitioner.is_active = active
        practitioner.updated_at = clock.now()
        await audit_service.record(
            session,
            clinic_id=clinic_id,
            actor=actor,
            action="practitioner.enabled" if active else "practitioner.disabled",
            target_type="practitioner",
            target_id=practitioner.id,
            clock=clock,
        )
    return practitioner


async def delete_practitioner(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    reference: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> None:
    practitioner = await practitioner_by_reference(session, clinic_id=clinic_id, reference=reference)
    if practitioner.is_main:
        raise InvalidInput("the clinic's main practitioner cannot be deleted", rule="staff.main_practitioner")
    clients = await repository.count_owned_clients(
        session, clinic_id=clinic_id, practitioner_id=practitioner.id
    )
    appointments = await repository.count_appointments(
        session, clinic_id=clinic_id, practitioner_id=practitioner.id
    )
    if clients or appointments:
        raise InvalidInput(
            f"the practitioner has client data ({clients} client(s), {appointments} appointment(s)):"
            " transfer it to another practitioner first",
            rule="staff.practitioner_has_client_data",
            params={"clients": clients, "appointments": appointments},
        )
    # An assistant limited to this practitioner alone would be limited to nobody, which reads as "all".
    if await repository.count_assistants_limited_to_only(session, practitioner_id=practitioner.id):
        raise InvalidInput(
            "an assistant acts for this practitioner only: change the assistant's practitioners first",
            rule="staff.last_practitioner_of_assistant",
        )
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="practitioner.deleted",
        target_type="practitioner",
        target_id=practitioner.id,
        clock=clock,
    )
    await repository.delete_practitioner(session, practitioner)


async def _transfer_pair(
    session: AsyncSession, *, clinic_id: uuid.UUID, source: str, destination: str
) -> tuple[Practitioner, Practitioner]:
    from_practitioner = await practitioner_by_reference(session, clinic_id=clinic_id, reference=source)
    to_practitioner = await practitioner_by_reference(session, clinic_id=clinic_id, reference=destination)
    if from_practitioner.id == to_practitioner.id:
        raise InvalidInput(
            "the source and the destination are the same practitioner", rule="staff.same_practitioner"
        )
    if not to_practitioner.is_active:
        raise InvalidInput("the destination practitioner is disabled", rule="staff.destination_disabled")
    return from_practitioner, to_practitioner


async def transfer_client_ownership(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    source: str,
    destination: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> int:
    """Give the source's clients to the destination; appointments stay with whoever saw them. Returns
    the number of clients moved."""
    from_practitioner, to_practitioner = await _transfer_pair(
        session, clinic_id=clinic_id, source=source, destination=destination
    )
    moved = await repository.move_client_ownership(
        session, clinic_id=clinic_id, from_id=from_practitioner.id, to_id=to_practitioner.id
    )
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="practitioner.clients_transferred",
        target_type="practitioner",
        target_id=from_practitioner.id,
        details={"to": str(to_practitioner.id), "clients": moved},
        clock=clock,
    )
    return moved


async def transfer_client_data(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    source: str,
    destination: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> tuple[int, int]:
    """Give the source's clients and its appointments (its whole history) to the destination, so that
    the source can be deleted. Returns (clients, appointments) moved."""
    from_practitioner, to_practitioner = await _transfer_pair(
        session, clinic_id=clinic_id, source=source, destination=destination
    )
    appointments = await booking.reassign_appointments(
        session,
        clinic_id=clinic_id,
        from_practitioner_id=from_practitioner.id,
        to_practitioner_id=to_practitioner.id,
        clock=clock,
    )
    clients = await repository.move_client_ownership(
        session, clinic_id=clinic_id, from_id=from_practitioner.id, to_id=to_practitioner.id
    )
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="practitioner.data_transferred",
        target_type="practitioner",
        target_id=from_practitioner.id,
        details={"to": str(to_practitioner.id), "clients": clients, "appointments": appointments},
        clock=clock,
    )
    return clients, appointments


# --- assistants -----------------------------------------------------------------------------------


async def _assistant_by_reference(
    session: AsyncSession, *, clinic_id: uuid.UUID, reference: str
) -> Assistant:
    reference = reference.strip()
    our_id = _our_id(reference)
    found = (
        await repository.get_assistant(session, clinic_id=clinic_id, assistant_id=our_id)
        if our_id is not None
        else None
    )
    if found is None and reference and len(reference) <= MAX_EXTERNAL_ID and "\x00" not in reference:
        found = await repository.assistant_by_external_id(session, clinic_id=clinic_id, external_id=reference)
    if found is None:
        raise NotFound("assistant not found")
    return found


async def _practitioners_named(
    session: AsyncSession, *, clinic_id: uuid.UUID, references: Sequence[str]
) -> list[uuid.UUID]:
    """The practitioners an assistant is limited to, by id or external id; an unknown one is bad input."""
    found: list[uuid.UUID] = []
    for reference in references:
        try:
            practitioner = await practitioner_by_reference(session, clinic_id=clinic_id, reference=reference)
        except NotFound:
            raise InvalidInput(
                f"practitioners: no practitioner {reference[:50]!r} in this clinic",
                field="practitioners",
                subject="assistant",
            ) from None
        if practitioner.id not in found:
            found.append(practitioner.id)
    return found


async def _view(session: AsyncSession, assistant: Assistant) -> AssistantView:
    limits = await repository.assistant_practitioner_ids(session, [assistant.id])
    return AssistantView(assistant=assistant, practitioner_ids=limits[assistant.id])


async def _require_unique_assistant(
    session: AsyncSession, *, clinic_id: uuid.UUID, assistant: Assistant | None, external_id: str | None
) -> None:
    if external_id is not None:
        holder = await repository.assistant_by_external_id(
            session, clinic_id=clinic_id, external_id=external_id
        )
        _refuse_a_taken_external_id("assistant", holder, assistant)


async def create_assistant(
    session: AsyncSession,
    *,
    clinic: Clinic,
    details: AssistantDetails,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> AssistantView:
    subject = "assistant"
    name = _name(_required(details.name, "name", subject), "name", subject, longest=MAX_FULL_NAME)
    email = _email(_required(details.email, "email", subject), subject)
    role = await roles.role_for(
        session, clinic=clinic, name=None if details.role_name is NOT_GIVEN else details.role_name
    )
    external_id = _external_id(None if details.external_id is NOT_GIVEN else details.external_id, subject)
    await _require_unique_assistant(session, clinic_id=clinic.id, assistant=None, external_id=external_id)
    limits = await _practitioners_named(
        session,
        clinic_id=clinic.id,
        references=() if details.practitioners is NOT_GIVEN else details.practitioners,
    )
    now = clock.now()
    assistant = Assistant(
        clinic_id=clinic.id,
        name=name,
        email=email,
        role_name=role.name,
        external_id=external_id,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(assistant)
    await session.flush()
    await repository.replace_assistant_practitioners(
        session, assistant_id=assistant.id, practitioner_ids=limits
    )
    await audit_service.record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="assistant.created",
        target_type="assistant",
        target_id=assistant.id,
        clock=clock,
    )
    return AssistantView(assistant=assistant, practitioner_ids=limits)


async def update_assistant(
    session: AsyncSession,
    *,
    clinic: Clinic,
    reference: str | None,
    details: AssistantDetails,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> AssistantView:
    """Change the fields given; ``practitioners`` given replaces the limits (empty: all practitioners)."""
    subject = "assistant"
    if reference:
        assistant = await _assistant_by_reference(session, clinic_id=clinic.id, reference=reference)
    elif details.external_id is not NOT_GIVEN and (external := _external_id(details.external_id, subject)):
        assistant = await _assistant_by_reference(session, clinic_id=clinic.id, reference=external)
    else:
        raise InvalidInput("id: give the assistant's id or its external_id", field="id", subject=subject)
    if details.name is not NOT_GIVEN:
        assistant.name = _name(details.name, "name", subject, longest=MAX_FULL_NAME)
    if details.email is not NOT_GIVEN:
        assistant.email = _email(details.email, subject)
    if details.role_name is not NOT_GIVEN:
        assistant.role_name = (await roles.role_for(session, clinic=clinic, name=details.role_name)).name
    if details.external_id is not NOT_GIVEN:
        external_id = _external_id(details.external_id, subject)
        await _require_unique_assistant(
            session, clinic_id=clinic.id, assistant=assistant, external_id=external_id
        )
        assistant.external_id = external_id
    if details.practitioners is not NOT_GIVEN:
        limits = await _practitioners_named(session, clinic_id=clinic.id, references=details.practitioners)
        await repository.replace_assistant_practitioners(
            session, assistant_id=assistant.id, practitioner_ids=limits
        )
    assistant.updated_at = clock.now()
    await session.flush()
    await audit_service.record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="assistant.updated",
        target_type="assistant",
        target_id=assistant.id,
        clock=clock,
    )
    return await _view(session, assistant)


async def get_assistant(
    session: AsyncSession, *, clinic_id: uuid.UUID, assistant_id: uuid.UUID
) -> AssistantView:
    """One of the clinic's assistants by our id, active or disabled, with the practitioners it is limited
    to; an unknown id or another clinic's assistant is ``NotFound``."""
    found = await repository.get_assistant(session, clinic_id=clinic_id, assistant_id=assistant_id)
    if found is None:
        raise NotFound("assistant not found")
    return await _view(session, found)


async def list_assistants(
    session: AsyncSession, *, clinic_id: uuid.UUID, include_inactive: bool = False
) -> list[AssistantView]:
    assistants = await repository.list_assistants(
        session, clinic_id=clinic_id, include_inactive=include_inactive
    )
    limits = await repository.assistant_practitioner_ids(session, [row.id for row in assistants])
    return [AssistantView(assistant=row, practitioner_ids=limits[row.id]) for row in assistants]


async def disable_assistant(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    reference: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> AssistantView:
    assistant = await _assistant_by_reference(session, clinic_id=clinic_id, reference=reference)
    if assistant.is_active:
        assistant.is_active = False
        assistant.updated_at = clock.now()
        await audit_service.record(
            session,
            clinic_id=clinic_id,
            actor=actor,
            action="assistant.disabled",
            target_type="assistant",
            target_id=assistant.id,
            clock=clock,
        )
    return await _view(session, assistant)


async def delete_assistant(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    reference: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> None:
    assistant = await _assistant_by_reference(session, clinic_id=clinic_id, reference=reference)
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="assistant.deleted",
        target_type="assistant",
        target_id=assistant.id,
        clock=clock,
    )
    await repository.delete_assistant(session, assistant)


async def practitioner_scope(
    session: AsyncSession, *, clinic_id: uuid.UUID, assistant_id: uuid.UUID | None
) -> frozenset[uuid.UUID] | None:
    """Whose records a console user may see: None (everyone's) for anyone but an assistant limited to
    some practitioners (IntakeQ ``PractitionerIds``), whose ids it is then. A disabled or unknown
    assistant sees nobody's."""
    if assistant_id is None:
        return None
    assistant = await repository.get_assistant(session, clinic_id=clinic_id, assistant_id=assistant_id)
    if assistant is None or not assistant.is_active:
        return frozenset()
    limits = await repository.assistant_practitioner_ids(session, [assistant.id])
    chosen = limits.get(assistant.id, [])
    return frozenset(chosen) if chosen else None


async def practitioners_for_assistant(
    session: AsyncSession, *, clinic_id: uuid.UUID, reference: str
) -> Sequence[Practitioner]:
    """The practitioners an assistant acts for: its limits, or every practitioner when it has none."""
    view = await _view(
        session, await _assistant_by_reference(session, clinic_id=clinic_id, reference=reference)
    )
    if not view.practitioner_ids:
        return await repository.list_practitioners(session, clinic_id=clinic_id, include_inactive=False)
    return await repository.practitioners_in(session, clinic_id=clinic_id, ids=view.practitioner_ids)
