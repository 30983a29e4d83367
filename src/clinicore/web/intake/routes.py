"""The form a client fills: ``/intake/<id>``, the intake's ``Url`` of the IntakeQ API.

Access: the intake's 6-digit password (posted to the same address) or a token (``?auth=<token>``, which
is then dropped from the address bar by a redirect) opens it through the core's ``authenticate``; the
page then keeps a signed cookie scoped to the intake's path for two hours (``web/intake/session.py``).
A ``?redirect=<url>`` given on the first visit is kept in that cookie and followed after submitting only
when the clinic's brand allows its host; otherwise (and without one) the client sees a thank-you page.

Every post carries a CSRF token bound to the cookie and calls the core once per step inside a SAVEPOINT:
files and drawn signatures are stored first (so that a refused submit keeps them), then the answers are
saved or submitted. A refusal shows the form again with what was typed and the server's message next to
each question at fault. Bodies are capped before they are read. Pages are never cached, never framed,
send no Referer and run no inline script.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException

from clinicore.core.audit.service import Actor
from clinicore.core.forms import intakes as intakes_service
from clinicore.core.forms.intake_schemas import IntakeFileView, IntakeForm
from clinicore.core.forms.intakes import IncompleteIntake
from clinicore.core.models import IntakeStatus
from clinicore.core.telehealth import attachments as attachments_service
from clinicore.core.tenancy.brand import Brand, brand_for_clinic
from clinicore.kit.errors import Conflict, CoreError, Forbidden, InvalidInput, NotFound, RateLimited
from clinicore.requests import RuntimeDep, SessionDep, bind_clinic, bound_upload_body
from clinicore.runtime import Runtime
from clinicore.web.intake import forms
from clinicore.web.intake import session as access_cookie
from clinicore.web.intake.session import IntakeAccess
from clinicore.web.templating import WEB_DIR

router = APIRouter(include_in_schema=False)

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(str(WEB_DIR / "intake" / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
)

# The answers of the largest form (300 questions, matrices of 50 rows) fit easily in 256 KB.
MAX_ANSWERS_BYTES = 256 * 1024
MAX_FORM_FIELDS = 20_000
MAX_FORM_FILES = 300
MAX_PASSWORD_CHARS = 64
MAX_TOKEN_CHARS = 128
HEX_AND_DASHES = frozenset(string.hexdigits + "-")
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}")
MISSING_ANSWER = "This question needs an answer."
MISSING_CONSENT = "Type your full name and tick “I agree” to sign this document."


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


# --- responses ------------------------------------------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _headers(*, style_nonce: str, redirect: str | None = None) -> dict[str, str]:
    """No caching, no Referer, no inline script, never framed. The partner's ``frame_origins`` are for the
    console: the form page's cookie is SameSite=Lax, so a form in another site's frame could not keep its
    access anyway. ``form-action`` names the allowed redirect's origin, where submitting sends the browser."""
    form_action = "'self'" + (f" {_origin(redirect)}" if redirect else "")
    policy = (
        "default-src 'none'; script-src 'self'; connect-src 'self'; "
        f"style-src 'self' 'nonce-{style_nonce}'; img-src 'self' data: https:; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
    return {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": policy,
    }


def _brand_css(brand: Brand | None) -> str | None:
    """The brand's colours as CSS variables, only when they are plain hexadecimal colours."""
    if brand is None:
        return None
    rules = [
        f"--{name}: {value};"
        for name, value in (("brand", brand.color), ("accent", brand.accent_color))
        if value and HEX_COLOR.fullmatch(value)
    ]
    return f":root {{ {' '.join(rules)} }}" if rules else None


def _page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    brand: Brand | None,
    status_code: int = 200,
    redirect: str | None = None,
) -> Response:
    nonce = secrets.token_urlsafe(16)
    return templates.TemplateResponse(
        request,
        template,
        {
            "brand": brand,
            "brand_css": _brand_css(brand),
            "style_nonce": nonce,
            "error": None,
            "notice": None,
            **context,
        },
        status_code=status_code,
        headers=_headers(style_nonce=nonce, redirect=redirect),
    )


