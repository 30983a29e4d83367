"""A partner with its key, and practices made through the partner API, as an integrator would."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import time, timedelta
from typing import Any

import httpx
import pytest

from clinicore.core.models import ApiKeyKind, Appointment, Client, Partner
from clinicore.core.people import service as people_service
from clinicore.core.scheduling import booking, hours
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.scheduling.schemas import BookingRequest
from clinicore.core.tenancy import practices as practice_service
from clinicore.core.tenancy import service as tenancy_service
from clinicore.runtime import Runtime
from tests.support import remember_secret

PARTNER_URL = "/intakeq/api/partner"
PRACTICE_URL = "/intakeq/api/v1"


@dataclasses.dataclass
class PartnerAccount:
    partner: Partner
    key: str
    client: httpx.AsyncClient
    runtime: Runtime

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Key": self.key}

    async def create_practice(self, **fields: Any) -> dict[str, Any]:
        suffix = secrets.token_hex(3)
        body = {
            "PracticeName": f"Practice {suffix}",
            "FirstName": "John",
            "LastName": "Smith",
            "Email": f"john-{suffix}@practice.example",
        } | fields
        response = await self.client.post(f"{PARTNER_URL}/practice", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        practice: dict[str, Any] = response.json()
        return practice

    async def practice_key(self, practice_id: str) -> str:
        response = await self.client.get(f"{PARTNER_URL}/practice/{practice_id}/key", headers=self.headers)
        assert response.status_code == 200, response.text
        return remember_secret(str(response.json()["ApiKey"]))


async def create_partner_account(runtime: Runtime, client: httpx.AsyncClient) -> PartnerAccount:
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=f"Partner {secrets.token_hex(4)}")
        created = await tenancy_service.create_key(
            session, box=runtime.box, kind=ApiKeyKind.intakeq_partner, name="partner", partner_id=partner.id
        )
    return PartnerAccount(
        partner=partner, key=remember_secret(created.secret), client=client, runtime=runtime
    )


@pytest.fixture
async def partner(runtime: Runtime, client: httpx.AsyncClient) -> AsyncIterator[PartnerAccount]:
    yield await create_partner_account(runtime, client)


@pytest.fixture
async def other_partner(runtime: Runtime, client: httpx.AsyncClient) -> AsyncIterator[PartnerAccount]:
    yield await create_partner_account(runtime, client)


@dataclasses.dataclass
class PracticeAccount:
    """A practice made through the partner API, with its practice key."""

    practice: dict[str, Any]
    key: str
    client: httpx.AsyncClient
    runtime: Runtime
    clinic_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Key": self.key}

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(f"{PRACTICE_URL}{path}", json=body, headers=self.headers)

    async def put(self, path: str, body: Any) -> httpx.Response:
        return await self.client.put(f"{PRACTICE_URL}{path}", json=body, headers=self.headers)

    async def get(self, path: str, **params: str) -> httpx.Response:
        return await self.client.get(f"{PRACTICE_URL}{path}", params=params, headers=self.headers)

    async def delete(self, path: str) -> httpx.Response:
        return await self.client.delete(f"{PRACTICE_URL}{path}", headers=self.headers)

    async def create_practitioner(self, **fields: Any) -> dict[str, Any]:
        suffix = secrets.token_hex(3)
        body = {
            "FirstName": "Dexter",
            "LastName": "Morgan",
            "Email": f"dexter-{suffix}@practice.example",
        } | fields
        response = await self.post("/practitioners", body)
        assert response.status_code == 200, response.text
        practitioner: dict[str, Any] = response.json()
        return practitioner

    async def give_client(self, practitioner_id: str) -> Client:
        """A client of the practice owned by the practitioner (arranged through the core)."""
        async with self.runtime.sessions() as session, session.begin():
            client = await people_service.client_for_contact(
                session,
                clinic_id=self.clinic_id,
                full_name="Rita Bennett",
                email=f"rita-{secrets.token_hex(3)}@example.com",
                phone=None,
            )
            client.practitioner_id = uuid.UUID(practitioner_id)
        return client

    async def book(self, practitioner_id: str, *, days_ahead: int = 2, hour: int = 15) -> Appointment:
        """An appointment with the practitioner (booking switched on, every hour open), through the core."""
        async with self.runtime.sessions() as session, session.begin():
            clinic = await tenancy_service.get_clinic(session, self.clinic_id)
            clinic.booking_enabled = True
            await hours.set_weekly_hours(
                session,
                clinic_id=self.clinic_id,
                practitioner_id=uuid.UUID(practitioner_id),
                weekly={day: [LocalRange(time(0), time(0))] for day in range(7)},
            )
            day = self.runtime.clock.now() + timedelta(days=days_ahead)
            starts_at = day.replace(hour=hour, minute=0, second=0, microsecond=0)
            return await booking.book_appointment(
                session,
                clinic_id=self.clinic_id,
                request=BookingRequest(
                    starts_at=starts_at, title="Visit", practitioner_id=uuid.UUID(practitioner_id)
                ),
                source="intakeq",
            )


async def open_practice(partner: PartnerAccount, **fields: Any) -> PracticeAccount:
    practice = await partner.create_practice(**fields)
    key = await partner.practice_key(practice["Id"])
    async with partner.runtime.sessions() as session:
        found = await practice_service.get_practice(
            session, partner_id=partner.partner.id, reference=practice["Id"]
        )
    return PracticeAccount(
        practice=practice, key=key, client=partner.client, runtime=partner.runtime, clinic_id=found.clinic.id
    )


@pytest.fixture
async def practice(partner: PartnerAccount) -> PracticeAccount:
    return await open_practice(partner)


@pytest.fixture
async def other_practice(other_partner: PartnerAccount) -> PracticeAccount:
    return await open_practice(other_partner)
