"""A desk's sign-in page, sign-in and sign-out: the same for every desk (desk.py), in the core's words
(core/accounts/service.py: argon2id, throttling, server-side sessions). The sign-in form's token is
bound to a pre-session cookie by an HMAC of the secret key (kit/login_csrf.py), the desk's cookie name
its purpose."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from clinicore.core.accounts import service as accounts_service
from clinicore.core.accounts.service import SignedInDesk
from clinicore.kit import login_csrf
from clinicore.kit.errors import RateLimited
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.forms import Refusal, submit_form
from clinicore.web.console.session import client_address, sign_in_throttle
from clinicore.web.desk.desk import Desk
from clinicore.web.desk.forms import EmptyForm, SignInForm

SIGNED_OUT = "signed-out"
SIGNED_OUT_NOTICE = "You are signed out."


def sign_in_router(desk: Desk) -> APIRouter:
    """``GET``/``POST <desk>/sign-in`` and ``POST <desk>/sign-out``."""
    router = APIRouter(include_in_schema=False, route_class=desk.route_class)

    def sign_in_page(
        request: Request,
        runtime: Runtime,
        *,
        next_path: str | None,
        error: str | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Response:
        pre_session_id = login_csrf.new_pre_session_id()
        token = login_csrf.login_token(
            runtime.settings.secret_key, purpose=desk.login_csrf_cookie, pre_session_id=pre_session_id
        )
        response = desk.render(
            request,
            "desk/sign_in.html",
            status_code=status_code,
            csrf_token=token,
            next=desk.safe_next_path(next_path),
            error=error,
            notice=SIGNED_OUT_NOTICE if notice == SIGNED_OUT else None,
        )
        response.set_cookie(
            desk.login_csrf_cookie,
            pre_session_id,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=runtime.settings.secure_cookies,
            path=desk.sign_in_path,
        )
        return response

    @router.get(desk.sign_in_path)
    async def show_sign_in(
        request: Request,
        runtime: RuntimeDep,
        next: Annotated[str, Query(max_length=2000)] = "",
        notice: Annotated[str, Query(max_length=20)] = "",
    ) -> Response:
        return sign_in_page(request, runtime, next_path=next, notice=notice)

    @router.post(desk.sign_in_path)
    async def sign_in(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
        async def act(form: SignInForm) -> Response:
            opened = await accounts_service.sign_in(
                session,
                kind=desk.kind,
                email=form.email,
                password=form.password,
                client_address=client_address(request),
                throttle=sign_in_throttle(runtime),
                clock=runtime.clock,
            )
            response = RedirectResponse(desk.safe_next_path(form.next), status_code=303)
            response.set_cookie(
                desk.session_cookie,
                opened.token,
                max_age=int(accounts_service.SESSION_LIFETIME.total_seconds()),
                httponly=True,
                samesite="lax",
                secure=runtime.settings.secure_cookies,
                path=desk.path,
            )
            response.delete_cookie(desk.login_csrf_cookie, path=desk.sign_in_path)
            return response

        async def refused(refusal: Refusal) -> Response:
            response = sign_in_page(
                request,
                runtime,
                next_path=refusal.form.get("next"),
                error=refusal.message,
                status_code=refusal.status_code,
            )
            if isinstance(refusal.error, RateLimited):
                response.headers["Retry-After"] = str(refusal.error.retry_after)
            return response

        return await submit_form(
            request,
            session,
            csrf_token=login_csrf.expected_login_token(
                runtime.settings.secret_key,
                purpose=desk.login_csrf_cookie,
                pre_session_id=request.cookies.get(desk.login_csrf_cookie),
            ),
            form=SignInForm,
            act=act,
            refused=refused,
        )

    @router.post(f"{desk.path}/sign-out")
    async def sign_out(
        request: Request,
        session: SessionDep,
        runtime: RuntimeDep,
        signed_in: SignedInDesk = Depends(desk.current),
    ) -> Response:
        async def act(_form: EmptyForm) -> Response:
            await accounts_service.sign_out(session, signed_in=signed_in, clock=runtime.clock)
            response = RedirectResponse(f"{desk.sign_in_path}?notice={SIGNED_OUT}", status_code=303)
            response.delete_cookie(desk.session_cookie, path=desk.path)
            return response

        async def refused(refusal: Refusal) -> Response:
            return desk.error_page(
                request, status_code=refusal.status_code, title="Not signed out", message=refusal.message
            )

        return await submit_form(
            request,
            session,
            csrf_token=signed_in.desk_session.csrf_token,
            form=EmptyForm,
            act=act,
            refused=refused,
        )

    return router
