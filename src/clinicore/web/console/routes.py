"""Clinic console pages: sign in and out, the shell, API keys."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import ApiKeyKind
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.keys import KEY_FORMATS
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import InvalidInput, Unauthorized
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    check_csrf,
    new_login_csrf_token,
    safe_next_path,
)
from clinicore.web.templating import templates

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}
# Keys a console user creates and sees once; Qualiphy and IntakeQ practice keys are rotated instead.
CREATABLE_KINDS = (ApiKeyKind.qualifybase, ApiKeyKind.native)
ROTATABLE_KINDS = (ApiKeyKind.qualiphy, ApiKeyKind.intakeq_practice)
FormField = Annotated[str, Form()]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code, headers=NO_STORE)


# Per address the allowance is wider: one office shares an address, and an attacker rotates emails.
ATTEMPTS_PER_ADDRESS_FACTOR = 10


def login_throttle_rules(runtime: Runtime, email: str, client_ip: str) -> list[tuple[str, str, str]]:
    """(rule, namespace, identifier) for each limit a failed sign-in counts against."""
    attempts, window = runtime.settings.login_attempts_per_window, runtime.settings.login_window_seconds
    return [
        (f"{attempts}/{window} seconds", "login-email", email.strip().lower()),
        (f"{attempts * ATTEMPTS_PER_ADDRESS_FACTOR}/{window} seconds", "login-ip", client_ip),
    ]


@router.get("/")
async def home(request: Request) -> Response:
    return RedirectResponse("/console", status_code=303)


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    token = new_login_csrf_token()
    response = render(request, "login.html", csrf_token=token, next=safe_next_path(next), error=None)
    _set_login_csrf_cookie(request, response, token)
    return response


def _set_login_csrf_cookie(request: Request, response: Response, token: str) -> None:
    runtime: Runtime = request.app.state.runtime
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=runtime.settings.secure_cookies,
        path="/login",
    )


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    email: FormField = "",
    password: FormField = "",
    csrf_token: FormField = "",
    next: FormField = "/console",
) -> Response:
    check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token)
    client_ip = request.client.host if request.client else "unknown"
    throttles = login_throttle_rules(runtime, email, client_ip)
    for rule, *key in throttles:
        decision = await runtime.rate_limiter.peek(rule, *key)
        if not decision.allowed:
            minutes = max(1, -(-decision.reset_after // 60))
            return _login_failed(
                request,
                f"Too many sign-in attempts. Try again in {minutes} minute(s).",
                next,
                status_code=429,
                headers={"Retry-After": str(decision.reset_after)},
            )
    try:
        _user, opened = await tenancy_service.sign_in(
            session, email=email, password=password, clock=runtime.clock
        )
    except Unauthorized:
        for rule, *key in throttles:
            await runtime.rate_limiter.hit(rule, *key)
        return _login_failed(request, "Wrong email or password.", next, status_code=401)
    email_rule, *email_key = throttles[0]
    await runtime.rate_limiter.clear(email_rule, *email_key)
    response = RedirectResponse(safe_next_path(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=int(tenancy_service.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=runtime.settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _login_failed(
    request: Request, message: str, next_path: str, *, status_code: int, headers: dict[str, str] | None = None
) -> Response:
    token = new_login_csrf_token()
    response = render(
        request,
        "login.html",
        status_code=status_code,
        csrf_token=token,
        next=safe_next_path(next_path),
        error=message,
    )
    response.headers.update(headers or {})
    _set_login_csrf_cookie(request, response, token)
    return response


@router.post("/logout")
async def logout(
    user: CurrentUser, session: SessionDep, runtime: RuntimeDep, csrf_token: FormField = ""
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    await tenancy_service.sign_out(session, signed_in=user, clock=runtime.clock)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/console")
async def dashboard(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    recent = await audit_service.recent_entries(session, clinic_id=user.clinic.id, limit=20)
    return render(request, "dashboard.html", user=user, nav="dashboard", recent=recent)


async def _keys_page(
    request: Request,
    user: SignedInUser,
    session: SessionDep,
    runtime: Runtime,
    *,
    new_key: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    keys = await tenancy_service.list_keys(session, clinic_id=user.clinic.id)
    retrievable = {
        kind: await tenancy_service.reveal_key(session, box=runtime.box, clinic_id=user.clinic.id, kind=kind)
        for kind in ROTATABLE_KINDS
    }
    return render(
        request,
        "keys.html",
        status_code=status_code,
        user=user,
        nav="keys",
        keys=keys,
        retrievable=retrievable,
        formats=KEY_FORMATS,
        creatable=CREATABLE_KINDS,
        new_key=new_key,
        error=error,
    )


@router.get("/console/keys")
async def keys_page(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _keys_page(request, user, session, runtime)


@router.post("/console/keys")
async def create_key(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    kind: FormField = "",
    name: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    if kind not in CREATABLE_KINDS and kind not in ROTATABLE_KINDS:
        return await _keys_page(request, user, session, runtime, error="Choose a key kind.", status_code=400)
    try:
        created = await tenancy_service.create_key(
            session,
            box=runtime.box,
            kind=ApiKeyKind(kind),
            name=name,
            clinic_id=user.clinic.id,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
    except InvalidInput as exc:
        return await _keys_page(request, user, session, runtime, error=exc.message, status_code=400)
    new_key = {
        "label": KEY_FORMATS[ApiKeyKind(kind)].label,
        "name": created.key.name,
        "secret": created.secret,
    }
    # The page that shows a new key is a POST response, never a redirect: the key stays out of URLs.
    return await _keys_page(request, user, session, runtime, new_key=new_key, status_code=201)


@router.post("/console/keys/{key_id}/revoke")
async def revoke_key(
    request: Request,
    key_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    await tenancy_service.revoke_key(
        session, clinic_id=user.clinic.id, key_id=key_id, actor=Actor.user(user.user.id), clock=runtime.clock
    )
    return RedirectResponse("/console/keys", status_code=303)
