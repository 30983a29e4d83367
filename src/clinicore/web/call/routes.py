"""The video call's signalling: one WebSocket room per patient exam, through our server (docs/video.md).

- ``/meet/<meeting_uuid>/call/<patient_exam_id>?signature=…``: the patient, with the meeting's signed
  link (checked as the patient pages check it, ``web/patient/routes.py open_link``);
- ``/provider/exams/<patient_exam_id>/call``: the provider, with the desk's session cookie (its path is
  ``/provider``).
The video room of a telehealth appointment uses the same signalling (``web/call/rooms.py``: its own
signed links and rule, ``core/scheduling/video_rooms.py``; its room is ``appointment:<room id>``).
Who may join, and when, is the core's rule (``core/telehealth/call.py``): refused sockets are closed
before they are accepted (1008, an HTTP 403 to the browser). A page of another site cannot open either
(the ``Origin`` must be ours).

Each socket relays the other side's messages (``web/call/messages.py``) through the room's relay
(``web/call/relay.py``: in this process, or Redis pub/sub across processes). Bounds: a frame over 64 KB
closes the socket (1009); more than a burst of messages closes it (1008); a malformed message or an
unknown kind is answered with an ``error`` message and relayed to nobody. A newer socket of the same side
replaces an older one (4001); the room closes (4000) once the exam is no longer in consultation, which
each socket checks every few seconds. Messages are never logged: they hold SDP and chat text.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocketDisconnect, WebSocketState

from clinicore.core.accounts import service as accounts_service
from clinicore.core.models import DeskAccountKind, Provider
from clinicore.core.scheduling import video_rooms
from clinicore.core.telehealth import call as call_service
from clinicore.core.telehealth.call import CallRole, CallSeat
from clinicore.kit.errors import CoreError
from clinicore.runtime import Runtime
from clinicore.web.call.messages import MAX_FRAME_BYTES, InvalidMessage, invalid_message_notice, parse_message
from clinicore.web.call.relay import CallRelay, Envelope, Membership, RelayUnavailable, build_relay
from clinicore.web.patient.routes import LinkRefused, open_link
from clinicore.web.provider.session import PROVIDER_DESK

router = APIRouter(include_in_schema=False)

# How often a socket checks that its exam is still in consultation.
ROOM_CHECK_SECONDS = 5.0
# A socket may send this many messages at once, then this many a second (ICE candidates come in bursts).
MESSAGE_BURST = 60
MESSAGES_PER_SECOND = 20.0

CLOSE_REFUSED = 1008  # policy violation: not allowed in, or too many messages
CLOSE_TOO_BIG = 1009
CLOSE_ERROR = 1011
CLOSE_TRY_AGAIN = 1013  # the relay is unavailable
CLOSE_ENDED = 4000  # the consultation is over
CLOSE_REPLACED = 4001  # the same side opened the call in another window

JOINED = "joined"  # a control envelope between sockets of one side, never sent to a browser


def relay_of(websocket: WebSocket) -> CallRelay:
    """The app's relay, made on first use from the settings (Redis when ``CLINICORE_REDIS_URL`` is set)."""
    state = websocket.app.state
    relay: CallRelay | None = getattr(state, "call_relay", None)
    if relay is None:
        relay = build_relay(_runtime(websocket.app).settings.redis_url)
        state.call_relay = relay
    return relay


def _runtime(app: Any) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


