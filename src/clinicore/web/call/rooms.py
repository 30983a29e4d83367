"""The video room of a telehealth appointment (``core/scheduling/video_rooms.py``): its page and its call.

- ``GET /rooms/<room_id>/host?expires=…&signature=…``: the practitioner's start link;
- ``GET /rooms/<room_id>/join?expires=…&signature=…``: the client's join link.
No sign-in: the signed link is the credential (as a meeting link is). A wrong link is a 404 page, a
genuine link past its expiry or the room of a cancelled, declined or deleted appointment a 410 page, in
the practice's look. The page runs the consultation call's script (``static/call.js``); its WebSocket
``/rooms/<room_id>/<side>/call`` (same query) is checked the same way and then served by the
consultation call's signalling (``web/call/routes.py``): the practitioner on the provider's side (it
makes the offer), the client on the patient's. Pages are never cached and never send a Referer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from clinicore.core.models import Clinic
from clinicore.core.scheduling import details, notices, video_rooms
from clinicore.core.scheduling.video_rooms import OpenedRoom, RoomSide
from clinicore.core.telehealth.call import CallSeat
from clinicore.core.tenancy.brand import Brand, brand_for_clinic
from clinicore.kit.errors import Conflict, CoreError, NotFound
from clinicore.requests import RuntimeDep, SessionDep, bind_clinic
from clinicore.runtime import Runtime
from clinicore.web.call.routes import _runtime, _same_origin, _serve
from clinicore.web.patient.routes import _look_css as look_css
from clinicore.web.templating import WEB_DIR

router = APIRouter(include_in_schema=False)

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(
            [str(WEB_DIR / "call" / "templates"), str(WEB_DIR / "patient" / "templates")]
        ),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
)

PAGE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
LONGEST_SIGNATURE = 64


async def _open(
    connection: HTTPConnection, session: AsyncSession, runtime: Runtime, room_id: str, side: str
) -> OpenedRoom:
    signature = connection.query_params.get("signature", "")
    if len(signature) > LONGEST_SIGNATURE or len(room_id) > 40:
        raise NotFound("video room not found", field="room_id")
    return await video_rooms.open_room(
        session,
        room_id=room_id,
        side=side,
        signature=signature,
        expires=connection.query_params.get("expires"),
        links=runtime.links,
        clock=runtime.clock,
    )


def _look_context(look: Brand | None) -> dict[str, Any]:
    return {"look": look, "look_css": look_css(look)}


def _closed(request: Request, status_code: int, title: str, message: str, look: Brand | None) -> Response:
    return templates.TemplateResponse(
        request,
        "closed.html",
        {**_look_context(look), "title": title, "message": message},
        status_code=status_code,
        headers=PAGE_HEADERS,
    )


async def _refusal_look(session: AsyncSession, error: CoreError, room_id: str) -> Brand | None:
    """The practice's look for a genuine link that does not open (expired, cancelled)."""
    if isinstance(error, NotFound):
        return None
    room = await video_rooms.room_by_text_id(session, room_id)
    if room is None or await session.get(Clinic, room.clinic_id) is None:
        return None
    return await brand_for_clinic(session, room.clinic_id)


@router.get("/rooms/{room_id}/{side}")
async def room_page(
    request: Request, room_id: str, side: str, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        opened = await _open(request, session, runtime, room_id, side)
    except (NotFound, Conflict) as error:
        look = await _refusal_look(session, error, room_id)
        if isinstance(error, NotFound):
            return _closed(
                request,
                404,
                "Link not found",
                "This video link is not valid. Ask the practice for a new one.",
                None,
            )
        if error.rule == "video_room.link_expired":
            return _closed(request, 410, "Link expired", "This video link has expired.", look)
        return _closed(
            request,
            410,
            "Video visit cancelled",
            "This appointment was cancelled, declined or removed: its video room is closed.",
            look,
        )
    bind_clinic(request, opened.room.clinic_id)
    view = await details.view_of(session, opened.appointment)
    look = await brand_for_clinic(session, opened.room.clinic_id)
    query = urlencode(
        {
            "expires": request.query_params.get("expires", ""),
            "signature": request.query_params.get("signature", ""),
        }
    )
    seat = opened.seat()
    return templates.TemplateResponse(
        request,
        "room.html",
        {
            **_look_context(look),
            "side": opened.side.value,
            "call_role": seat.role.value,
            "call_url": f"{video_rooms.room_path(opened.room.id, opened.side)}/call?{query}",
            "ice_servers": runtime.settings.ice_server_list,
            "what": f"{view.service_name or view.title} with {view.practitioner_name}",
            "when": notices.local_wording(view.starts_at, view.time_zone),
            "client_name": view.client_name,
        },
        headers=PAGE_HEADERS,
    )


async def _room_seat(websocket: WebSocket, runtime: Runtime, room_id: str, side: str) -> CallSeat | None:
    if not _same_origin(websocket, runtime) or side not in {item.value for item in RoomSide}:
        return None
    try:
        async with runtime.sessions() as session, session.begin():
            return (await _open(websocket, session, runtime, room_id, side)).seat()
    except CoreError:
        return None


@router.websocket("/rooms/{room_id}/{side}/call")
async def room_call(websocket: WebSocket, room_id: str, side: str) -> None:
    runtime = _runtime(websocket.app)
    await _serve(websocket, runtime, await _room_seat(websocket, runtime, room_id, side))
