"""The video room of a telehealth appointment: who gets one, its two links, and when it opens.

- An appointment of a ``telehealth`` service has one room (``AppointmentRoom``), made when the appointment
  is booked or moved onto such a service, whichever surface or page does it (``booking`` calls
  ``sync_room`` after every create and update); moved onto a service seen in person, it loses the room
  (its links stop opening).
- The room has two signed links (``kit/links``, the meeting links' HMAC): the practitioner's start link
  ``/rooms/<id>/host`` and the client's join link ``/rooms/<id>/join``, both on the practice's host (its
  partner's, ``tenancy.brand``) and both valid until a day after the appointment's end
  (``LINK_VALID_AFTER_END``): the expiry follows the appointment, so every answer and webhook about it
  names the same links, and a reschedule moves it.
- The call is the consultation call's (``web/call``: the same page script, WebSocket signalling and
  relay): the practitioner takes the provider's side (it makes the offer), the client the patient's.
- The room refuses to open (and a call in it ends) once the appointment is cancelled, declined or deleted,
  or its practice deleted or deactivated.
Nothing here commits.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import (
    RELEASED_STATUSES,
    Appointment,
    AppointmentRoom,
    AppointmentStatus,
    Clinic,
    Service,
)
from clinicore.core.telehealth.call import CallRole, CallSeat
from clinicore.core.tenancy.brand import brand_for_clinic
from clinicore.kit import public_links
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, NotFound
from clinicore.kit.links import LinkSigner

LINK_VALID_AFTER_END = timedelta(days=1)
LARGEST_EXPIRES_DIGITS = 12


class RoomSide(StrEnum):
    """The two links of a room: the practitioner's (``host``) and the client's (``join``)."""

    host = "host"
    guest = "join"


CALL_ROLES = {RoomSide.host: CallRole.provider, RoomSide.guest: CallRole.patient}


@dataclass(frozen=True, slots=True)
class RoomLinks:
    room_id: uuid.UUID
    start_url: str  # the practitioner's
    join_url: str  # the client's
    expires_at: datetime


def room_path(room_id: uuid.UUID, side: RoomSide) -> str:
    return f"/rooms/{room_id}/{side.value}"


def link_expiry(appointment: Appointment) -> int:
    return int((appointment.ends_at + LINK_VALID_AFTER_END).timestamp())


def room_is_open(appointment: Appointment) -> bool:
    return appointment.deleted_at is None and AppointmentStatus(appointment.status) not in RELEASED_STATUSES


async def room_of(session: AsyncSession, *, appointment_id: uuid.UUID) -> AppointmentRoom | None:
    return await session.scalar(
        select(AppointmentRoom).where(AppointmentRoom.appointment_id == appointment_id)
    )


async def room_by_text_id(session: AsyncSession, room_id: str) -> AppointmentRoom | None:
    try:
        room_uuid = uuid.UUID(room_id)
    except ValueError:
        return None
    return await session.get(AppointmentRoom, room_uuid)


async def sync_room(session: AsyncSession, appointment: Appointment, *, clock: Clock = system_clock) -> None:
    """Give the appointment a room when its service is telehealth, take it away when it is not."""
    service = await session.get(Service, appointment.service_id) if appointment.service_id else None
    wanted = service is not None and service.telehealth
    # Just booked (version 1): it has no room yet, so there is nothing to look up.
    room = None if appointment.version == 1 else await room_of(session, appointment_id=appointment.id)
    if wanted and room is None:
        session.add(
            AppointmentRoom(
                clinic_id=appointment.clinic_id, appointment_id=appointment.id, created_at=clock.now()
            )
        )
        await session.flush()
    elif not wanted and room is not None:
        await session.delete(room)
        await session.flush()


def _signed(links: LinkSigner, base_url: str, path: str, expires: int) -> str:
    query = urlencode({"expires": expires, "signature": links.signature(path, expires)})
    return f"{base_url}{path}?{query}"


async def links_of(session: AsyncSession, appointments: Sequence[Appointment]) -> dict[uuid.UUID, RoomLinks]:
    """The room links of those ``appointments`` that have a room (one query, one brand per clinic)."""
    ids = [appointment.id for appointment in appointments]
    if not ids:
        return {}
    rooms = (
        await session.scalars(select(AppointmentRoom).where(AppointmentRoom.appointment_id.in_(ids)))
    ).all()
    if not rooms:
        return {}
    signer = public_links.signer()
    by_id = {appointment.id: appointment for appointment in appointments}
    bases: dict[uuid.UUID, str] = {}
    found: dict[uuid.UUID, RoomLinks] = {}
    for room in rooms:
        appointment = by_id[room.appointment_id]
        if room.clinic_id not in bases:
            bases[room.clinic_id] = (await brand_for_clinic(session, room.clinic_id)).base_url(
                signer.base_url
            )
        base_url = bases[room.clinic_id]
        expires = link_expiry(appointment)
        found[appointment.id] = RoomLinks(
            room_id=room.id,
            start_url=_signed(signer, base_url, room_path(room.id, RoomSide.host), expires),
            join_url=_signed(signer, base_url, room_path(room.id, RoomSide.guest), expires),
            expires_at=appointment.ends_at + LINK_VALID_AFTER_END,
        )
    return found


# --- opening a room ------------------------------------------------------------------------------


async def _practice_open(session: AsyncSession, room: AppointmentRoom) -> bool:
    """A deleted or deactivated practice's rooms stay closed."""
    clinic = await session.get(Clinic, room.clinic_id)
    return clinic is not None and clinic.is_active and clinic.deleted_at is None


