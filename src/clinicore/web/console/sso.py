"""Single sign-on into the console at the root of the white-label host (IntakeQ's
``/signin/authenticate``): a partner's ephemeral token opens a one-hour console session of a practice's
practitioner or assistant, and the browser goes to the dashboard or the page named by ``path``.

Query parameter names are matched without case, as IntakeQ's ASP.NET does. A refused token shows a
sign-in error page in the practice's brand (when the token is one of ours) with a 401, never a 500.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinicore.core.staff import sign_in as staff_sign_in
from clinicore.core.tenancy.brand import Brand, brand_for_clinic
from clinicore.kit.errors import Unauthorized
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.web.console.frame import set_frame_origins
from clinicore.web.console.session import SESSION_COOKIE
from clinicore.web.templating import templates

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}
MAX_QUERY_VALUE = 200
DASHBOARD = "/console"
# IntakeQ's ``path`` values and the console page each opens; ``intake`` takes the intake's id in
# ``pathKey``. Anything else opens the dashboard.
PAGES = {
    "intakes": "/console/intakes",
    "templates": "/console/forms",
    "settings": "/console/settings",
    "report": "/console/reports",
    "reports": "/console/reports",
}


def _query(request: Request, name: str) -> str | None:
    wanted = name.lower()
    for key, value in request.query_params.multi_items():
        if key.lower() == wanted:
            return value if len(value) <= MAX_QUERY_VALUE else ""
    return None


def landing_page(path: str | None, path_key: str | None) -> str:
    """Where a signed-on user goes: only our own console paths, never a value taken as a URL."""
    wanted = (path or "").strip().lower()
    if wanted == "intake":
        try:
            return f"/console/intakes/{uuid.UUID((path_key or '').strip())}"
        except ValueError:
            return PAGES["intakes"]
    return PAGES.get(wanted, DASHBOARD)


def _page(request: Request, template: str, status_code: int, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, template, {"user": None, **context}, status_code=status_code, headers=NO_STORE
    )


@router.get("/signin/authenticate")
async def authenticate(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    token = _query(request, "token")
    try:
        signed_on = await staff_sign_in.sign_in_with_token(
            session, token=token, user=_query(request, "userId"), clock=runtime.clock
        )
    except Unauthorized as refusal:
        # Answered, not raised: the token stays used even though the sign-in was refused.
        clinic_id = await staff_sign_in.clinic_of_token(session, token=token)
        brand = await brand_for_clinic(session, clinic_id) if clinic_id is not None else None
        return _refused(request, refusal.message, brand)
    brand = await brand_for_clinic(session, signed_on.user.clinic_id)
    response = RedirectResponse(landing_page(_query(request, "path"), _query(request, "pathKey")), 303)
    secure = runtime.settings.secure_cookies
    response.set_cookie(
        SESSION_COOKIE,
        signed_on.opened.token,
        max_age=int(staff_sign_in.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        # Embedded in a partner's page on another site, the cookie must travel in a third-party frame,
        # which browsers allow for SameSite=None over HTTPS only; otherwise Lax, as the console's own.
        samesite="none" if secure and brand.frame_origins else "lax",
        secure=secure,
        path="/",
    )
    response.headers.update(NO_STORE)
    return response


def _refused(request: Request, message: str, brand: Brand | None) -> Response:
    if brand is not None:
        set_frame_origins(request, brand.frame_origins)
    return _page(request, "sso_refused.html", 401, brand=brand, message=message)


@router.get("/signin/out")
async def signed_out(request: Request) -> Response:
    """Where the console goes after ``iq_logout`` ended its session. It holds nothing and does nothing, so
    any parent may show it: after signing out the page no longer knows whose frame origins to allow."""
    response = _page(request, "sso_signed_out.html", 200)
    response.headers["Content-Security-Policy"] = "frame-ancestors *"
    return response
