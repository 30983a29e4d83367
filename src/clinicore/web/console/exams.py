"""Console telehealth pages: the exams list (filters and paging), one exam (patient, answers,
prescription, timeline, webhook attempts of its invite, Cancel and Resend with the API's rules), the
patients list (search and paging) with each patient's exams, and the clinic's invite notifications.

Every filter is read here and bounded: a value that does not read shows the page again with a 400 and
the reason, never a 500. Dates are the clinic's local days; the core compares UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BeforeValidator
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.people import client_search
from clinicore.core.telehealth import exam_views, invites
from clinicore.core.telehealth.exam_views import ExamFilter, ExamListStatus, ExamMode
from clinicore.core.tenancy import invite_notifications
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.kit.paging import one_page
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.web.console.clinic_time import ClinicTime, parse_date
from clinicore.web.console.filters import digits, page_number, refuse_long_filters
from clinicore.web.console.form_models import EmptyForm
from clinicore.web.console.forms import ConsoleForm, Refusal, refusal_context, submit_form
from clinicore.web.console.routes import render
from clinicore.web.console.session import CurrentUser, require

router = APIRouter(include_in_schema=False)
EXAMS = require(Permission.handle_exams)
PATIENTS = require(Permission.see_patients)

PAGE_SIZE = 50
FILTER_LENGTH = 40  # the longest filter value a page sends (a status word, a date, an exam id)
EXAM_ID_DIGITS = 9  # patient exam ids are 32-bit integers
STATUS_LABELS = {
    ExamListStatus.pending: "pending",
    ExamListStatus.in_questionnaire: "in questionnaire",
    ExamListStatus.waiting_for_provider: "waiting for provider",
    ExamListStatus.in_consultation: "in consultation",
    ExamListStatus.approved: "Approved",
    ExamListStatus.rejected: "Rejected",
    ExamListStatus.deferred: "Deferred to Medical Director",
    ExamListStatus.na: "NA",
    ExamListStatus.missed: "Missed",
    ExamListStatus.prescribed: "prescribed",
    ExamListStatus.confirmed_by_pharmacy: "confirmed by pharmacy",
    ExamListStatus.shipped: "shipped",
    ExamListStatus.cancelled: "cancelled",
}
NOTICES = {
    "cancelled": "Exam cancelled.",
    "resent": "Invite sent again by email and SMS.",
    "notifications-on": "Invite emails and SMS are on: each new invite sends the patient their link.",
    "notifications-off": "Invite emails and SMS are off: new invites send nothing (Resend still sends).",
}


# --- readers: a query value to a value, or an InvalidInput naming the field -------------------------


def parse_patient_exam_id(raw: str) -> int:
    """An exam id from the URL; anything else is a page that does not exist."""
    if not digits(raw) or len(raw) > EXAM_ID_DIGITS:
        raise NotFound("patient exam not found", field="patient_exam_id")
    return int(raw)


def parse_client_id(raw: str) -> uuid.UUID:
    try:
        if len(raw) <= 36:
            return uuid.UUID(raw)
    except ValueError:
        pass
    raise NotFound("patient not found", field="client_id")


def exam_filter(local: ClinicTime, filters: Mapping[str, str]) -> ExamFilter:
    refuse_long_filters(filters, longest=FILTER_LENGTH)
    status, exam, mode = filters.get("status", ""), filters.get("exam", ""), filters.get("mode", "")
    if status and status not in ExamListStatus.__members__:
        raise InvalidInput("status: choose one of the listed statuses", field="status")
    if exam and not (digits(exam) and len(exam) <= EXAM_ID_DIGITS):
        raise InvalidInput("exam: choose one of the listed exams", field="exam")
    if mode and mode not in ExamMode.__members__:
        raise InvalidInput("mode: live or test", field="mode")
    created_from, created_until = filters.get("created_from", ""), filters.get("created_until", "")
    since = parse_date(created_from, field="created_from") if created_from else None
    until = parse_date(created_until, field="created_until") if created_until else None
    return ExamFilter(
        status=ExamListStatus(status) if status else None,
        exam_id=int(exam) if exam else None,
        created_from=local.start_of(since) if since else None,
        created_before=local.start_of(until + timedelta(days=1)) if until else None,
        mode=ExamMode(mode) if mode else None,
    )


def page_links(filters: Mapping[str, str], number: int, has_more: bool) -> dict[str, str | None]:
    active = {name: value for name, value in filters.items() if value}
    return {
        "previous_url": f"?{urlencode(active | {'page': number - 1})}" if number > 1 else None,
        "next_url": f"?{urlencode(active | {'page': number + 1})}" if has_more else None,
    }


# --- the exams list ---------------------------------------------------------------------------------


@router.get("/console/exams", dependencies=[EXAMS])
async def exams_page(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    status: str = "",
    exam: str = "",
    created_from: str = "",
    created_until: str = "",
    mode: str = "",
    page: str = "",
) -> Response:
    local = ClinicTime(user.clinic.time_zone)
    filters = {
        "status": status,
        "exam": exam,
        "created_from": created_from,
        "created_until": created_until,
        "mode": mode,
    }
    rows: list[exam_views.ExamListRow] = []
    has_more, number, error = False, 1, None
    try:
        number = page_number(page[:FILTER_LENGTH])
        query = exam_filter(local, filters)
        listed = await one_page(
            lambda limit: exam_views.list_exams(
                session, clinic_id=user.clinic.id, filters=query, limit=limit, offset=(number - 1) * PAGE_SIZE
            ),
            limit=PAGE_SIZE,
        )
        rows, has_more = list(listed.items), listed.has_more
    except InvalidInput as exc:
        error = exc.message
    return render(
        request,
        "exams.html",
        status_code=400 if error else 200,
        user=user,
        nav="exams",
        local=local,
        rows=rows,
        catalog=await exam_views.catalog_exams(session, clinic_id=user.clinic.id),
        statuses=STATUS_LABELS,
        modes=list(ExamMode),
        filters={name: value[:FILTER_LENGTH] for name, value in filters.items()},
        page=number,
        error=error,
        **page_links(filters, number, has_more),
    )


# --- one exam -----------------------------------------------------------------------------------------


def exam_path(patient_exam_id: int, notice: str | None = None) -> str:
    return f"/console/exams/{patient_exam_id}" + (f"?{urlencode({'notice': notice})}" if notice else "")


async def _exam_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    patient_exam_id: int,
    *,
    notice: str | None = None,
    refusal: Refusal | None = None,
) -> Response:
    detail = await exam_views.exam_detail(session, clinic_id=user.clinic.id, patient_exam_id=patient_exam_id)
    return render(
        request,
        "exams_detail.html",
        **refusal_context(refusal),
        user=user,
        nav="exams",
        local=ClinicTime(user.clinic.time_zone),
        detail=detail,
        record=detail.record,
        notice=NOTICES.get(notice or ""),
    )


@router.get("/console/exams/{patient_exam_id}", dependencies=[EXAMS])
async def exam_page(
    request: Request, patient_exam_id: str, user: CurrentUser, session: SessionDep, notice: str = ""
) -> Response:
    return await _exam_page(
        request, user, session, parse_patient_exam_id(patient_exam_id), notice=notice[:FILTER_LENGTH]
    )


@router.post("/console/exams/{patient_exam_id}/cancel", dependencies=[EXAMS])
async def cancel_exam(
    request: Request, patient_exam_id: str, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    exam_id = parse_patient_exam_id(patient_exam_id)

    async def act(_form: EmptyForm) -> str:
        await invites.cancel_invite(
            session,
            clinic_id=user.clinic.id,
            patient_exam_id=exam_id,
            by=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return exam_path(exam_id, "cancelled")

    return await _exam_form(request, user, session, exam_id, act)


@router.post("/console/exams/{patient_exam_id}/resend", dependencies=[EXAMS])
async def resend_exam(
    request: Request, patient_exam_id: str, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    exam_id = parse_patient_exam_id(patient_exam_id)

    async def act(_form: EmptyForm) -> str:
        await invites.resend_invite(
            session,
            clinic=user.clinic,
            patient_exam_id=exam_id,
            links=runtime.links,
            clock=runtime.clock,
            link_lifetime=runtime.settings.meeting_link_lifetime,
        )
        return exam_path(exam_id, "resent")

    return await _exam_form(request, user, session, exam_id, act)


async def _exam_form(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    exam_id: int,
    act: Callable[[EmptyForm], Awaitable[str]],
) -> Response:
    """Cancel or Resend: back to the exam with its notice, or the exam again with the core's reason."""
    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=EmptyForm,
        act=act,
        refused=lambda refusal: _exam_page(request, user, session, exam_id, refusal=refusal),
    )


