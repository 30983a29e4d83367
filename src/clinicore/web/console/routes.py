"""Clinic console pages: sign in and out, the shell, API keys."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.keys import KEY_FORMATS
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import RateLimited, Unauthorized
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.form_models import (
    CREATABLE_KINDS,
    ROTATABLE_KINDS,
    EmptyForm,
    KeyForm,
    SignInForm,
)
from clinicore.web.console.forms import Refusal, refusal_context, submit_form
from clinicore.web.console.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    new_login_csrf_token,
    safe_next_path,
)
from clinicore.web.templating import templates

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


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
async def login(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    client_ip = request.client.host if request.client else "unknown"

    async def act(form: SignInForm) -> Response:
        throttles = login_throttle_rules(runtime, form.email, client_ip)
        for rule, *key in throttles:
            decision = await runtime.rate_limiter.peek(rule, *key)
            if not decision.allowed:
                minutes = max(1, -(-decision.reset_after // 60))
                raise RateLimited(
                    f"Too many sign-in attempts. Try again in {minutes} minute(s).",
                    retry_after=decision.reset_after,
                )
        try:
            _user, opened = await tenancy_service.sign_in(
                session, email=form.email, password=form.password, clock=runtime.clock
            )
        except Unauthorized:
            for rule, *key in throttles:
                await runtime.rate_limiter.hit(rule, *key)
            raise Unauthorized("Wrong email or password.") from None
        email_rule, *email_key = throttles[0]
        await runtime.rate_limiter.clear(email_rule, *email_key)
        response = RedirectResponse(safe_next_path(form.next), status_code=303)
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

    async def refused(refusal: Refusal) -> Response:
        retry_after = refusal.error.retry_after if isinstance(refusal.error, RateLimited) else None
        return _login_failed(
            request,
            refusal.message,
            refusal.form.get("next"),
            status_code=refusal.status_code,
            headers={"Retry-After": str(retry_after)} if retry_after is not None else None,
        )

    return await submit_form(
        request,
        session,
        csrf_token=request.cookies.get(LOGIN_CSRF_COOKIE),
        form=SignInForm,
        act=act,
        refused=refused,
    )


def _login_failed(
    request: Request,
    message: str,
    next_path: str | None,
    *,
    status_code: int,
    headers: dict[str, str] | None = None,
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
async def logout(request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep) -> Response:
    async def act(_form: EmptyForm) -> Response:
        await tenancy_service.sign_out(session, signed_in=user, clock=runtime.clock)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=EmptyForm,
        act=act,
        refused=lambda refusal: _dashboard(request, user, session, refusal=refusal),
    )


async def _dashboard(
    request: Request, user: SignedInUser, session: SessionDep, *, refusal: Refusal | None = None
) -> Response:
    recent = await audit_service.recent_entries(session, clinic_id=user.clinic.id, limit=20)
    return render(
        request, "dashboard.html", **refusal_context(refusal), user=user, nav="dashboard", recent=recent
    )


@router.get("/console")
async def dashboard(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return await _dashboard(request, user, session)


async def _keys_page(
    request: Request,
    user: SignedInUser,
    session: SessionDep,
    runtime: Runtime,
    *,
    new_key: dict[str, str] | None = None,
    refusal: Refusal | None = None,
) -> Response:
    keys = await tenancy_service.list_keys(session, clinic_id=user.clinic.id)
    retrievable = {
        kind: await tenancy_service.reveal_key(session, box=runtime.box, clinic_id=user.clinic.id, kind=kind)
        for kind in ROTATABLE_KINDS
    }
    return render(
        request,
        "keys.html",
        **(refusal_context(refusal) | ({"status_code": 201} if new_key else {})),
        user=user,
        nav="keys",
        keys=keys,
        retrievable=retrievable,
        formats=KEY_FORMATS,
        creatable=CREATABLE_KINDS,
        new_key=new_key,
    )


@router.get("/console/keys")
async def keys_page(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _keys_page(request, user, session, runtime)


@router.post("/console/keys")
async def create_key(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: KeyForm) -> Response:
        created = await tenancy_service.create_key(
            session,
            box=runtime.box,
            kind=form.kind,
            name=form.name,
            clinic_id=user.clinic.id,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        new_key = {"label": KEY_FORMATS[form.kind].label, "name": created.key.name, "secret": created.secret}
        # The page that shows a new key is a POST response (201), never a redirect: the key stays out of URLs.
        return await _keys_page(request, user, session, runtime, new_key=new_key)

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=KeyForm,
        act=act,
        refused=lambda refusal: _keys_page(request, user, session, runtime, refusal=refusal),
    )


@router.post("/console/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, key_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(_form: EmptyForm) -> str:
        await tenancy_service.revoke_key(
            session,
            clinic_id=user.clinic.id,
            key_id=key_id,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return "/console/keys"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=EmptyForm,
        act=act,
        refused=lambda refusal: _keys_page(request, user, session, runtime, refusal=refusal),
    )
