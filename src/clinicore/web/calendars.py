"""Public iCalendar feeds: ``GET /calendars/{token}.ics``. No sign-in: the secret token in the URL is the
credential (calendar apps cannot sign in), so an unknown or rotated token is simply not found."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from clinicore.core.scheduling import feeds as feed_service
from clinicore.kit.errors import NotFound
from clinicore.requests import RuntimeDep, SessionDep

router = APIRouter(include_in_schema=False)

# A rotated token must stop working at once, so no cache (ours or a proxy's) may keep the feed.
FEED_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


@router.get("/calendars/{token}.ics")
async def calendar_feed(token: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    domain = urlsplit(runtime.settings.base_url).hostname or "clinicore"
    try:
        feed = await feed_service.calendar_feed(session, token=token, domain=domain, clock=runtime.clock)
    except NotFound:
        return PlainTextResponse("calendar not found", status_code=404, headers=FEED_HEADERS)
    return Response(
        feed.body,
        media_type="text/calendar; charset=utf-8",
        headers={**FEED_HEADERS, "Content-Disposition": 'inline; filename="calendar.ics"'},
    )
