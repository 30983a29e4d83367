"""A practice with a practice key, a practitioner open every day 08:00-20:00 New York, two services, one
location and a client, seen through an app whose clock stands still (Monday 2031-03-03 08:00 EST)."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import httpx

from clinicore.app import create_app
from clinicore.core.models import ApiKeyKind, Client, Clinic, Location, Practitioner, Service
from clinicore.core.people import service as people_service
from clinicore.core.scheduling import catalog, hours
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.scheduling.schemas import LocationInput, ServiceInput
from clinicore.kit.clock import FrozenClock
from clinicore.kit.local_time import local_to_utc
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_key

NOW = datetime(2031, 3, 3, 13, 0, tzinfo=UTC)  # Monday 08:00 in New York (EST, UTC-5)
NY = "America/New_York"
URL = "/intakeq/api/v1"


def at(day: int, hour: int, minute: int = 0) -> int:
    """Unix ms of a New York wall time in March 2031 (DST starts on Sunday the 9th)."""
    return int(local_to_utc(date(2031, 3, day), time(hour, minute), NY).timestamp() * 1000)


@dataclasses.dataclass
class Practice:
    runtime: Runtime
    clock: FrozenClock
    http: httpx.AsyncClient
    key: str
    clinic: Clinic
    practitioner: Practitioner
    initial: Service
    follow_up: Service
    location: Location
    patient: Client

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Key": self.key}

    async def get(self, path: str, **params: str) -> httpx.Response:
        return await self.http.get(f"{URL}{path}", params=params, headers=self.headers)

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.http.post(f"{URL}{path}", json=body, headers=self.headers)

    async def put(self, path: str, body: Any) -> httpx.Response:
        return await self.http.put(f"{URL}{path}", json=body, headers=self.headers)

    def new_body(self, **fields: Any) -> dict[str, Any]:
        return {
            "PractitionerId": self.practitioner.id.hex,
            "ClientId": self.patient.number,
            "ServiceId": str(self.initial.id),
            "LocationId": str(self.location.number),
            "Status": "Confirmed",
            "UtcDateTime": at(4, 10),
            "SendClientEmailNotification": False,
            "ReminderType": "OptOut",
        } | fields

    async def book(self, **fields: Any) -> dict[str, Any]:
        response = await self.post("/appointments", self.new_body(**fields))
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return created

    async def add_client(self, full_name: str, email: str | None = None, phone: str | None = None) -> Client:
        async with self.runtime.sessions() as session, session.begin():
            return await people_service.client_for_contact(
                session,
                clinic_id=self.clinic.id,
                full_name=full_name,
                email=email or f"{full_name.split()[0].lower()}-{secrets.token_hex(3)}@example.com",
                phone=phone,
                clock=self.clock,
            )


async def open_practice(runtime: Runtime) -> AsyncIterator[Practice]:
    clock = FrozenClock(NOW)
    frozen = dataclasses.replace(runtime, clock=clock)
    arranged = await create_clinic(frozen, time_zone=NY)
    key = await create_key(frozen, arranged.clinic, ApiKeyKind.intakeq_practice)
    suffix = secrets.token_hex(3)
    async with frozen.sessions() as session, session.begin():
        clinic = await session.get(Clinic, arranged.clinic.id)
        assert clinic is not None
        clinic.booking_enabled = True
        practitioner = await hours.create_practitioner(
            session,
            clinic_id=clinic.id,
            name="Dexter Morgan",
            email=f"dexter-{suffix}@practice.example",
            time_zone=NY,
            clock=clock,
        )
        practitioner.is_main = True
        await hours.set_weekly_hours(
            session,
            clinic_id=clinic.id,
            practitioner_id=practitioner.id,
            weekly={day: [LocalRange(time(8), time(20))] for day in range(7)},
        )
        initial = await catalog.create_service(
            session,
            clinic_id=clinic.id,
            data=ServiceInput(name="Initial Consultation", duration_minutes=60, price=Decimal("200.00")),
            clock=clock,
        )
        follow_up = await catalog.create_service(
            session,
            clinic_id=clinic.id,
            data=ServiceInput(name="Follow Up", duration_minutes=30, price=Decimal("100.00")),
            clock=clock,
        )
        location = await catalog.create_location(
            session,
            clinic_id=clinic.id,
            data=LocationInput(
                name="Main Office", address_line_1="123 Main Street", city="Springfield", state="NY"
            ),
            clock=clock,
        )
        patient = await people_service.client_for_contact(
            session,
            clinic_id=clinic.id,
            full_name="Rita Bennett",
            email=f"rita-{suffix}@example.com",
            phone="+12125550123",
            clock=clock,
        )
    transport = httpx.ASGITransport(app=create_app(frozen))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Practice(
            runtime=frozen,
            clock=clock,
            http=http,
            key=key,
            clinic=clinic,
            practitioner=practitioner,
            initial=initial,
            follow_up=follow_up,
            location=location,
            patient=patient,
        )


def appointment_uuid(wire_id: str) -> uuid.UUID:
    return uuid.UUID(wire_id)
