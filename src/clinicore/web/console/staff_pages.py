"""Console pages for the clinic's staff: practitioners (``/console/staff``) and assistants
(``/console/assistants``).

Everything goes through ``core/staff/service.py``, the same functions as the IntakeQ practitioner and
assistant APIs, so the rules are the same (a unique external id, the main practitioner kept, no delete
while client data remains, transfers refused when they would overlap): the pages only read the forms and
show the core's refusals. A practitioner's working hours stay on its scheduling page
(``/console/practitioners/{id}``). Another clinic's practitioner or assistant is the 404 page; an id of
another clinic named in a form (a destination, an assistant's practitioners) is refused with the core's
message. The pages need the staff role's "change settings" permission.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.models import Practitioner
from clinicore.core.staff import roles
from clinicore.core.staff import service as staff_service
from clinicore.core.staff.schemas import AssistantDetails, AssistantView, PractitionerDetails
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.form_models import Email, EmptyForm, Name
from clinicore.web.console.forms import ConsoleForm, Refusal, refusal_context, submit_form
from clinicore.web.console.routes import render
from clinicore.web.console.session import require

router = APIRouter(include_in_schema=False)

StaffManager = Annotated[SignedInUser, require(Permission.manage_users)]


def _path_id(name: str, subject: str) -> Any:
    """Our id in the path; anything else is the 404 page (never a 422, never an external id)."""

    def read(request: Request) -> uuid.UUID:
        try:
            return uuid.UUID(str(request.path_params.get(name, "")))
        except ValueError:
            raise NotFound(f"{subject} not found") from None

    return Depends(read)


PractitionerId = Annotated[uuid.UUID, _path_id("practitioner_id", "practitioner")]
AssistantId = Annotated[uuid.UUID, _path_id("assistant_id", "assistant")]

NOTICES = {
    "created": "Added.",
    "saved": "Saved.",
    "disabled": "Disabled. Nothing is booked with a disabled practitioner; its data stays.",
    "assistant-disabled": "Disabled.",
    "enabled": "Enabled.",
    "deleted": "Deleted.",
    "clients-transferred": "Client ownership transferred.",
    "data-transferred": "Clients and appointments transferred.",
}
# An assistant's practitioners are ticked boxes named ``practitioner.<id>``.
PRACTITIONER_BOX = "practitioner."


class PractitionerForm(ConsoleForm):
    first_name: Name = ""
    last_name: Name = ""
    email: Email = ""
    role_name: Name = ""
    external_id: Name = ""

    def details(self) -> PractitionerDetails:
        return PractitionerDetails(
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            role_name=self.role_name or None,
            external_id=self.external_id,
        )


class TransferForm(ConsoleForm):
    destination: Name = ""


class AssistantForm(ConsoleForm):
    name: Name = ""
    email: Email = ""
    role_name: Name = ""
    external_id: Name = ""
    practitioners: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _ticked_practitioners(cls, submitted: Any) -> Any:
        if isinstance(submitted, Mapping):
            ticked = [
                name.removeprefix(PRACTITIONER_BOX)
                for name, value in submitted.items()
                if isinstance(name, str) and name.startswith(PRACTITIONER_BOX) and value
            ]
            return {**submitted, "practitioners": ticked}
        return submitted

    def details(self) -> AssistantDetails:
        return AssistantDetails(
            name=self.name,
            email=self.email,
            role_name=self.role_name or None,
            external_id=self.external_id,
            practitioners=self.practitioners,
        )


def _query(**values: str | int) -> str:
    return "?" + "&".join(f"{name}={value}" for name, value in values.items())


async def _role_names(session: AsyncSession, user: SignedInUser) -> list[str]:
    return [role.name for role in await roles.list_roles(session, partner_id=user.clinic.partner_id)]


# --- practitioners --------------------------------------------------------------------------------


async def _staff_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    *,
    notice: str = "",
    refusal: Refusal | None = None,
) -> Response:
    return render(
        request,
        "staff.html",
        **refusal_context(refusal),
        user=user,
        nav="staff",
        practitioners=await staff_service.list_practitioners(
            session, clinic_id=user.clinic.id, include_inactive=True
        ),
        role_names=await _role_names(session, user),
        notice=NOTICES.get(notice),
    )


@router.get("/console/staff")
async def staff_page(
    request: Request,
    user: StaffManager,
    session: SessionDep,
    notice: Annotated[str, Query(max_length=30)] = "",
) -> Response:
    return await _staff_page(request, user, session, notice=notice)


@router.post("/console/staff")
async def create_practitioner(
    request: Request, user: StaffManager, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: PractitionerForm) -> str:
        practitioner = await staff_service.create_practitioner(
            session,
            clinic=user.clinic,
            details=form.details(),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return f"/console/staff/{practitioner.id}" + _query(notice="created")

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=PractitionerForm,
        act=act,
        refused=lambda refusal: _staff_page(request, user, session, refusal=refusal),
    )


async def _practitioner(
    session: AsyncSession, user: SignedInUser, practitioner_id: uuid.UUID
) -> Practitioner:
    return await staff_service.practitioner_by_reference(
        session, clinic_id=user.clinic.id, reference=str(practitioner_id)
    )


async def _practitioner_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    practitioner_id: uuid.UUID,
    *,
    notice: str = "",
    refusal: Refusal | None = None,
) -> Response:
    practitioner = await _practitioner(session, user, practitioner_id)
    others = [
        other
        for other in await staff_service.list_practitioners(session, clinic_id=user.clinic.id)
        if other.id != practitioner.id
    ]
    return render(
        request,
        "staff_practitioner.html",
        **refusal_context(refusal),
        user=user,
        nav="staff",
        practitioner=practitioner,
        others=others,
        role_names=await _role_names(session, user),
        notice=NOTICES.get(notice),
    )


@router.get("/console/staff/{practitioner_id}")
async def practitioner_page(
    request: Request,
    practitioner_id: PractitionerId,
    user: StaffManager,
    session: SessionDep,
    notice: Annotated[str, Query(max_length=30)] = "",
) -> Response:
    return await _practitioner_page(request, user, session, practitioner_id, notice=notice)


async def _practitioner_action(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    practitioner_id: uuid.UUID,
    form: type[Any],
    act: Any,
) -> Response:
    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=form,
        act=act,
        refused=lambda refusal: _practitioner_page(request, user, session, practitioner_id, refusal=refusal),
    )


@router.post("/console/staff/{practitioner_id}")
async def update_practitioner(
    request: Request,
    practitioner_id: PractitionerId,
    user: StaffManager,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    async def act(form: PractitionerForm) -> str:
        await staff_service.update_practitioner(
            session,
            clinic=user.clinic,
            reference=str((await _practitioner(session, user, practitioner_id)).id),
            details=form.details(),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return f"/console/staff/{practitioner_id}" + _query(notice="saved")

    return await _practitioner_action(request, user, session, practitioner_id, PractitionerForm, act)


async def _set_active(
    request: Request,
    practitioner_id: uuid.UUID,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    *,
    active: bool,
) -> Response:
    async def act(_form: EmptyForm) -> str:
        await staff_service.set_practitioner_active(
            session,
            clinic_id=user.clinic.id,
            reference=str(practitioner_id),
            active=active,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return f"/console/staff/{practitioner_id}" + _query(notice="enabled" if active else "disabled")

    return await _practitioner_action(request, user, session, practitioner_id, EmptyForm, act)


@router.post("/console/staff/{practitioner_id}/disable")
async def disable_practitioner(
    request: Request,
    practitioner_id: PractitionerId,
    user: StaffManager,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    return await _set_active(request, practitioner_id, user, session, runtime, active=False)


@router.post("/console/staff/{practitioner_id}/enable")
async def enable_practitioner(
    request: Request,
    practitioner_id: PractitionerId,
    user: StaffManager,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    return await _set_active(request, practitioner_id, user, session, runtime, active=True)


@router.post("/console/staff/{practitioner_id}/delete")
async def delete_practitioner(
    request: Request,
    practitioner_id: PractitionerId,
    user: StaffManager,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    async def act(_form: EmptyForm) -> str:
        await staff_service.delete_practitioner(
            session,
            clinic_id=user.clinic.id,
            reference=str(practitioner_id),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return "/console/staff" + _query(notice="deleted")

    return await _practitioner_action(request, user, session, practitioner_id, EmptyForm, act)


@router.post("/console/staff/{practitioner_id}/transfer-clients")
async def transfer_client_ownership(
    request: Request,
    practitioner_id: PractitionerId,
    user: StaffManager,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    async def act(form: TransferForm) -> str:
        await _practitioner(session, user, practitioner_id)  # the page's own practitioner: 404 if not ours
        moved = await staff_service.transfer_client_ownership(
            session,
            clinic_id=user.clinic.id,
            source=str(practitioner_id),
            destination=await _destination(session, user, form.destination),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return f"/console/staff/{practitioner_id}" + _query(notice="clients-transferred", clients=moved)

    return await _practitioner_action(request, user, session, practitioner_id, TransferForm, act)


@router.post("/console/staff/{practitioner_id}/transfer-data")
async def transfer_client_data(
    request: Request,
    practitioner_id: PractitionerId,
    user: StaffManager,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    async def act(form: TransferForm) -> str:
        await _practitioner(session, user, practitioner_id)
        clients, appointments = await staff_service.transfer_client_data(
            session,
            clinic_id=user.clinic.id,
            source=str(practitioner_id),
            destination=await _destination(session, user, form.destination),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        query = _query(notice="data-transferred", clients=clients, appointments=appointments)
        return f"/console/staff/{practitioner_id}" + query

    return await _practitioner_action(request, user, session, practitioner_id, TransferForm, act)


async def _destination(session: AsyncSession, user: SignedInUser, reference: str) -> str:
    """The destination named in the form: an unknown one is the form's error, not the page's 404."""
    if not reference.strip():
        raise InvalidInput("destination: choose the practitioner to transfer to", field="destination")
    try:
        found = await staff_service.practitioner_by_reference(
            session, clinic_id=user.clinic.id, reference=reference
        )
    except NotFound:
        raise InvalidInput("destination: no such practitioner in this clinic", field="destination") from None
    return str(found.id)


# --- assistants -----------------------------------------------------------------------------------


async def _assistants_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    *,
    notice: str = "",
    refusal: Refusal | None = None,
) -> Response:
    practitioners = await staff_service.list_practitioners(
        session, clinic_id=user.clinic.id, include_inactive=True
    )
    return render(
        request,
        "assistants.html",
        **refusal_context(refusal),
        user=user,
        nav="assistants",
        assistants=await staff_service.list_assistants(
            session, clinic_id=user.clinic.id, include_inactive=True
        ),
        practitioners=practitioners,
        names={practitioner.id: practitioner.name for practitioner in practitioners},
        role_names=await _role_names(session, user),
        notice=NOTICES.get(notice),
    )


@router.get("/console/assistants")
async def assistants_page(
    request: Request,
    user: StaffManager,
    session: SessionDep,
    notice: Annotated[str, Query(max_length=30)] = "",
) -> Response:
    return await _assistants_page(request, user, session, notice=notice)


@router.post("/console/assistants")
async def create_assistant(
    request: Request, user: StaffManager, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: AssistantForm) -> str:
        view = await staff_service.create_assistant(
            session,
            clinic=user.clinic,
            details=form.details(),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return f"/console/assistants/{view.assistant.id}" + _query(notice="created")

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=AssistantForm,
        act=act,
        refused=lambda refusal: _assistants_page(request, user, session, refusal=refusal),
    )


async def _assistant(session: AsyncSession, user: SignedInUser, assistant_id: uuid.UUID) -> AssistantView:
    return await staff_service.get_assistant(session, clinic_id=user.clinic.id, assistant_id=assistant_id)


async def _assistant_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    assistant_id: uuid.UUID,
    *,
    notice: str = "",
    refusal: Refusal | None = None,
) -> Response:
    view = await _assistant(session, user, assistant_id)
    return render(
        request,
        "assistant.html",
        **refusal_context(refusal),
        user=user,
        nav="assistants",
        view=view,
        practitioners=await staff_service.list_practitioners(
            session, clinic_id=user.clinic.id, include_inactive=True
        ),
        role_names=await _role_names(session, user),
        notice=NOTICES.get(notice),
    )


@router.get("/console/assistants/{assistant_id}")
async def assistant_page(
    request: Request,
    assistant_id: AssistantId,
    user: StaffManager,
    session: SessionDep,
    notice: Annotated[str, Query(max_length=30)] = "",
) -> Response:
    return await _assistant_page(request, user, session, assistant_id, notice=notice)


async def _assistant_action(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    assistant_id: uuid.UUID,
    form: type[Any],
    act: Any,
) -> Response:
    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=form,
        act=act,
        refused=lambda refusal: _assistant_page(request, user, session, assistant_id, refusal=refusal),
    )


@router.post("/console/assistants/{assistant_id}")
async def update_assistant(
    request: Request, assistant_id: AssistantId, user: StaffManager, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: AssistantForm) -> str:
        await staff_service.update_assistant(
            session,
            clinic=user.clinic,
            reference=str((await _assistant(session, user, assistant_id)).assistant.id),
            details=form.details(),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return f"/console/assistants/{assistant_id}" + _query(notice="saved")

    return await _assistant_action(request, user, session, assistant_id, AssistantForm, act)


@router.post("/console/assistants/{assistant_id}/disable")
async def disable_assistant(
    request: Request, assistant_id: AssistantId, user: StaffManager, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(_form: EmptyForm) -> str:
        await staff_service.disable_assistant(
            session,
            clinic_id=user.clinic.id,
            reference=str((await _assistant(session, user, assistant_id)).assistant.id),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return f"/console/assistants/{assistant_id}" + _query(notice="assistant-disabled")

    return await _assistant_action(request, user, session, assistant_id, EmptyForm, act)


@router.post("/console/assistants/{assistant_id}/delete")
async def delete_assistant(
    request: Request, assistant_id: AssistantId, user: StaffManager, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(_form: EmptyForm) -> str:
        await staff_service.delete_assistant(
            session,
            clinic_id=user.clinic.id,
            reference=str((await _assistant(session, user, assistant_id)).assistant.id),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return "/console/assistants" + _query(notice="deleted")

    return await _assistant_action(request, user, session, assistant_id, EmptyForm, act)