# --- patients -----------------------------------------------------------------------------------------


@router.get("/console/patients", dependencies=[PATIENTS])
async def patients_page(
    request: Request, user: CurrentUser, session: SessionDep, q: str = "", page: str = ""
) -> Response:
    rows: list[client_search.ClientRow] = []
    has_more, number, error = False, 1, None
    try:
        number = page_number(page[:FILTER_LENGTH])
        listed = await one_page(
            lambda limit: client_search.search_clients(
                session, clinic_id=user.clinic.id, text=q, limit=limit, offset=(number - 1) * PAGE_SIZE
            ),
            limit=PAGE_SIZE,
        )
        rows, has_more = list(listed.items), listed.has_more
    except InvalidInput as exc:
        error = exc.message
    shown_q = q[: client_search.SEARCH_LIMIT]
    return render(
        request,
        "patients.html",
        status_code=400 if error else 200,
        user=user,
        nav="patients",
        local=ClinicTime(user.clinic.time_zone),
        rows=rows,
        q=shown_q,
        page=number,
        error=error,
        **page_links({"q": shown_q}, number, has_more),
    )


@router.get("/console/patients/{client_id}", dependencies=[PATIENTS])
async def patient_page(
    request: Request, client_id: str, user: CurrentUser, session: SessionDep, page: str = ""
) -> Response:
    client = await client_search.get_client(
        session, clinic_id=user.clinic.id, client_id=parse_client_id(client_id)
    )
    rows: list[exam_views.ExamListRow] = []
    has_more, number, error = False, 1, None
    try:
        number = page_number(page[:FILTER_LENGTH])
        listed = await one_page(
            lambda limit: exam_views.list_exams(
                session,
                clinic_id=user.clinic.id,
                filters=ExamFilter(client_id=client.id),
                limit=limit,
                offset=(number - 1) * PAGE_SIZE,
            ),
            limit=PAGE_SIZE,
        )
        rows, has_more = list(listed.items), listed.has_more
    except InvalidInput as exc:
        error = exc.message
    return render(
        request,
        "patients_detail.html",
        status_code=400 if error else 200,
        user=user,
        nav="patients",
        local=ClinicTime(user.clinic.time_zone),
        client=client,
        rows=rows,
        page=number,
        error=error,
        **page_links({}, number, has_more),
    )


