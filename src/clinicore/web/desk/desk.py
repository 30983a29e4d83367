"""One desk (``/provider``, ``/pharmacy``): the people of one kind of desk account, signing in at
``<path>/sign-in`` to pages of their own.

- Its own session cookie, scoped to the desk's path (never the console's cookie, never another desk's),
  and a login CSRF cookie scoped to the sign-in page.
- ``current`` is the dependency that requires a signed-in account of the desk's kind; a missing or
  expired session sends the browser to the sign-in page, back to where it was going afterwards (a path
  of the same desk only).
- ``route_class`` answers that redirect, and a core ``Forbidden`` as the desk's 403 page.
- ``render`` shows a template from the desk's own folder or the shared ``desk/`` one, never cached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from clinicore.core.accounts import service as accounts_service
from clinicore.core.accounts.service import SignedInDesk
from clinicore.core.models import DeskAccountKind
from clinicore.kit.errors import Forbidden
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.web.console.forms import Refusal

SHARED_TEMPLATES = Path(__file__).parent / "templates"
# Desk pages show patient records: never cached by a browser or a proxy.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class DeskSignInRequired(Exception):
    def __init__(self, sign_in_url: str) -> None:
        self.sign_in_url = sign_in_url


class Desk:
    def __init__(self, *, kind: DeskAccountKind, path: str, title: str, templates: Path) -> None:
        self.kind = kind
        self.path = path
        self.title = title
        name = path.strip("/")
        self.session_cookie = f"clinicore_{name}_session"
        self.login_csrf_cookie = f"clinicore_{name}_login_csrf"
        self.sign_in_path = f"{path}/sign-in"
        environment = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(templates)), FileSystemLoader(str(SHARED_TEMPLATES))]),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.globals.update(desk_path=path, desk_title=title)
        self.templates = Jinja2Templates(env=environment)
        self.route_class = _route_class(self)

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return self.templates.TemplateResponse(
            request, template, context, status_code=status_code, headers=NO_STORE
        )

    def sign_in_url(self, next_path: str) -> str:
        return f"{self.sign_in_path}?next={quote(next_path, safe='/')}"

    def safe_next_path(self, candidate: str | None) -> str:
        """Only paths of this desk: never another host (``//evil``), a scheme or another audience's page."""
        if (
            candidate
            and (candidate == self.path or candidate.startswith(f"{self.path}/"))
            and "//" not in candidate
            and "\\" not in candidate
        ):
            return candidate
        return self.path

    async def current(self, request: Request, session: SessionDep, runtime: RuntimeDep) -> SignedInDesk:
        """The signed-in account of this desk (a FastAPI dependency)."""
        token = request.cookies.get(self.session_cookie)
        signed_in = (
            await accounts_service.signed_in(session, kind=self.kind, token=token, clock=runtime.clock)
            if token
            else None
        )
        if signed_in is None:
            raise DeskSignInRequired(self.sign_in_url(request.url.path))
        return signed_in

    def error_page(self, request: Request, *, status_code: int, title: str, message: str) -> HTMLResponse:
        return self.render(request, "desk/error.html", status_code=status_code, title=title, message=message)


def forbidden_first(
    show: Callable[[Refusal], Awaitable[Response]],
) -> Callable[[Refusal], Awaitable[Response]]:
    """A refusal that is a ``Forbidden`` is the desk's 403 page, never the form again."""

    async def refused(refusal: Refusal) -> Response:
        if isinstance(refusal.error, Forbidden):
            raise refusal.error
        return await show(refusal)

    return refused


def _route_class(desk: Desk) -> type[APIRoute]:
    class DeskRoute(APIRoute):
        """A missing session sends the browser to the desk's sign-in; a ``Forbidden`` is the 403 page."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def answer(request: Request) -> Response:
                try:
                    return await handler(request)
                except DeskSignInRequired as exc:
                    return RedirectResponse(exc.sign_in_url, status_code=303)
                except Forbidden as exc:
                    return desk.error_page(request, status_code=403, title="Not allowed", message=exc.message)

            return answer

    return DeskRoute
