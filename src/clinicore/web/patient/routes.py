"""The patient's meeting page: ``GET /meet/<meeting_uuid>?signature=…`` shows the step the core says the
patient is on (``core/telehealth/visit.py``); each form posts to one route that calls the core once.

No sign-in: the signed link is the credential. Every request checks the signature (carried in every
link and form action); a wrong one answers 404 like a meeting that does not exist, a genuine link past
its ``expires`` 410. Forms carry a CSRF token bound to the meeting. A cancelled or finished visit shows
a page in the clinic's brand (410). Every page wears the clinic's look: its name on its partner's dress
(core/tenancy/brand.py). Pages are never cached and never send a Referer (the link is a
credential).
"""

from __future__ import annotations

import hmac
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import HTTPConnection

from clinicore.core.models import Clinic, ExamOutcome
from clinicore.core.telehealth import attachments as attachments_service
from clinicore.core.telehealth import call as call_service
from clinicore.core.telehealth import visit as visit_service
from clinicore.core.telehealth.invites import meeting_path
from clinicore.core.telehealth.visit import Visit, VisitStep
from clinicore.core.tenancy.brand import Brand, brand_for_clinic
from clinicore.kit.errors import CoreError, NotFound
from clinicore.requests import RuntimeDep, SessionDep, bind_clinic, bound_upload_body
from clinicore.runtime import Runtime
from clinicore.web.patient import forms
from clinicore.web.templating import WEB_DIR

router = APIRouter(include_in_schema=False)

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(str(WEB_DIR / "patient" / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
)

PAGE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
POLL_SECONDS = 3
LOOK = "patient_look"  # the request state's key of the visit's Brand (see _dress)
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}")
OUTCOME_SENTENCES = {
    ExamOutcome.approved: "Your provider approved your treatment.",
    ExamOutcome.rejected: "Your provider could not approve this treatment.",
    ExamOutcome.deferred: "Your provider referred your visit to the medical director, who will decide.",
    ExamOutcome.na: "Your provider found that this treatment does not apply to you.",
    ExamOutcome.missed: "No provider was available in time. The clinic will contact you.",
}


class MeetingLink:
    """A checked meeting link: the meeting's id and the query every link and form of the page carries."""

    def __init__(self, runtime: Runtime, meeting_id: uuid.UUID, signature: str, expires: int | None) -> None:
        self.meeting_id = meeting_id
        self.path = meeting_path(meeting_id)
        self.params = [("signature", signature)]
        if expires is not None:
            self.params.insert(0, ("expires", str(expires)))
        self.query = urlencode(self.params)
        self.csrf_token = runtime.links.signature(f"csrf:{self.path}")

    def url(self, suffix: str = "", **params: str) -> str:
        extra = f"&{urlencode(params)}" if params else ""
        return f"{self.path}{suffix}?{self.query}{extra}"


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def _dress(request: Request, session: AsyncSession, clinic: Clinic | None) -> None:
    """The look the pages of ``clinic``'s visit wear (base.html): the clinic's name with its colour and
    logo, or where it has none its partner's (core/tenancy/brand.py). Without a clinic, Clinicore's."""
    if clinic is not None:
        request.scope.setdefault("state", {})[LOOK] = await brand_for_clinic(session, clinic.id)


def _look_css(look: Brand | None) -> str | None:
    """The look's colours as CSS variables, only when they are plain hexadecimal colours."""
    if look is None:
        return None
    rules = [
        f"--{name}: {value};"
        for name, value in (("brand", look.color), ("accent", look.accent_color))
        if value and HEX_COLOR.fullmatch(value)
    ]
    return f":root {{ {' '.join(rules)} }}" if rules else None


def _page(request: Request, template: str, context: Mapping[str, Any], *, status_code: int = 200) -> Response:
    look = request.scope.get("state", {}).get(LOOK)
    return templates.TemplateResponse(
        request,
        template,
        {"look": look, "look_css": _look_css(look), **context},
        status_code=status_code,
        headers=PAGE_HEADERS,
    )


def _closed(request: Request, status_code: int, title: str, message: str, clinic: Clinic | None) -> Response:
    return _page(
        request,
        "closed.html",
        {"title": title, "message": message, "clinic": clinic, "link": None},
        status_code=status_code,
    )


def _not_found(request: Request) -> _Refused:
    return _Refused(
        _closed(
            request,
            404,
            "Link not found",
            "This visit link is not valid. Open the link from your "
            "invitation again, or ask the clinic for a new one.",
            None,
        )
    )


