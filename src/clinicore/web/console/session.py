"""Console sign-in state: the session cookie, the CSRF checks and the dependency that requires a user."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request

from clinicore.core.staff import sign_in as staff_sign_in
from clinicore.core.tenancy import permissions as permission_table
from clinicore.core.tenancy.brand import brand_for_clinic
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.core.tenancy.sign_in_throttle import SignInThrottle
from clinicore.kit import login_csrf
from clinicore.kit.crypto import digests_match
from clinicore.requests import RuntimeDep, SessionDep, bind_clinic
from clinicore.runtime import Runtime
from clinicore.web.console.frame import set_frame_origins

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
        await staff_sign_in.signed_in_user(session, token=token, clock=runtime.clock) if token else None
    )
    if signed_in is None:
        raise SignInRequired(request.url.path)
    bind_clinic(request, signed_in.clinic.id)
    brand = await brand_for_clinic(session, signed_in.clinic.id)
    set_frame_origins(request, brand.frame_origins)
    state = request.scope.setdefault("state", {})
    state["brand"] = brand  # base.html's colours and logo (white-label)
    # What the user may do: require() checks it, base.html shows only the pages it opens.
    state["permissions"] = await staff_sign_in.console_permissions(session, signed_in=signed_in)
    return signed_in


CurrentUser = Annotated[SignedInUser, Depends(current_user)]


def require(permission: Permission) -> Any:
    """A page dependency: the signed-in user, whose role must hold ``permission`` (else a 403 page)."""

    async def dependency(request: Request, user: CurrentUser) -> SignedInUser:
        permission_table.check(request.state.permissions, permission)
        return user

    dependency.required_permission = permission  # type: ignore[attr-defined]  # read by the route table test
    return Depends(dependency)


def check_csrf(expected: str | None, submitted: str | None) -> None:
    if not expected or not submitted or not digests_match(expected, submitted):
        raise CsrfRejected


LOGIN_CSRF_PURPOSE = "console"


def new_login_csrf(runtime: Runtime) -> tuple[str, str]:
    """(pre-session id for the cookie, token for the form) of a new sign-in page (kit/login_csrf.py)."""
    pre_session_id = login_csrf.new_pre_session_id()
    token = login_csrf.login_token(
        runtime.settings.secret_key, purpose=LOGIN_CSRF_PURPOSE, pre_session_id=pre_session_id
    )
    return pre_session_id, token


def expected_login_csrf(request: Request, runtime: Runtime) -> str | None:
    """The token the sign-in form must carry: the HMAC of the pre-session cookie (None without one)."""
    return login_csrf.expected_login_token(
        runtime.settings.secret_key,
        purpose=LOGIN_CSRF_PURPOSE,
        pre_session_id=request.cookies.get(LOGIN_CSRF_COOKIE),
    )


def sign_in_throttle(runtime: Runtime) -> SignInThrottle:
    """The password sign-ins' throttle (the console's and the desks'), from the settings."""
    settings = runtime.settings
    return SignInThrottle(
        runtime.rate_limiter,
        settings.login_attempts_per_window,
        settings.login_window_seconds,
        settings.login_account_attempts_per_minute,
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
