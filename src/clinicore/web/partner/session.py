"""Partner console sign-in state: its own session cookie (scoped to ``/partner``, never the clinic
console's nor a desk's), the sign-in page's login CSRF (a pre-session cookie and the form's HMAC of it,
kit/login_csrf.py, purpose ``partner``), the dependency that requires a signed-in
partner user, the pages' renderer and the route class that turns a missing session into a redirect to
the sign-in page and a core refusal into the console's own error page."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from clinicore.core.partners import service as partner_service
from clinicore.core.partners.service import SignedInPartnerUser
from clinicore.kit import login_csrf
from clinicore.kit.errors import Forbidden, NotFound
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.templating import WEB_DIR

PATH = "/partner"
SIGN_IN_PATH = f"{PATH}/login"
SESSION_COOKIE = "clinicore_partner_session"
LOGIN_CSRF_COOKIE = "clinicore_partner_login_csrf"
LOGIN_CSRF_PURPOSE = "partner"  # a console's or a desk's sign-in token opens no partner sign-in
# The partner console shows practices' names and settings: never cached by a browser or a proxy.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}

_environment = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(str(Path(__file__).parent / "templates")),
            FileSystemLoader(str(WEB_DIR / "form_builder" / "templates")),  # form_builder/macros.html
        ]
    ),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_environment)


class PartnerSignInRequired(Exception):
    def __init__(self, sign_in_url: str) -> None:
        self.sign_in_url = sign_in_url


def sign_in_url(next_path: str) -> str:
    return f"{SIGN_IN_PATH}?next={quote(next_path, safe='/')}"


def safe_next_path(candidate: str | None) -> str:
    """Only partner console paths: never another host (``//evil``), a scheme or another audience's page."""
    if (
        candidate
        and (candidate == PATH or candidate.startswith(f"{PATH}/"))
        and "//" not in candidate
        and "\\" not in candidate
    ):
        return candidate
    return PATH


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code, headers=NO_STORE)


def error_page(
    request: Request,
    *,
    status_code: int,
    title: str,
    message: str,
    signed_in: SignedInPartnerUser | None = None,
) -> HTMLResponse:
    return render(
        request, "partner/error.html", status_code=status_code, title=title, message=message, me=signed_in
    )


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


async def current_partner_user(
    request: Request, session: SessionDep, runtime: RuntimeDep
) -> SignedInPartnerUser:
    """The signed-in partner user (a FastAPI dependency); none sends the browser to the sign-in page."""
    token = request.cookies.get(SESSION_COOKIE)
    signed_in = (
        await partner_service.signed_in(session, token=token[:200], clock=runtime.clock) if token else None
    )
    if signed_in is None:
        raise PartnerSignInRequired(sign_in_url(request.url.path))
    return signed_in


CurrentPartnerUser = Annotated[SignedInPartnerUser, Depends(current_partner_user)]


class PartnerRoute(APIRoute):
    """A missing session is a redirect to the sign-in page; an address whose parameters do not read (a
    page number that is not one, an overlong id) the console's 400 page; an unknown id its 404 page; a
    ``Forbidden`` its 403 page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except PartnerSignInRequired as exc:
                return RedirectResponse(exc.sign_in_url, status_code=303)
            except RequestValidationError:
                return error_page(
                    request,
                    status_code=400,
                    title="Cannot read this address",
                    message="A part of this address is too long or not what the page expects.",
                )
            except NotFound:
                return error_page(
                    request, status_code=404, title="Not found", message="There is nothing at this address."
                )
            except Forbidden as exc:
                return error_page(request, status_code=403, title="Not allowed", message=exc.message)

        return answer
