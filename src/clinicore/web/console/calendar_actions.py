"""Staff actions on one appointment of the console calendar: confirm, decline, mark missed, delete.

Each is one call to the scheduling core: a status move through ``booking.update_appointment`` (the status
table of ``transitions`` decides which moves are allowed; confirming re-checks every booking rule), or
``booking.delete_appointment``. Each emits its core event (``appointment.updated``, or
``appointment.deleted``), which every webhook format renders for its vendor. A refused action shows the
calendar again with the reason; an appointment of another clinic is a 404. Like the calendar, the actions
need the ``book`` permission.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import AppointmentStatus
from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling.schemas import AppointmentChanges
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.clinic_time import ClinicTime
from clinicore.web.console.form_models import EmptyForm
from clinicore.web.console.forms import submit_form
from clinicore.web.console.scheduling import _calendar_page, calendar_path
from clinicore.web.console.session import CurrentUser, require

router = APIRouter(include_in_schema=False, dependencies=[require(Permission.book)])


async def _move(
    request: Request,
    appointment_id: uuid.UUID,
    status: AppointmentStatus,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
) -> Response:
    async def act(_form: EmptyForm) -> str:
        appointment = await booking_service.update_appointment(
            session,
            clinic_id=user.clinic.id,
            appointment_id=appointment_id,
            changes=AppointmentChanges(status=status),
            clock=runtime.clock,
        )
        return calendar_path(ClinicTime(user.clinic.time_zone), appointment)

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=EmptyForm,
        act=act,
        refused=lambda refusal: _calendar_page(request, user, session, runtime, refusal=refusal),
    )


@router.post("/console/calendar/appointments/{appointment_id}/confirm")
async def confirm_appointment(
    request: Request, appointment_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _move(request, appointment_id, AppointmentStatus.confirmed, user, session, runtime)


@router.post("/console/calendar/appointments/{appointment_id}/decline")
async def decline_appointment(
    request: Request, appointment_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _move(request, appointment_id, AppointmentStatus.declined, user, session, runtime)


@router.post("/console/calendar/appointments/{appointment_id}/missed")
async def mark_missed(
    request: Request, appointment_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _move(request, appointment_id, AppointmentStatus.missed, user, session, runtime)


@router.post("/console/calendar/appointments/{appointment_id}/delete")
async def delete_appointment(
    request: Request, appointment_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(_form: EmptyForm) -> str:
        appointment = await booking_service.delete_appointment(
            session, clinic_id=user.clinic.id, appointment_id=appointment_id, clock=runtime.clock
        )
        return calendar_path(ClinicTime(user.clinic.time_zone), appointment)

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=EmptyForm,
        act=act,
        refused=lambda refusal: _calendar_page(request, user, session, runtime, refusal=refusal),
    )