class LinkRefused(Exception):
    """A meeting link that does not open its visit: not valid (404) or past its ``expires`` (410)."""

    def __init__(self, status_code: int, clinic: Clinic | None) -> None:
        self.status_code = status_code
        self.clinic = clinic


async def open_link(
    connection: HTTPConnection,
    session: AsyncSession,
    runtime: Runtime,
    meeting_uuid: str,
    *,
    lock: bool = False,
) -> tuple[MeetingLink, Visit]:
    """Check the link's signature and expiry, then load the visit: for a page or the call's WebSocket."""
    signature = connection.query_params.get("signature", "")
    expires_text = connection.query_params.get("expires")
    try:
        meeting_id = uuid.UUID(meeting_uuid)
    except ValueError:
        raise LinkRefused(404, None) from None
    # A bounded number of ASCII digits: int() of thousands of digits raises, and no real expiry needs them.
    expires = (
        int(expires_text)
        if expires_text and expires_text.isascii() and expires_text.isdigit() and len(expires_text) <= 12
        else None
    )
    if expires_text is not None and expires is None:
        raise LinkRefused(404, None)
    path = meeting_path(meeting_id)
    links = runtime.links
    if not hmac.compare_digest(links.signature(path, expires).encode(), signature.encode()):
        raise LinkRefused(404, None)
    try:
        visit = await visit_service.open_visit(session, meeting_id=meeting_id, lock=lock)
    except NotFound:
        raise LinkRefused(404, None) from None
    if not links.verify(path, signature=signature, expires=expires, now=runtime.clock.now()):
        raise LinkRefused(410, visit.clinic)
    return MeetingLink(runtime, meeting_id, signature, expires), visit


async def _open(
    request: Request, session: SessionDep, runtime: Runtime, meeting_uuid: str, *, lock: bool = False
) -> tuple[MeetingLink, Visit]:
    """The checked link and its visit, or the page that says why not (404, 410)."""
    try:
        link, visit = await open_link(request, session, runtime, meeting_uuid, lock=lock)
    except LinkRefused as refused:
        bind_clinic(request, refused.clinic.id if refused.clinic else None)
        await _dress(request, session, refused.clinic)
        if refused.status_code == 404:
            raise _not_found(request) from None
        raise _Refused(
            _closed(
                request, 410, "This link has expired", "Ask the clinic for a new visit link.", refused.clinic
            )
        ) from None
    bind_clinic(request, visit.clinic.id)
    await _dress(request, session, visit.clinic)
    return link, visit


def _context(link: MeetingLink, visit: Visit, **extra: Any) -> dict[str, Any]:
    exams = visit.active_exams
    return {
        "link": link,
        "visit": visit,
        "clinic": visit.clinic,
        "brand": visit.brand,
        "meeting": visit.meeting,
        "exam_count": len(exams),
        "error": None,
        "form": {},
        **extra,
    }


def _csrf_matches(link: MeetingLink, form: FormData) -> bool:
    submitted = form.get("csrf_token")
    return isinstance(submitted, str) and hmac.compare_digest(submitted.encode(), link.csrf_token.encode())


def _csrf_refused(request: Request, visit: Visit) -> Response:
    return _closed(
        request,
        403,
        "This form has expired",
        "The form did not come from this visit's page. Go back, reload the page and try again.",
        visit.clinic,
    )


