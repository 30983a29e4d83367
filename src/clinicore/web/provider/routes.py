"""Provider desk pages (``/provider``). Each handler reads its form, calls the core once and redirects,
or shows the page again with the core's reason. Who may open or act on an exam is the core's rule
(core/telehealth/desk.py, lifecycle.py, prescriptions.py). Sign-in and sign-out are every desk's
(web/desk/sign_in.py)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from clinicore.core.accounts.service import SignedInDesk
from clinicore.core.models import ExamOutcome
from clinicore.core.telehealth import desk, lifecycle, prescriptions
from clinicore.requests import RuntimeDep, SessionDep, bind_clinic
from clinicore.runtime import Runtime
from clinicore.web.console.forms import Refusal, refusal_context, submit_form
from clinicore.web.desk.desk import forbidden_first
from clinicore.web.desk.forms import EmptyForm
from clinicore.web.desk.sign_in import sign_in_router
from clinicore.web.provider.forms import OUTCOMES, DecisionForm, PrescriptionForm
from clinicore.web.provider.session import PROVIDER_DESK, CurrentProvider, ProviderDeskRoute

DESK = PROVIDER_DESK.path
router = APIRouter(include_in_schema=False, route_class=ProviderDeskRoute)
router.include_router(sign_in_router(PROVIDER_DESK))

NOTICES = {
    "taken": "You took this exam: the consultation has started.",
    "deferred-taken": "You took this deferred exam.",
    "decided": "Decision saved.",
    "prescribed": "Prescription sent to the pharmacy.",
}
OUTCOME_CHOICES = [(key, outcome.value) for key, outcome in OUTCOMES.items()]


def exam_path(patient_exam_id: int, notice: str | None = None) -> str:
    return f"{DESK}/exams/{patient_exam_id}" + (f"?notice={notice}" if notice else "")


# --- the queue --------------------------------------------------------------------------------------


async def _queue_page(
    request: Request,
    signed_in: SignedInDesk,
    session: SessionDep,
    runtime: Runtime,
    *,
    refusal: Refusal | None = None,
) -> Response:
    queues = await desk.desk_queues(session, provider_id=signed_in.account.id, clock=runtime.clock)
    context = refusal_context(refusal)
    return PROVIDER_DESK.render(
        request,
        "provider/queue.html",
        status_code=context.pop("status_code"),
        **context,
        desk=signed_in,
        queues=queues,
    )


@router.get(DESK)
async def queue(
    request: Request, signed_in: CurrentProvider, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _queue_page(request, signed_in, session, runtime)


async def _take_from_a_queue(
    request: Request,
    signed_in: SignedInDesk,
    session: SessionDep,
    runtime: Runtime,
    *,
    take: Callable[[], Awaitable[object]],
    taken_path: str,
) -> Response:
    """Claim an exam from a queue: the core's take, then the consultation; a refusal shows the queue."""

    async def act(_form: EmptyForm) -> str:
        await take()
        return taken_path

    return await submit_form(
        request,
        session,
        csrf_token=signed_in.desk_session.csrf_token,
        form=EmptyForm,
        act=act,
        refused=forbidden_first(
            lambda refusal: _queue_page(request, signed_in, session, runtime, refusal=refusal)
        ),
    )


