"""An appointment with what it names: its client, service, location, practitioner and clinic.

``AppointmentView`` is what a surface shows of an appointment and what an appointment event carries
(``payload["view"]``), so that an API answer and a webhook body about one appointment say the same.
Views of many appointments are loaded with one query per kind of row (``views_of``).

A telehealth appointment's view holds its video room's signed links (``video_rooms``): the practitioner's
start link and the client's join link, which an event carries for the same reason.

The view holds the client's contact details (name, email, phone, date of birth): an event carries them
because the webhook bodies that vendors define do (IntakeQ's ``Appointment`` object); no log line does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Appointment, Client, Clinic, Location, Practitioner, Service
from clinicore.core.scheduling import video_rooms
from clinicore.core.scheduling.catalog import location_address


@dataclass(frozen=True, slots=True, kw_only=True)
class AppointmentView:
    id: uuid.UUID
    clinic_id: uuid.UUID
    practice_id: str
    external_practice_id: str | None
    time_zone: str  # the location's, else the clinic's: where the appointment's local times are read
    status: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancellation_reason: str | None
    deleted_at: datetime | None
    title: str
    price: Decimal | None
    source: str
    booked_by_client: bool
    created_by: str | None
    reminder_channel: str | None
    client_id: uuid.UUID | None
    client_number: int | None
    client_name: str | None
    client_email: str | None
    client_phone: str | None
    client_date_of_birth: date | None
    client_external_id: str | None
    service_id: uuid.UUID | None
    service_name: str | None
    location_id: uuid.UUID | None
    location_number: int | None
    location_name: str | None
    location_address: str | None
    practitioner_id: uuid.UUID
    practitioner_name: str
    practitioner_email: str | None
    # The video room of a telehealth appointment (``video_rooms``): its id and signed links; None without.
    telehealth_room_id: uuid.UUID | None = None
    telehealth_start_url: str | None = None
    telehealth_join_url: str | None = None

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def to_payload(self) -> dict[str, Any]:
        """JSON-ready (an event payload): ids, times and dates as text, the price as text."""
        return {key: _to_json(value) for key, value in asdict(self).items()}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> AppointmentView:
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = payload.get(field.name)
            values[field.name] = _from_json(field.name, raw)
        return cls(**values)


_UUIDS = {
    "id",
    "clinic_id",
    "client_id",
    "service_id",
    "location_id",
    "practitioner_id",
    "telehealth_room_id",
}
_MOMENTS = {"starts_at", "ends_at", "created_at", "updated_at", "cancelled_at", "deleted_at"}


def _to_json(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _from_json(name: str, raw: Any) -> Any:
    if raw is None:
        return None
    if name in _UUIDS:
        return uuid.UUID(raw)
    if name in _MOMENTS:
        return datetime.fromisoformat(raw)
    if name == "client_date_of_birth":
        return date.fromisoformat(raw)
    if name == "price":
        return Decimal(raw)
    return raw


def client_name(client: Client) -> str:
    return " ".join(part for part in (client.first_name, client.last_name) if part).strip()


async def _by_id(session: AsyncSession, model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    rows = (await session.scalars(select(model).where(model.id.in_(ids)))).all()
    return {row.id: row for row in rows}


async def views_of(session: AsyncSession, appointments: Sequence[Appointment]) -> list[AppointmentView]:
    """The views of ``appointments`` (one clinic's, as every caller's query is), in the same order."""
    clients = await _by_id(session, Client, {a.client_id for a in appointments if a.client_id})
    services = await _by_id(session, Service, {a.service_id for a in appointments if a.service_id})
    locations = await _by_id(session, Location, {a.location_id for a in appointments if a.location_id})
    practitioners = await _by_id(session, Practitioner, {a.practitioner_id for a in appointments})
    clinics = await _by_id(session, Clinic, {a.clinic_id for a in appointments})
    rooms = await video_rooms.links_of(session, appointments)
    views = []
    for appointment in appointments:
        client = clients.get(appointment.client_id) if appointment.client_id else None
        service = services.get(appointment.service_id) if appointment.service_id else None
        location = locations.get(appointment.location_id) if appointment.location_id else None
        practitioner = practitioners[appointment.practitioner_id]
        clinic = clinics[appointment.clinic_id]
        room = rooms.get(appointment.id)
        views.append(
            AppointmentView(
                id=appointment.id,
                clinic_id=appointment.clinic_id,
                practice_id=clinic.practice_id,
                external_practice_id=clinic.external_practice_id,
                time_zone=(location.time_zone if location is not None else None) or clinic.time_zone,
                status=appointment.status,
                starts_at=appointment.starts_at,
                ends_at=appointment.ends_at,
                created_at=appointment.created_at,
                updated_at=appointment.updated_at,
                cancelled_at=appointment.cancelled_at,
                cancellation_reason=appointment.cancellation_reason,
                deleted_at=appointment.deleted_at,
                title=appointment.title,
                price=appointment.price,
                source=appointment.source,
                booked_by_client=appointment.booked_by_client,
                created_by=appointment.created_by,
                reminder_channel=appointment.reminder_channel,
                client_id=client.id if client is not None else None,
                client_number=client.number if client is not None else None,
                client_name=client_name(client) if client is not None else None,
                client_email=client.email if client is not None else None,
                client_phone=client.phone if client is not None else None,
                client_date_of_birth=client.date_of_birth if client is not None else None,
                client_external_id=client.external_client_id if client is not None else None,
                service_id=service.id if service is not None else None,
                service_name=service.name if service is not None else None,
                location_id=location.id if location is not None else None,
                location_number=location.number if location is not None else None,
                location_name=location.name if location is not None else None,
                location_address=location_address(location) if location is not None else None,
                practitioner_id=practitioner.id,
                practitioner_name=practitioner.name,
                practitioner_email=practitioner.email,
                telehealth_room_id=room.room_id if room is not None else None,
                telehealth_start_url=room.start_url if room is not None else None,
                telehealth_join_url=room.join_url if room is not None else None,
            )
        )
    return views


async def view_of(session: AsyncSession, appointment: Appointment) -> AppointmentView:
    return (await views_of(session, [appointment]))[0]


async def client_by_number(session: AsyncSession, *, clinic_id: uuid.UUID, number: int) -> Client | None:
    """The clinic's client with this number (another clinic's: none)."""
    return await session.scalar(select(Client).where(Client.clinic_id == clinic_id, Client.number == number))