async def _show(
    request: Request,
    session: SessionDep,
    runtime: Runtime,
    link: MeetingLink,
    visit: Visit,
    *,
    error: str | None = None,
    form: FormData | None = None,
    status_code: int = 200,
) -> Response:
    """The page of the step the patient is on (with a refusal's reason, when there is one)."""
    step = visit.step
    context = _context(link, visit, error=error, form=forms.selected_options(form), step=step.value)
    if step == VisitStep.cancelled:
        return _closed(
            request,
            410,
            "This visit was cancelled",
            f"{visit.brand} cancelled this visit. Contact the clinic if you think this is a mistake.",
            visit.clinic,
        )
    if step == VisitStep.finished:
        return _page(
            request, "result.html", {**context, "sentence": _sentence(visit), "closed": True}, status_code=410
        )
    if step == VisitStep.questions:
        current = visit.questions_exam
        assert current is not None
        position = [item.patient_exam.id for item in visit.active_exams].index(current.patient_exam.id) + 1
        return _page(
            request,
            "questions.html",
            {**context, "current": current, "position": position},
            status_code=status_code,
        )
    if step == VisitStep.pharmacy_choice or (
        step == VisitStep.pharmacy_confirmation
        and visit.patient_may_choose_pharmacy
        and request.query_params.get("change") == "pharmacy"
    ):
        return await _pharmacy_choice(request, session, context, status_code=status_code)
    if step == VisitStep.attachments:
        context["max_upload"] = attachments_service.describe_size(runtime.settings.max_upload_bytes)
    if step == VisitStep.waiting_room:
        place = await visit_service.place_in_queue(session, visit=visit)
        context |= {"place": place, "poll_seconds": POLL_SECONDS, "provider_joined": _provider_joined(visit)}
        context |= {"call_url": _call_url(link, visit), "ice_servers": runtime.settings.ice_server_list}
    template = {
        VisitStep.consent: "consent.html",
        VisitStep.attachments: "attachments.html",
        VisitStep.pharmacy_confirmation: "pharmacy_confirmation.html",
        VisitStep.ready: "ready.html",
        VisitStep.waiting_room: "waiting_room.html",
    }[step]
    return _page(request, template, context, status_code=status_code)


async def _pharmacy_choice(
    request: Request, session: SessionDep, context: dict[str, Any], *, status_code: int
) -> Response:
    search = request.query_params.get("search", "")[:200]
    zip_code = request.query_params.get("zip_code", "")[:10]
    results = None
    error = context["error"]
    if search.strip() or zip_code.strip():
        try:
            search = forms.storable_text(search, field="search")
            zip_code = forms.storable_text(zip_code, field="zip_code")
            results = await visit_service.find_pharmacies(session, search=search, zip_code=zip_code)
        except CoreError as exc:
            error, status_code = exc.message, 400
    return _page(
        request,
        "pharmacy_choice.html",
        {**context, "search": search, "zip_code": zip_code, "results": results, "error": error},
        status_code=status_code,
    )


def _provider_joined(visit: Visit) -> bool:
    return any(item.patient_exam.status == "in_consultation" for item in visit.active_exams)


def _call_url(link: MeetingLink, visit: Visit) -> str | None:
    """Where the waiting room's video call connects (web/call/routes.py), once a provider consults."""
    patient_exam = call_service.patient_call_exam(visit)
    return link.url(f"/call/{patient_exam.id}") if patient_exam is not None else None


def _sentence(visit: Visit) -> str:
    outcome = visit.outcome
    return OUTCOME_SENTENCES.get(outcome, "Your visit is over.") if outcome else "Your visit is over."


async def _act(
    request: Request,
    session: SessionDep,
    runtime: Runtime,
    meeting_uuid: str,
    action: Any,
    *,
    form: FormData | None = None,
) -> Response:
    """One form: CSRF, one core call inside a SAVEPOINT, then the next step (303) or the same step with
    the reason (400; everything the core wrote is rolled back)."""
    try:
        link, visit = await _open(request, session, runtime, meeting_uuid)
        form = form if form is not None else await request.form()
        if not _csrf_matches(link, form):
            return _csrf_refused(request, visit)
        try:
            async with session.begin_nested():
                await action(link, visit, form)
        except CoreError as exc:
            refreshed = await visit_service.open_visit(session, meeting_id=link.meeting_id)
            return await _show(
                request, session, runtime, link, refreshed, error=exc.message, form=form, status_code=400
            )
    except _Refused as refused:
        return refused.response
    return RedirectResponse(link.url(), status_code=303, headers=PAGE_HEADERS)


# --- routes ---------------------------------------------------------------------------------------