@router.post(f"{DESK}/exams/{{patient_exam_id}}/take")
async def take(
    request: Request,
    patient_exam_id: int,
    signed_in: CurrentProvider,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    return await _take_from_a_queue(
        request,
        signed_in,
        session,
        runtime,
        take=lambda: lifecycle.take_exam(
            session, provider_id=signed_in.account.id, patient_exam_id=patient_exam_id, clock=runtime.clock
        ),
        taken_path=exam_path(patient_exam_id, "taken"),
    )


@router.post(f"{DESK}/exams/{{patient_exam_id}}/take-deferred")
async def take_deferred(
    request: Request,
    patient_exam_id: int,
    signed_in: CurrentProvider,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """A medical director takes an exam deferred to them."""
    return await _take_from_a_queue(
        request,
        signed_in,
        session,
        runtime,
        take=lambda: desk.take_deferred(
            session, provider_id=signed_in.account.id, patient_exam_id=patient_exam_id, clock=runtime.clock
        ),
        taken_path=exam_path(patient_exam_id, "deferred-taken"),
    )


# --- the consultation -------------------------------------------------------------------------------


async def _exam_page(
    request: Request,
    signed_in: SignedInDesk,
    session: SessionDep,
    runtime: Runtime,
    patient_exam_id: int,
    *,
    order_set_id: int | None = None,
    notice: str | None = None,
    refusal: Refusal | None = None,
) -> Response:
    consultation = await desk.open_consultation(
        session, provider_id=signed_in.account.id, patient_exam_id=patient_exam_id, clock=runtime.clock
    )
    bind_clinic(request, consultation.record.clinic.id)
    form = (
        await desk.prescription_form(session, consultation.record, order_set_id=order_set_id)
        if consultation.can_prescribe
        else None
    )
    context = refusal_context(refusal)
    return PROVIDER_DESK.render(
        request,
        "provider/exam.html",
        status_code=context.pop("status_code"),
        **context,
        desk=signed_in,
        consultation=consultation,
        record=consultation.record,
        prescription_form=form,
        outcomes=OUTCOME_CHOICES,
        notice=NOTICES.get(notice or ""),
        deferred=ExamOutcome.deferred.value,
        ice_servers=runtime.settings.ice_server_list,
    )


@router.get(f"{DESK}/exams/{{patient_exam_id}}")
async def exam(
    request: Request,
    patient_exam_id: int,
    signed_in: CurrentProvider,
    session: SessionDep,
    runtime: RuntimeDep,
    order_set_id: int | None = None,
    notice: str | None = None,
) -> Response:
    return await _exam_page(
        request, signed_in, session, runtime, patient_exam_id, order_set_id=order_set_id, notice=notice
    )


@router.get(f"{DESK}/exams/{{patient_exam_id}}/attachments/{{attachment_id}}")
async def attachment(
    patient_exam_id: int,
    attachment_id: uuid.UUID,
    signed_in: CurrentProvider,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    stored, data = await desk.attachment_for_provider(
        session,
        provider_id=signed_in.account.id,
        patient_exam_id=patient_exam_id,
        attachment_id=attachment_id,
        storage=runtime.storage,
        clock=runtime.clock,
    )
    return Response(
        data,
        media_type=stored.content_type,
        headers={
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="attachment-{stored.id}"',
        },
    )


@router.post(f"{DESK}/exams/{{patient_exam_id}}/decision")
async def decision(
    request: Request,
    patient_exam_id: int,
    signed_in: CurrentProvider,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    async def act(form: DecisionForm) -> str:
        await lifecycle.decide(
            session,
            provider_id=signed_in.account.id,
            patient_exam_id=patient_exam_id,
            outcome=form.outcome,
            reason=form.reason,
            links=runtime.links,
            clock=runtime.clock,
        )
        return exam_path(patient_exam_id, "decided")

    return await submit_form(
        request,
        session,
        csrf_token=signed_in.desk_session.csrf_token,
        form=DecisionForm,
        act=act,
        refused=lambda refusal: _exam_page(
            request, signed_in, session, runtime, patient_exam_id, refusal=refusal
        ),
    )


@router.post(f"{DESK}/exams/{{patient_exam_id}}/prescription")
async def prescription(
    request: Request,
    patient_exam_id: int,
    signed_in: CurrentProvider,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    async def act(form: PrescriptionForm) -> str:
        await prescriptions.prescribe(
            session,
            provider_id=signed_in.account.id,
            patient_exam_id=patient_exam_id,
            order_set_id=form.order_set_id,
            items=form.items,
            clock=runtime.clock,
        )
        return exam_path(patient_exam_id, "prescribed")

    async def refused(refusal: Refusal) -> Response:
        order_set = refusal.form.get("order_set_id", "")
        return await _exam_page(
            request,
            signed_in,
            session,
            runtime,
            patient_exam_id,
            order_set_id=int(order_set) if order_set.isdigit() and len(order_set) < 12 else None,
            refusal=refusal,
        )

    return await submit_form(
        request,
        session,
        csrf_token=signed_in.desk_session.csrf_token,
        form=PrescriptionForm,
        act=act,
        refused=forbidden_first(refused),
    )
