"""Console pages for prescriptions to retail pharmacies, which are not on the pharmacy desk: the clinic's
list (to transmit, transmitted lately), one prescription, its printable PDF and "mark transmitted" (the
pharmacy's confirmation, event 2, made by the staff member: core/telehealth/pharmacy_desk.py).

Times are shown in the clinic's time zone."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.telehealth import pharmacy_desk, prescription_document
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.clinic_time import ClinicTime
from clinicore.web.console.form_models import EmptyForm
from clinicore.web.console.forms import Refusal, refusal_context, submit_form
from clinicore.web.console.routes import render
from clinicore.web.console.session import CurrentUser, require
from clinicore.web.documents import DOCUMENT_HEADERS

router = APIRouter(include_in_schema=False, dependencies=[require(Permission.handle_exams)])

PRESCRIPTIONS = "/console/prescriptions"
NOTICES = {"transmitted": "Marked transmitted: the clinic's webhook says the pharmacy confirmed it."}


def prescription_path(prescription_id: uuid.UUID, notice: str | None = None) -> str:
    return f"{PRESCRIPTIONS}/{prescription_id}" + (f"?notice={notice}" if notice else "")


@router.get(PRESCRIPTIONS)
async def prescriptions_page(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    queues = await pharmacy_desk.retail_queues(session, clinic_id=user.clinic.id, clock=runtime.clock)
    return render(
        request,
        "prescriptions.html",
        user=user,
        nav="prescriptions",
        queues=queues,
        local=ClinicTime(user.clinic.time_zone),
    )


async def _prescription_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    prescription_id: uuid.UUID,
    *,
    notice: str | None = None,
    refusal: Refusal | None = None,
) -> Response:
    opened = await pharmacy_desk.open_retail_prescription(
        session,
        clinic_id=user.clinic.id,
        prescription_id=prescription_id,
        actor=Actor.user(user.user.id),
        clock=runtime.clock,
    )
    return render(
        request,
        "prescriptions_one.html",
        **refusal_context(refusal),
        user=user,
        nav="prescriptions",
        opened=opened,
        record=opened.record,
        prescription=opened.prescription,
        notice=NOTICES.get(notice or ""),
        local=ClinicTime(user.clinic.time_zone),
    )


@router.get(f"{PRESCRIPTIONS}/{{prescription_id}}")
async def prescription_page(
    request: Request,
    prescription_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    notice: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return await _prescription_page(request, user, session, runtime, prescription_id, notice=notice)


@router.get(f"{PRESCRIPTIONS}/{{prescription_id}}/prescription.pdf")
async def prescription_pdf(
    prescription_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    pdf = await prescription_document.retail_prescription_pdf(
        session,
        clinic_id=user.clinic.id,
        prescription_id=prescription_id,
        actor=Actor.user(user.user.id),
        clock=runtime.clock,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **DOCUMENT_HEADERS,
            "Content-Disposition": f'inline; filename="prescription-{prescription_id}.pdf"',
        },
    )


@router.post(f"{PRESCRIPTIONS}/{{prescription_id}}/transmitted")
async def mark_transmitted(
    request: Request, prescription_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(_form: EmptyForm) -> str:
        await pharmacy_desk.mark_transmitted(
            session,
            clinic_id=user.clinic.id,
            prescription_id=prescription_id,
            actor=Actor.user(user.user.id),
            links=runtime.links,
            clock=runtime.clock,
        )
        return prescription_path(prescription_id, "transmitted")

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=EmptyForm,
        act=act,
        refused=lambda refusal: _prescription_page(
            request, user, session, runtime, prescription_id, refusal=refusal
        ),
    )