@dataclass(frozen=True, slots=True)
class OpenedRoom:
    room: AppointmentRoom
    appointment: Appointment
    side: RoomSide

    def seat(self) -> CallSeat:
        """The seat in the room's call (``web/call``): the practitioner on the provider's side."""
        return CallSeat(0, self.room.clinic_id, CALL_ROLES[self.side], appointment_room_id=self.room.id)


def _no_such_room() -> NotFound:
    return NotFound("video room not found", field="room_id")


def parse_expires(text: str | None) -> int | None:
    """``expires`` of a link: a bounded number of ASCII digits (None: absent); anything else raises."""
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= LARGEST_EXPIRES_DIGITS):
        raise _no_such_room()
    return int(text)


async def open_room(
    session: AsyncSession,
    *,
    room_id: str,
    side: str,
    signature: str,
    expires: str | None,
    links: LinkSigner,
    clock: Clock = system_clock,
) -> OpenedRoom:
    """Check a room link: a wrong signature, side or room is ``NotFound``; a genuine link past its expiry
    is a ``Conflict`` (``video_room.link_expired``); the room of a cancelled, declined or deleted
    appointment is a ``Conflict`` (``video_room.closed``)."""
    try:
        room_uuid = uuid.UUID(room_id)
        room_side = RoomSide(side)
    except ValueError:
        raise _no_such_room() from None
    expires_at = parse_expires(expires)
    path = room_path(room_uuid, room_side)
    if expires_at is None or not hmac.compare_digest(
        links.signature(path, expires_at).encode(), signature.encode()
    ):
        raise _no_such_room()
    room = await session.get(AppointmentRoom, room_uuid)
    if room is None:
        raise _no_such_room()
    appointment = await session.get(Appointment, room.appointment_id)
    if appointment is None:
        raise _no_such_room()
    if not links.verify(path, signature=signature, expires=expires_at, now=clock.now()):
        raise Conflict("the video link has expired", field="room_id", rule="video_room.link_expired")
    if not room_is_open(appointment) or not await _practice_open(session, room):
        raise Conflict(
            "the appointment of this video room is cancelled", field="room_id", rule="video_room.closed"
        )
    return OpenedRoom(room=room, appointment=appointment, side=room_side)


async def room_still_open(session: AsyncSession, *, room_id: uuid.UUID) -> bool:
    """Whether a call in the room may go on (checked now and then while people are in it)."""
    room = await session.get(AppointmentRoom, room_id)
    if room is None:
        return False
    appointment = await session.get(Appointment, room.appointment_id)
    return appointment is not None and room_is_open(appointment) and await _practice_open(session, room)