def _same_origin(websocket: WebSocket, runtime: Runtime) -> bool:
    """A browser always sends ``Origin`` on a WebSocket: it must be this server (as the browser reached
    it, or as the settings name it). A client without one is not a browser page of another site."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    netloc = urlsplit(origin).netloc
    return netloc == websocket.headers.get("host") or netloc == urlsplit(runtime.settings.base_url).netloc


def _exam_id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 12 else None


# --- who joins ----------------------------------------------------------------------------------------


async def _patient_seat(websocket: WebSocket, runtime: Runtime, meeting_uuid: str, exam_id: int) -> CallSeat:
    async with runtime.sessions() as session, session.begin():
        _link, visit = await open_link(websocket, session, runtime, meeting_uuid)
        return call_service.join_as_patient(visit=visit, patient_exam_id=exam_id)


class _NoDeskSession(Exception):
    """No provider desk session (missing, unknown, expired, another desk's)."""


async def _provider_signed_in(websocket: WebSocket, session: AsyncSession, runtime: Runtime) -> Provider:
    """The provider of the socket's desk session cookie (checked again while the call lasts)."""
    token = websocket.cookies.get(PROVIDER_DESK.session_cookie, "")
    if not token or len(token) > 256:
        raise _NoDeskSession
    signed_in = await accounts_service.signed_in(
        session, kind=DeskAccountKind.provider, token=token, clock=runtime.clock
    )
    if signed_in is None or not isinstance(signed_in.account, Provider):
        raise _NoDeskSession
    return signed_in.account


async def _provider_seat(websocket: WebSocket, runtime: Runtime, exam_id: int) -> CallSeat:
    async with runtime.sessions() as session, session.begin():
        provider = await _provider_signed_in(websocket, session, runtime)
        return await call_service.join_as_provider(
            session, provider_id=provider.id, patient_exam_id=exam_id, clock=runtime.clock
        )


async def _admit(seat: Awaitable[CallSeat]) -> CallSeat | None:
    try:
        return await seat
    except (LinkRefused, _NoDeskSession, CoreError):
        return None


@router.websocket("/meet/{meeting_uuid}/call/{patient_exam_id}")
async def patient_call(websocket: WebSocket, meeting_uuid: str, patient_exam_id: str) -> None:
    runtime = _runtime(websocket.app)
    exam_id = _exam_id(patient_exam_id)
    seat = (
        await _admit(_patient_seat(websocket, runtime, meeting_uuid, exam_id))
        if exam_id is not None and _same_origin(websocket, runtime)
        else None
    )
    await _serve(websocket, runtime, seat)


@router.websocket("/provider/exams/{patient_exam_id}/call")
async def provider_call(websocket: WebSocket, patient_exam_id: str) -> None:
    runtime = _runtime(websocket.app)
    exam_id = _exam_id(patient_exam_id)
    seat = (
        await _admit(_provider_seat(websocket, runtime, exam_id))
        if exam_id is not None and _same_origin(websocket, runtime)
        else None
    )
    await _serve(websocket, runtime, seat)


# --- in the room ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ending:
    code: int | None  # None: the browser already left
    reason: str | None = None  # told to the browser before closing (``closed`` message)
    say_bye: bool = True  # tell the other side this one left


class _Allowance:
    """A token bucket: ``MESSAGE_BURST`` messages at once, refilled at ``MESSAGES_PER_SECOND``."""

    def __init__(self) -> None:
        self._tokens = float(MESSAGE_BURST)
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(float(MESSAGE_BURST), self._tokens + (now - self._at) * MESSAGES_PER_SECOND)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


async def _serve(websocket: WebSocket, runtime: Runtime, seat: CallSeat | None) -> None:
    if seat is None:
        await websocket.close(code=CLOSE_REFUSED)
        return
    me = secrets.token_hex(8)
    role = seat.role.value
    try:
        async with relay_of(websocket).join(seat.room) as room:
            await websocket.accept()
            await room.publish(Envelope(me, role, {"type": JOINED}))
            ending = await _relay_until_the_end(websocket, runtime, seat, room, me)
            if ending.say_bye:
                with contextlib.suppress(RelayUnavailable):
                    await room.publish(Envelope(me, role, {"type": "bye"}))
    except RelayUnavailable:
        ending = _Ending(CLOSE_TRY_AGAIN)
    await _close(websocket, ending)


async def _relay_until_the_end(
    websocket: WebSocket, runtime: Runtime, seat: CallSeat, room: Membership, me: str
) -> _Ending:
    tasks = [
        asyncio.create_task(_from_browser(websocket, seat, room, me)),
        asyncio.create_task(_to_browser(websocket, seat, room, me)),
        asyncio.create_task(_while_open(websocket, runtime, seat)),
    ]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finished = next(iter(done))
    error = finished.exception()
    if error is None:
        return finished.result()
    if isinstance(error, WebSocketDisconnect):
        return _Ending(None)
    if isinstance(error, RelayUnavailable):
        return _Ending(CLOSE_TRY_AGAIN)
    return _Ending(CLOSE_ERROR)


async def _from_browser(websocket: WebSocket, seat: CallSeat, room: Membership, me: str) -> _Ending:
    allowance = _Allowance()
    while True:
        frame = await websocket.receive()
        if frame["type"] == "websocket.disconnect":
            return _Ending(None)
        if not allowance.take():
            return _Ending(CLOSE_REFUSED)
        text = frame.get("text")
        if text is None:  # a binary frame: not a message of ours
            await websocket.send_json(invalid_message_notice())
            continue
        if len(text) > MAX_FRAME_BYTES or len(text.encode()) > MAX_FRAME_BYTES:
            return _Ending(CLOSE_TOO_BIG)
        try:
            message = parse_message(text)
        except InvalidMessage:
            await websocket.send_json(invalid_message_notice())
            continue
        await room.publish(Envelope(me, seat.role.value, message))


async def _to_browser(websocket: WebSocket, seat: CallSeat, room: Membership, me: str) -> _Ending:
    while True:
        envelope = await room.receive()
        if envelope.sender == me:
            continue
        kind = envelope.message.get("type")
        if envelope.role == seat.role.value:
            if kind == JOINED:  # this side opened the call again elsewhere: that socket takes over
                return _Ending(CLOSE_REPLACED, "replaced", say_bye=False)
            continue
        if kind != JOINED:
            message: dict[str, Any] = {**envelope.message, "from": envelope.role}
            await websocket.send_json(message)


async def _while_open(websocket: WebSocket, runtime: Runtime, seat: CallSeat) -> _Ending:
    """End the call once the exam leaves the consultation, or once the provider's desk session ends
    (signed out, expired): a socket never outlives the right that opened it."""
    while True:
        await asyncio.sleep(ROOM_CHECK_SECONDS)
        async with runtime.sessions() as session:
            if seat.appointment_room_id is not None:  # an appointment's room: open until it is cancelled
                if not await video_rooms.room_still_open(session, room_id=seat.appointment_room_id):
                    return _Ending(CLOSE_ENDED, "ended")
                continue
            if not await call_service.call_still_open(session, patient_exam_id=seat.patient_exam_id):
                return _Ending(CLOSE_ENDED, "ended")
            if seat.role is CallRole.provider:
                try:
                    await _provider_signed_in(websocket, session, runtime)
                except _NoDeskSession:
                    return _Ending(CLOSE_REFUSED, "signed-out")


async def _close(websocket: WebSocket, ending: _Ending) -> None:
    """Say why (``closed``) and close; a socket never accepted is refused (an HTTP 403 to the browser)."""
    state = websocket.application_state
    if ending.code is None or state == WebSocketState.DISCONNECTED:
        return
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        if ending.reason is not None and state == WebSocketState.CONNECTED:
            await websocket.send_json({"type": "closed", "reason": ending.reason})
        await websocket.close(code=ending.code)
