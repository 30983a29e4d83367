"""Console sign-in state: the session cookie, the CSRF checks and the dependency that requires a user."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.crypto import digests_match
from clinicore.requests import RuntimeDep, SessionDep, bind_clinic

SESSION_COOKIE = "clinicore_session"
LOGIN_CSRF_COOKIE = "clinicore_login_csrf"


class SignInRequired(Exception):
    """Raised by page dependencies; the console answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class CsrfRejected(Exception):
    """A form arrived without the token of the page we served."""


def sign_in_url(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='/')}"


def safe_next_path(candidate: str | None) -> str:
    """Only local absolute paths: never another host (``//evil``) or a scheme."""
    if candidate and candidate.startswith("/") and not candidate.startswith("//") and "\\" not in candidate:
        return candidate
    return "/console"


async def current_user(request: Request, session: SessionDep, runtime: RuntimeDep) -> SignedInUser:
    token = request.cookies.get(SESSION_COOKIE)
    signed_in = (
        await tenancy_service.signed_in_user(session, token=token, clock=runtime.clock) if token else None
    )
    if signed_in is None:
        raise SignInRequired(request.url.path)
    bind_clinic(request, signed_in.clinic.id)
    return signed_in


CurrentUser = Annotated[SignedInUser, Depends(current_user)]


def check_csrf(expected: str | None, submitted: str | None) -> None:
    if not expected or not submitted or not digests_match(expected, submitted):
        raise CsrfRejected


def new_login_csrf_token() -> str:
    return secrets.token_urlsafe(32)
