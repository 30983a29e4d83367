"""Provider desk sign-in state: its own cookie (never the console's), the dependency that requires a
signed-in provider, and the route class that answers a missing session or a refusal as the desk does."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from clinicore.core.accounts import service as accounts_service
from clinicore.core.accounts.service import SignedInDesk, SignInThrottle
from clinicore.core.models import DeskAccountKind, Provider
from clinicore.kit.errors import Forbidden
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.provider.pages import render

DESK = "/provider"
SESSION_COOKIE = "clinicore_provider_session"
LOGIN_CSRF_COOKIE = "clinicore_provider_login_csrf"
SIGN_IN_PATH = f"{DESK}/sign-in"


class ProviderSignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def sign_in_url(next_path: str) -> str:
    return f"{SIGN_IN_PATH}?next={quote(next_path, safe='/')}"


def safe_next_path(candidate: str | None) -> str:
    """Only paths of the desk: never another host (``//evil``), a scheme or another audience's page."""
    if candidate and candidate.startswith(DESK) and "//" not in candidate and "\\" not in candidate:
        return candidate
    return DESK


def new_login_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def sign_in_throttle(runtime: Runtime) -> SignInThrottle:
    settings = runtime.settings
    return SignInThrottle(
        runtime.rate_limiter, settings.login_attempts_per_window, settings.login_window_seconds
    )


async def current_provider_session(
    request: Request, session: SessionDep, runtime: RuntimeDep
) -> SignedInDesk:
    token = request.cookies.get(SESSION_COOKIE)
    signed_in = (
        await accounts_service.signed_in(
            session, kind=DeskAccountKind.provider, token=token, clock=runtime.clock
        )
        if token
        else None
    )
    if signed_in is None or not isinstance(signed_in.account, Provider):
        raise ProviderSignInRequired(request.url.path)
    return signed_in


CurrentProvider = Annotated[SignedInDesk, Depends(current_provider_session)]


class ProviderDeskRoute(APIRoute):
    """A missing session sends the browser to the desk's sign-in; a ``Forbidden`` is the 403 page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except ProviderSignInRequired as exc:
                return RedirectResponse(sign_in_url(exc.next_path), status_code=303)
            except Forbidden as exc:
                return render(
                    request, "provider/error.html", status_code=403, title="Not allowed", message=exc.message
                )

        return answer
