"""A practice ready for its booking page: two services, one location, two practitioners (weekdays
09:00-17:00 New York), no notice; and helpers to read the booking page as a visitor would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from clinicore.core.models import Appointment, Clinic, Event, Location, OutboundEmail, Practitioner, Service
from clinicore.core.notify import service as notify_service
from clinicore.core.scheduling import catalog, client_booking
from clinicore.core.scheduling.schemas import LocationInput, ServiceInput
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_practitioner, set_booking_rules

# The frozen clock of tests.web.frozen_console: Monday 2031-03-03, 08:00 in New York (UTC-5).
TUESDAY = date(2031, 3, 4)
SLOT_VALUE = re.compile(r'name="slot" value="([^"]+)"')


@dataclass
class Practice:
    clinic: Clinic
    consultation: Service  # 60 minutes, 120.00
    follow_up: Service  # 30 minutes, 60.00
    office: Location
    chen: Practitioner
    ortega: Practitioner

    @property
    def email(self) -> str:
        """The visitor's address in this test (the database outlives one test)."""
        return f"ana.lima.{self.clinic.practice_id.lower()}@example.com"

    @property
    def page(self) -> str:
        return f"/book/{self.clinic.practice_id}"


async def create_practice(
    runtime: Runtime, *, requires_confirmation: bool = False, notice_hours: int = 24
) -> Practice:
    arranged = await create_clinic(runtime, time_zone="America/New_York")
    await set_booking_rules(runtime, arranged.clinic)
    chen = await create_practitioner(runtime, arranged.clinic, name="Dr. Chen")
    ortega = await create_practitioner(runtime, arranged.clinic, name="Dr. Ortega")
    async with runtime.sessions() as session, session.begin():
        consultation = await catalog.create_service(
            session,
            clinic_id=arranged.clinic.id,
            data=ServiceInput(name="Initial Consultation", duration_minutes=60, price=Decimal("120.00")),
        )
        follow_up = await catalog.create_service(
            session,
            clinic_id=arranged.clinic.id,
            data=ServiceInput(name="Follow Up", duration_minutes=30, price=Decimal("60.00")),
        )
        office = await catalog.create_location(
            session,
            clinic_id=arranged.clinic.id,
            data=LocationInput(name="Main Office", address_line_1="1 Main St", city="Albany", state="NY"),
        )
        await client_booking.update_widget_settings(
            session,
            clinic_id=arranged.clinic.id,
            requires_confirmation=requires_confirmation,
            client_change_notice_hours=notice_hours,
        )
    return Practice(arranged.clinic, consultation, follow_up, office, chen, ortega)


def slot_values(html: str) -> list[str]:
    return SLOT_VALUE.findall(html)


def booking_form(practice: Practice, slot: str, /, **changes: str) -> dict[str, str]:
    return {
        "service": str(practice.consultation.id),
        "location": str(practice.office.id),
        "practitioner": "",
        "day": TUESDAY.isoformat(),
        "tz": "America/New_York",
        "slot": slot,
        "name": "Ana Lima",
        "email": practice.email,
        "phone": "",
    } | changes


async def appointments_of(
    runtime: Runtime, clinic: Clinic, *, with_deleted: bool = False
) -> list[Appointment]:
    async with runtime.sessions() as session:
        query = select(Appointment).where(Appointment.clinic_id == clinic.id)
        if not with_deleted:
            query = query.where(Appointment.deleted_at.is_(None))
        return list((await session.scalars(query.order_by(Appointment.starts_at))).all())


async def event_types(runtime: Runtime, clinic: Clinic) -> list[str]:
    async with runtime.sessions() as session:
        found = await session.scalars(
            select(Event.type).where(Event.clinic_id == clinic.id).order_by(Event.sequence)
        )
        return list(found.all())


async def event_payloads(runtime: Runtime, clinic: Clinic) -> list[dict[str, Any]]:
    async with runtime.sessions() as session:
        found = await session.scalars(
            select(Event.payload).where(Event.clinic_id == clinic.id).order_by(Event.sequence)
        )
        return list(found.all())


async def emails_to(runtime: Runtime, address: str) -> list[OutboundEmail]:
    async with runtime.sessions() as session:
        return list(await notify_service.emails_to(session, to_address=address))


def manage_link(email: OutboundEmail) -> str:
    """The path and query of the signed link in a confirmation email."""
    match = re.search(r"(https?://\S+/book/\S+)", email.body)
    assert match, email.body
    parts = urlsplit(match.group(1))
    return f"{parts.path}?{parts.query}"


async def show_times(client: httpx.AsyncClient, practice: Practice, **params: str) -> httpx.Response:
    query = {
        "service": str(practice.consultation.id),
        "location": str(practice.office.id),
        "day": TUESDAY.isoformat(),
        "tz": "America/New_York",
    } | params
    return await client.get(practice.page, params={name: value for name, value in query.items() if value})