def _message(request: Request, status_code: int, title: str, message: str, brand: Brand | None) -> Response:
    return _page(
        request, "message.html", {"title": title, "message": message}, brand=brand, status_code=status_code
    )


def _not_found(request: Request) -> Response:
    return _message(
        request,
        404,
        "Form not found",
        "This form link is not valid. Open the link from your email again, "
        "or ask the practice for a new one.",
        None,
    )


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(
        url, status_code=303, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


# --- loading --------------------------------------------------------------------------------------


class Opened:
    """An intake as the page shows it: the path it was opened at, its form, its brand and the access
    the browser's cookie gives (None: the password page)."""

    def __init__(self, path: str, intake: IntakeForm, brand: Brand, access: IntakeAccess | None) -> None:
        self.path = path
        self.intake = intake
        self.brand = brand
        self.access = access

    @property
    def submitted(self) -> bool:
        return self.intake.status == IntakeStatus.submitted or self.intake.submitted_at is not None


def _intake_id(text: str) -> uuid.UUID | None:
    if not 32 <= len(text) <= 36 or not set(text) <= HEX_AND_DASHES:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def _open(request: Request, session: AsyncSession, runtime: Runtime, intake_text: str) -> Opened:
    intake_id = _intake_id(intake_text)
    if intake_id is None:
        raise _Refused(_not_found(request))
    try:
        intake = await intakes_service.get_for_filling(session, intake_id=intake_id)
    except NotFound:
        raise _Refused(_not_found(request)) from None
    bind_clinic(request, intake.clinic_id)
    brand = await brand_for_clinic(session, intake.clinic_id)
    access = access_cookie.read(
        runtime.links,
        request.cookies.get(access_cookie.COOKIE_NAME),
        intake_id=intake.intake_id,
        now=runtime.clock.now(),
    )
    return Opened(f"/intake/{intake_text}", intake, brand, access)


def _allowed_redirect(opened: Opened) -> str | None:
    redirect = opened.access.redirect if opened.access else None
    return redirect if redirect and opened.brand.redirect_allowed(redirect) else None


def _with_access(response: Response, opened: Opened, runtime: Runtime, redirect: str | None) -> Response:
    value = access_cookie.issue(
        runtime.links, intake_id=opened.intake.intake_id, now=runtime.clock.now(), redirect=redirect
    )
    response.set_cookie(
        access_cookie.COOKIE_NAME,
        value,
        max_age=int(access_cookie.ACCESS_LIFETIME.total_seconds()),
        path=opened.path,
        httponly=True,
        samesite="lax",
        secure=runtime.settings.secure_cookies,
    )
    response.delete_cookie(access_cookie.PASSWORD_CSRF_COOKIE, path=opened.path)
    return response


# --- pages ----------------------------------------------------------------------------------------


def _password_page(
    request: Request,
    runtime: Runtime,
    opened: Opened,
    *,
    redirect: str | None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    cookie = request.cookies.get(access_cookie.PASSWORD_CSRF_COOKIE) or ""
    pre_session_id = cookie if 0 < len(cookie) <= 100 else access_cookie.new_password_csrf()
    token = access_cookie.password_csrf_token(runtime.links, opened.intake.intake_id, pre_session_id)
    response = _page(
        request,
        "password.html",
        {"opened": opened, "csrf_token": token, "redirect": redirect or "", "error": error},
        brand=opened.brand,
        status_code=status_code,
    )
    response.set_cookie(
        access_cookie.PASSWORD_CSRF_COOKIE,
        pre_session_id,
        path=opened.path,
        httponly=True,
        samesite="strict",
        secure=runtime.settings.secure_cookies,
    )
    return response


def _thank_you(request: Request, opened: Opened) -> Response:
    return _page(request, "done.html", {"opened": opened}, brand=opened.brand)


def _files_by_id(intake: IntakeForm) -> dict[str, IntakeFileView]:
    return {str(view.id): view for view in intake.files}


def _form_page(
    request: Request,
    runtime: Runtime,
    opened: Opened,
    *,
    values: Mapping[str, Sequence[str]] | None = None,
    errors: Mapping[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    assert opened.access is not None
    return _page(
        request,
        "form.html",
        {
            "opened": opened,
            "intake": opened.intake,
            "values": values if values is not None else forms.stored_values(opened.intake),
            "errors": errors or {},
            "error": error,
            "notice": notice,
            "files": _files_by_id(opened.intake),
            "csrf_token": access_cookie.csrf_token(runtime.links, opened.access),
            "max_upload": attachments_service.describe_size(runtime.settings.max_upload_bytes),
        },
        brand=opened.brand,
        status_code=status_code,
        redirect=_allowed_redirect(opened),
    )


@router.get("/intake/{intake_text}")
async def intake_page(
    intake_text: str, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        opened = await _open(request, session, runtime, intake_text)
    except _Refused as refused:
        return refused.response
    if opened.submitted:
        return _thank_you(request, opened)
    redirect = access_cookie.bounded_redirect(request.query_params.get("redirect"))
    token = request.query_params.get("auth")
    if token is not None:
        try:
            await intakes_service.authenticate(
                session,
                intake_id=str(opened.intake.intake_id),
                token=token[:MAX_TOKEN_CHARS],
                clock=runtime.clock,
                secret_box=runtime.box,
            )
        except (Forbidden, InvalidInput):
            return _password_page(
                request,
                runtime,
                opened,
                redirect=redirect,
                error="This link has expired or is no longer valid. Enter the form's password instead, "
                "or ask the practice for a new link.",
                status_code=403,
            )
        return _with_access(_see_other(opened.path), opened, runtime, redirect)
    if opened.access is None:
        return _password_page(request, runtime, opened, redirect=redirect)
    notice = "Your answers are saved." if request.query_params.get("saved") == "1" else None
    return _form_page(request, runtime, opened, notice=notice)


@router.post("/intake/{intake_text}")
async def sign_in(intake_text: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The password form."""
    try:
        opened = await _open(request, session, runtime, intake_text)
        form = await _small_form(request, opened)
    except _Refused as refused:
        return refused.response
    redirect = access_cookie.bounded_redirect(_field(form, "redirect"))
    if not access_cookie.password_csrf_matches(
        runtime.links,
        opened.intake.intake_id,
        request.cookies.get(access_cookie.PASSWORD_CSRF_COOKIE),
        form.get("csrf_token"),
    ):
        return _password_page(
            request,
            runtime,
            opened,
            redirect=redirect,
            error="This page was out of date. Enter the password again.",
            status_code=403,
        )
    if opened.submitted:
        return _see_other(opened.path)
    password = _field(form, "password").strip()[:MAX_PASSWORD_CHARS]
    # No SAVEPOINT here: a wrong password is counted on the intake in this transaction (the lockout), and
    # the refusal below is a page, so the request commits the count.
    try:
        await intakes_service.authenticate(
            session,
            intake_id=str(opened.intake.intake_id),
            password=password,
            clock=runtime.clock,
            secret_box=runtime.box,
        )
    except RateLimited as exc:
        minutes = max(1, -(-exc.retry_after // 60))
        locked = (
            f"Too many wrong passwords: the password is locked for {minutes} more minute(s). "
            "Try again then, or ask the practice for a new link."
        )
        return _password_page(request, runtime, opened, redirect=redirect, error=locked, status_code=429)
    except (Forbidden, InvalidInput):
        return _password_page(
            request,
            runtime,
            opened,
            redirect=redirect,
            error="That password is not right. Check the 6-digit password the practice sent you.",
            status_code=403,
        )
    return _with_access(_see_other(opened.path), opened, runtime, redirect)


@router.post("/intake/{intake_text}/save")
async def save(intake_text: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    return await _post_answers(request, session, runtime, intake_text, submitting=False)


@router.post("/intake/{intake_text}/submit")
async def submit(intake_text: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    return await _post_answers(request, session, runtime, intake_text, submitting=True)


# --- posting --------------------------------------------------------------------------------------


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _wants_json(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "intake.js"


async def _small_form(request: Request, opened: Opened) -> FormData:
    """A form without files (the password), capped like the answers."""
    try:
        bound_upload_body(request, max_upload_bytes=MAX_ANSWERS_BYTES)
        return await request.form(max_files=0, max_fields=20)
    except (CoreError, MultiPartException):
        raise _Refused(
            _message(request, 413, "Too much data", "The form sent too much data.", opened.brand)
        ) from None


async def _read_body(request: Request, runtime: Runtime) -> FormData:
    """The page's form: answers and at most one upload's worth of files, bounded before it is read."""
    max_bytes = runtime.settings.max_upload_bytes
    bound_upload_body(request, max_upload_bytes=max_bytes + MAX_ANSWERS_BYTES)
    try:
        return await request.form(
            max_files=MAX_FORM_FILES,
            max_fields=MAX_FORM_FIELDS,
            max_part_size=forms.MAX_SIGNATURE_CHARS + 1024,
        )
    except MultiPartException as exc:
        raise InvalidInput(f"the form could not be read: {exc.message}") from None


def _question_message(message: str) -> str:
    """The core's sentence without the field it names (``answers.<id> ("Weight"): must be a number`` ->
    ``Must be a number``): next to its question, the question needs no naming."""
    reason = message.split("): ", 1)[1] if message.startswith("answers.") and "): " in message else message
    reason = reason.removeprefix("file: ")
    return reason[:1].upper() + reason[1:]


def _errors_of(exc: CoreError, intake: IntakeForm) -> dict[str, str]:
    """The message to show next to each question or consent document the core named."""
    if isinstance(exc, IncompleteIntake):
        consent_ids = {consent.id for consent in intake.consent_documents}
        return {item: MISSING_CONSENT if item in consent_ids else MISSING_ANSWER for item in exc.missing}
    known = {question.id for question in intake.questions} | {
        consent.id for consent in intake.consent_documents
    }
    return {exc.field: _question_message(exc.message)} if exc.field in known else {}


async def _store_files(
    session: AsyncSession, runtime: Runtime, opened: Opened, posted: forms.PostedForm
) -> dict[str, IntakeFileView]:
    """Store the new uploads and drawn signatures; their ids become the answers."""
    stored: dict[str, IntakeFileView] = {}
    max_bytes = runtime.settings.max_upload_bytes
    for question_id, upload in posted.uploads:
        try:
            data = await attachments_service.read_limited(upload.read, max_bytes=max_bytes)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=question_id) from None
        finally:
            await upload.close()
        stored[question_id] = await _store_file(
            session,
            runtime,
            opened,
            question_id,
            name=(upload.filename or "file")[-200:],
            content_type=upload.content_type or "application/octet-stream",
            data=data,
        )
    for question_id, png in posted.signatures.items():
        stored[question_id] = await _store_file(
            session, runtime, opened, question_id, name="signature.png", content_type="image/png", data=png
        )
    for question_id, view in stored.items():
        posted.answers[question_id] = str(view.id)
    return stored


async def _store_file(
    session: AsyncSession,
    runtime: Runtime,
    opened: Opened,
    question_id: str,
    *,
    name: str,
    content_type: str,
    data: bytes,
) -> IntakeFileView:
    """One file through the core; a refusal names the question it was given for."""
    try:
        return await intakes_service.store_file(
            session,
            runtime.storage,
            intake_id=opened.intake.intake_id,
            question_id=question_id,
            name=name,
            content_type=content_type,
            data=data,
            clock=runtime.clock,
            max_bytes=runtime.settings.max_upload_bytes,
        )
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field=question_id, rule=exc.rule) from None


async def _post_answers(
    request: Request, session: AsyncSession, runtime: Runtime, intake_text: str, *, submitting: bool
) -> Response:
    try:
        opened = await _open(request, session, runtime, intake_text)
    except _Refused as refused:
        return refused.response
    access = opened.access
    if access is None or opened.submitted:
        if _wants_json(request):
            return JSONResponse(
                {"saved": False, "reload": True}, status_code=409, headers={"Cache-Control": "no-store"}
            )
        return _see_other(opened.path)
    form: FormData | None = None
    stored: dict[str, IntakeFileView] = {}
    try:
        form = await _read_body(request, runtime)
        if not access_cookie.csrf_matches(runtime.links, access, form.get("csrf_token")):
            return _message(
                request,
                403,
                "This form has expired",
                "The form did not come from this page. Go back, reload the page and try again.",
                opened.brand,
            )
        posted = forms.read_posted(form, opened.intake)
        async with session.begin_nested():
            stored = await _store_files(session, runtime, opened, posted)
        async with session.begin_nested():
            if submitting:
                await intakes_service.submit(
                    session,
                    intake_id=opened.intake.intake_id,
                    answers=posted.answers,
                    consents=posted.consents,
                    clock=runtime.clock,
                    actor=Actor("patient"),
                    base_url=runtime.settings.base_url,
                )
            else:
                await intakes_service.save_progress(
                    session,
                    intake_id=opened.intake.intake_id,
                    answers=posted.answers,
                    consents=posted.consents,
                    clock=runtime.clock,
                )
    except Conflict:
        return _see_other(opened.path)  # submitted meanwhile (another tab): the thank-you page
    except CoreError as exc:
        if submitting and form is not None:
            await _keep_progress(session, runtime, opened, form)
        return await _refused_answers(request, session, runtime, opened, exc, form, stored)
    if _wants_json(request):
        return JSONResponse(
            {"saved": True, "files": {question: _file_json(view) for question, view in stored.items()}},
            headers={"Cache-Control": "no-store"},
        )
    if submitting:
        redirect = _allowed_redirect(opened)
        return _see_other(redirect or opened.path)
    return _see_other(f"{opened.path}?saved=1")


def _file_json(view: IntakeFileView) -> dict[str, object]:
    return {"id": str(view.id), "name": view.name, "size": view.size}


async def _keep_progress(session: AsyncSession, runtime: Runtime, opened: Opened, form: FormData) -> None:
    """After a refused submit, keep what can be kept so that reopening the link shows it."""
    try:
        posted = forms.read_posted(form, opened.intake)
        async with session.begin_nested():
            await intakes_service.save_progress(
                session,
                intake_id=opened.intake.intake_id,
                answers=posted.answers,
                consents=posted.consents,
                clock=runtime.clock,
            )
    except CoreError:
        pass


async def _refused_answers(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    opened: Opened,
    exc: CoreError,
    form: FormData | None,
    stored: Mapping[str, IntakeFileView],
) -> Response:
    intake = await intakes_service.get_for_filling(session, intake_id=opened.intake.intake_id)
    errors = _errors_of(exc, intake)
    if _wants_json(request):
        return JSONResponse(
            {
                "saved": False,
                "error": exc.message,
                "errors": errors,
                "files": {question: _file_json(view) for question, view in stored.items()},
            },
            status_code=400,
            headers={"Cache-Control": "no-store"},
        )
    refreshed = Opened(opened.path, intake, opened.brand, opened.access)
    message = exc.message
    if isinstance(exc, IncompleteIntake):
        reason = message.removeprefix("answers: ")
        message = f"{reason[:1].upper()}{reason[1:]}. They are marked below."
    values = dict(forms.typed_values(form)) if form is not None else forms.stored_values(intake)
    for question_id, view in stored.items():
        values[f"file_{question_id}"] = [str(view.id)]
    return _form_page(
        request, runtime, refreshed, values=values, errors=errors, error=message, status_code=400
    )