@router.get("/meet/{meeting_uuid}")
async def meeting_page(
    meeting_uuid: str, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        link, visit = await _open(request, session, runtime, meeting_uuid)
    except _Refused as refused:
        return refused.response
    return await _show(request, session, runtime, link, visit)


@router.post("/meet/{meeting_uuid}/consent")
async def consent(meeting_uuid: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    async def action(link: MeetingLink, visit: Visit, form: FormData) -> None:
        await visit_service.accept_consent(
            session,
            meeting_id=link.meeting_id,
            accepted=form.get("consent") == "yes",
            missed_after=runtime.settings.missed_window,
            clock=runtime.clock,
        )

    return await _act(request, session, runtime, meeting_uuid, action)


@router.post("/meet/{meeting_uuid}/answers")
async def answers(meeting_uuid: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    async def action(link: MeetingLink, visit: Visit, form: FormData) -> None:
        patient_exam_id = form.get("patient_exam_id")
        await visit_service.answer_questions(
            session,
            meeting_id=link.meeting_id,
            patient_exam_id=forms.patient_exam_id(
                patient_exam_id if isinstance(patient_exam_id, str) else ""
            ),
            answers_given=forms.submitted_answers(form),
            missed_after=runtime.settings.missed_window,
            clock=runtime.clock,
        )

    return await _act(request, session, runtime, meeting_uuid, action)


@router.post("/meet/{meeting_uuid}/attachments")
async def attachments(
    meeting_uuid: str, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    max_bytes = runtime.settings.max_upload_bytes
    try:
        link, visit = await _open(request, session, runtime, meeting_uuid)
    except _Refused as refused:
        return refused.response
    try:
        bound_upload_body(request, max_upload_bytes=max_bytes)
        form = await request.form()
    except CoreError as exc:
        return await _show(request, session, runtime, link, visit, error=exc.message, status_code=400)

    async def action(link: MeetingLink, visit: Visit, form: FormData) -> None:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise forms.file_required()
        try:
            data = await attachments_service.read_limited(upload.read, max_bytes=max_bytes)
        finally:
            await upload.close()
        label = form.get("label")
        await visit_service.upload_document(
            session,
            meeting_id=link.meeting_id,
            label=label if isinstance(label, str) else "",
            data=data,
            original_name=upload.filename,
            storage=runtime.storage,
            max_bytes=max_bytes,
            missed_after=runtime.settings.missed_window,
            clock=runtime.clock,
        )

    return await _act(request, session, runtime, meeting_uuid, action, form=form)


@router.post("/meet/{meeting_uuid}/pharmacy")
async def pharmacy(meeting_uuid: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    async def action(link: MeetingLink, visit: Visit, form: FormData) -> None:
        ncpdpid = form.get("ncpdpid")
        await visit_service.choose_pharmacy(
            session,
            meeting_id=link.meeting_id,
            ncpdpid=ncpdpid if isinstance(ncpdpid, str) else "",
            missed_after=runtime.settings.missed_window,
            clock=runtime.clock,
        )

    return await _act(request, session, runtime, meeting_uuid, action)


@router.post("/meet/{meeting_uuid}/join")
async def join(meeting_uuid: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    async def action(link: MeetingLink, visit: Visit, form: FormData) -> None:
        await visit_service.join_waiting_room(
            session,
            meeting_id=link.meeting_id,
            missed_after=runtime.settings.missed_window,
            clock=runtime.clock,
        )

    return await _act(request, session, runtime, meeting_uuid, action)


@router.get("/meet/{meeting_uuid}/status")
async def status(meeting_uuid: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """What the waiting room polls: the step, the place in the queue, and where to go once decided."""
    try:
        link, visit = await _open(request, session, runtime, meeting_uuid)
    except _Refused as refused:
        return JSONResponse(
            {"error": "not found"}, status_code=refused.response.status_code, headers=PAGE_HEADERS
        )
    step = visit.step
    redirect = None
    if step == VisitStep.finished:
        redirect = visit.redirect_url or link.url("/result")
    elif step != VisitStep.waiting_room:
        redirect = link.url()
    place = (
        await visit_service.place_in_queue(session, visit=visit) if step == VisitStep.waiting_room else None
    )
    body = {
        "step": step.value,
        "place": place,
        "provider_joined": _provider_joined(visit),
        "outcome": visit.outcome.value if visit.outcome else None,
        "redirect": redirect,
        "call_url": _call_url(link, visit) if step == VisitStep.waiting_room else None,
    }
    return JSONResponse(body, headers=PAGE_HEADERS)


@router.get("/meet/{meeting_uuid}/result")
async def result(meeting_uuid: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Where the patient lands once decided when the invite gave no redirect for the outcome."""
    try:
        link, visit = await _open(request, session, runtime, meeting_uuid)
    except _Refused as refused:
        return refused.response
    if visit.step != VisitStep.finished:
        return RedirectResponse(link.url(), status_code=303, headers=PAGE_HEADERS)
    context = _context(link, visit, sentence=_sentence(visit), closed=False)
    return _page(request, "result.html", context)
