"""Clinic console pages: sign in and out, the shell, API keys (the admin's: core/tenancy/permissions.py)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.deactivation import CLINIC_INACTIVE
from clinicore.core.tenancy.keys import KEY_FORMATS
from clinicore.core.tenancy.permissions import Permission
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
    client_address,
    expected_login_csrf,
    new_login_csrf,
    require,
    safe_next_path,
    sign_in_throttle,
)
from clinicore.web.templating import templates

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}
KEY_MANAGER = require(Permission.manage_keys)  # the retrievable Qualiphy and IntakeQ keys included


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code, headers=NO_STORE)


@router.get("/")
async def home(request: Request) -> Response:
    return RedirectResponse("/console", status_code=303)


@router.get("/login")
async def login_page(request: Request, runtime: RuntimeDep, next: str | None = None) -> Response:
    return _login_page(request, runtime, next_path=next, error=None, status_code=200)


def _login_page(
    request: Request,
    runtime: Runtime,
    *,
    next_path: str | None,
    error: str | None,
    status_code: int,
    headers: dict[str, str] | None = None,
) -> Response:
    """The sign-in page with a new pre-session cookie and the form token bound to it (login CSRF)."""
    pre_session_id, token = new_login_csrf(runtime)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        csrf_token=token,
        next=safe_next_path(next_path),
        error=error,
    )
    response.headers.update(headers or {})
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        pre_session_id,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=runtime.settings.secure_cookies,
        path="/login",
    )
    return response


@router.post("/login")
async def login(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    async def act(form: SignInForm) -> Response:
        try:
            _user, opened = await tenancy_service.sign_in(
                session,
                email=form.email,
                password=form.password,
                client_address=client_address(request),
                throttle=sign_in_throttle(runtime),
                clock=runtime.clock,
            )
        except Unauthorized as refused:
            if refused.rule == CLINIC_INACTIVE:
                raise Unauthorized("This clinic is deactivated: ask Clinicore's operator.") from None
            raise Unauthorized("Wrong email or password.") from None
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
        return _login_page(
            request,
            runtime,
            next_path=refusal.form.get("next"),
            error=refusal.message,
            status_code=refusal.status_code,
            headers={"Retry-After": str(retry_after)} if retry_after is not None else None,
        )

    return await submit_form(
        request,
        session,
        csrf_token=expected_login_csrf(request, runtime),
        form=SignInForm,
        act=act,
        refused=refused,
    )


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


@router.get("/console/keys", dependencies=[KEY_MANAGER])
async def keys_page(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _keys_page(request, user, session, runtime)


@router.post("/console/keys", dependencies=[KEY_MANAGER])
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


@router.post("/console/keys/{key_id}/revoke", dependencies=[KEY_MANAGER])
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