# --- invite notifications -------------------------------------------------------------------------------


def _switch(raw: object) -> object:
    if isinstance(raw, str):
        if raw not in ("on", "off"):
            raise InvalidInput("notifications: on or off", field="notifications")
        return raw == "on"
    return raw


class InviteNotificationsForm(ConsoleForm):
    notifications: Annotated[bool, BeforeValidator(_switch)]


async def _notifications_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    *,
    notice: str | None = None,
    refusal: Refusal | None = None,
) -> Response:
    return render(
        request,
        "exams_notifications.html",
        **refusal_context(refusal),
        user=user,
        nav="notifications",
        enabled=await invite_notifications.invites_notify_patients(session, clinic_id=user.clinic.id),
        notice=NOTICES.get(notice or ""),
    )


@router.get("/console/notifications", dependencies=[EXAMS])
async def notifications_page(
    request: Request, user: CurrentUser, session: SessionDep, notice: str = ""
) -> Response:
    return await _notifications_page(request, user, session, notice=notice[:FILTER_LENGTH])


@router.post("/console/notifications", dependencies=[EXAMS])
async def set_notifications(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: InviteNotificationsForm) -> str:
        await invite_notifications.set_invite_notifications(
            session,
            clinic_id=user.clinic.id,
            enabled=form.notifications,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        notice = "notifications-on" if form.notifications else "notifications-off"
        return f"/console/notifications?notice={notice}"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=InviteNotificationsForm,
        act=act,
        refused=lambda refusal: _notifications_page(request, user, session, refusal=refusal),
    )
