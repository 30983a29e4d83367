"""Pharmacy desk pages (``/pharmacy``): the pharmacy's prescriptions to confirm and to ship, one
prescription, confirming it (event 2) and shipping it with carrier and tracking number (event 3). Each
handler calls the core once; who may see or act on a prescription is the core's rule
(core/telehealth/pharmacy_desk.py)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from clinicore.core.accounts.service import SignedInDesk
from clinicore.core.telehealth import pharmacy_desk
from clinicore.requests import RuntimeDep, SessionDep, bind_clinic
from clinicore.runtime import Runtime
from clinicore.web.console.forms import FormT, Refusal, refusal_context, submit_form
from clinicore.web.desk.desk import forbidden_first
from clinicore.web.desk.forms import EmptyForm
from clinicore.web.desk.sign_in import sign_in_router
from clinicore.web.pharmacy.forms import ShipForm
from clinicore.web.pharmacy.session import PHARMACY_DESK, CurrentPharmacyUser

DESK = PHARMACY_DESK.path
router = APIRouter(include_in_schema=False, route_class=PHARMACY_DESK.route_class)
router.include_router(sign_in_router(PHARMACY_DESK))

NOTICES = {
    "confirmed": "Prescription confirmed: the clinic is told. Ship it once it is ready.",
    "shipped": "Shipment saved: the clinic is told, with the tracking number.",
}
CARRIERS = ("UPS", "USPS", "FedEx", "DHL")


def prescription_path(prescription_id: uuid.UUID, notice: str | None = None) -> str:
    return f"{DESK}/prescriptions/{prescription_id}" + (f"?notice={notice}" if notice else "")


@router.get(DESK)
async def queues(
    request: Request, signed_in: CurrentPharmacyUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    listed = await pharmacy_desk.pharmacy_queues(
        session, pharmacy_user_id=signed_in.account.id, clock=runtime.clock
    )
    return PHARMACY_DESK.render(request, "pharmacy/queues.html", desk=signed_in, queues=listed)


async def _prescription_page(
    request: Request,
    signed_in: SignedInDesk,
    session: SessionDep,
    runtime: Runtime,
    prescription_id: uuid.UUID,
    *,
    notice: str | None = None,
    refusal: Refusal | None = None,
) -> Response:
    opened = await pharmacy_desk.open_prescription(
        session, pharmacy_user_id=signed_in.account.id, prescription_id=prescription_id, clock=runtime.clock
    )
    bind_clinic(request, opened.record.clinic.id)
    context = refusal_context(refusal)
    return PHARMACY_DESK.render(
        request,
        "pharmacy/prescription.html",
        status_code=context.pop("status_code"),
        **context,
        desk=signed_in,
        opened=opened,
        record=opened.record,
        prescription=opened.prescription,
        carriers=CARRIERS,
        notice=NOTICES.get(notice or ""),
    )


@router.get(f"{DESK}/prescriptions/{{prescription_id}}")
async def prescription(
    request: Request,
    prescription_id: uuid.UUID,
    signed_in: CurrentPharmacyUser,
    session: SessionDep,
    runtime: RuntimeDep,
    notice: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return await _prescription_page(request, signed_in, session, runtime, prescription_id, notice=notice)


async def _act(
    request: Request,
    signed_in: SignedInDesk,
    session: SessionDep,
    runtime: Runtime,
    prescription_id: uuid.UUID,
    form: type[FormT],
    action: Callable[[FormT], Awaitable[object]],
    notice: str,
) -> Response:
    """One action on a prescription: then its page with the notice, or the page again with the reason
    (a ``Forbidden`` is the desk's 403 page)."""

    async def act(parsed: FormT) -> str:
        await action(parsed)
        return prescription_path(prescription_id, notice)

    return await submit_form(
        request,
        session,
        csrf_token=signed_in.desk_session.csrf_token,
        form=form,
        act=act,
        refused=forbidden_first(
            lambda refusal: _prescription_page(
                request, signed_in, session, runtime, prescription_id, refusal=refusal
            )
        ),
    )


@router.post(f"{DESK}/prescriptions/{{prescription_id}}/confirm")
async def confirm(
    request: Request,
    prescription_id: uuid.UUID,
    signed_in: CurrentPharmacyUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    async def action(_form: EmptyForm) -> object:
        return await pharmacy_desk.confirm(
            session,
            pharmacy_user_id=signed_in.account.id,
            prescription_id=prescription_id,
            links=runtime.links,
            clock=runtime.clock,
        )

    return await _act(request, signed_in, session, runtime, prescription_id, EmptyForm, action, "confirmed")


@router.post(f"{DESK}/prescriptions/{{prescription_id}}/ship")
async def ship(
    request: Request,
    prescription_id: uuid.UUID,
    signed_in: CurrentPharmacyUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    async def action(form: ShipForm) -> object:
        return await pharmacy_desk.ship(
            session,
            pharmacy_user_id=signed_in.account.id,
            prescription_id=prescription_id,
            carrier=form.carrier,
            tracking_number=form.tracking_number,
            delivery_service=form.delivery_service,
            links=runtime.links,
            clock=runtime.clock,
        )

    return await _act(request, signed_in, session, runtime, prescription_id, ShipForm, action, "shipped")
