"""Async factories: arrange a clinic, its users and keys directly through the core services."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time

from clinicore.core.crm import service as crm_service
from clinicore.core.crm.schemas import LeadInput
from clinicore.core.models import (
    Agent,
    AgentDirection,
    ApiKeyKind,
    Campaign,
    Clinic,
    ClinicUser,
    Lead,
    Practitioner,
)
from clinicore.core.scheduling import hours as hours_service
from clinicore.core.scheduling import settings as settings_service
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.tenancy import service as tenancy_service
from clinicore.runtime import Runtime
from tests.support import remember_secret


@dataclass
class ClinicFixture:
    clinic: Clinic
    user: ClinicUser
    email: str
    password: str


async def create_clinic(
    runtime: Runtime, *, name: str | None = None, time_zone: str = "America/New_York"
) -> ClinicFixture:
    suffix = secrets.token_hex(4)
    email = f"admin-{suffix}@clinic.example"
    password = remember_secret(f"pw-{secrets.token_urlsafe(12)}")
    async with runtime.sessions() as session, session.begin():
        clinic = await tenancy_service.create_clinic(
            session, name=name or f"Clinic {suffix}", time_zone=time_zone
        )
        user = await tenancy_service.create_user(
            session, clinic_id=clinic.id, email=email, name="Admin", password=password
        )
    return ClinicFixture(clinic=clinic, user=user, email=email, password=password)


async def create_key(
    runtime: Runtime, clinic: Clinic, kind: ApiKeyKind = ApiKeyKind.native, name: str = "test"
) -> str:
    async with runtime.sessions() as session, session.begin():
        created = await tenancy_service.create_key(
            session, box=runtime.box, kind=kind, name=name, clinic_id=clinic.id
        )
    return remember_secret(created.secret)


# --- scheduling and CRM ---------------------------------------------------------------------------

NINE_TO_FIVE = (LocalRange(time(9), time(17)),)
WEEKDAYS_NINE_TO_FIVE: dict[int, tuple[LocalRange, ...]] = {weekday: NINE_TO_FIVE for weekday in range(5)}


async def create_practitioner(
    runtime: Runtime,
    clinic: Clinic,
    *,
    name: str = "Dr. Rivera",
    weekly: Mapping[int, Sequence[LocalRange]] | None = None,
    time_zone: str | None = None,
) -> Practitioner:
    async with runtime.sessions() as session, session.begin():
        practitioner = await hours_service.create_practitioner(
            session, clinic_id=clinic.id, name=name, time_zone=time_zone
        )
        await hours_service.set_weekly_hours(
            session,
            clinic_id=clinic.id,
            practitioner_id=practitioner.id,
            weekly=WEEKDAYS_NINE_TO_FIVE if weekly is None else weekly,
        )
    return practitioner


async def set_booking_rules(runtime: Runtime, clinic: Clinic, **rules: int | None) -> None:
    values: dict[str, int | None] = {
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 0,
        "minimum_notice_minutes": 0,
        "horizon_days": 60,
        "default_length_minutes": 30,
        "slot_interval_minutes": None,
    } | rules
    async with runtime.sessions() as session, session.begin():
        await settings_service.update_booking_settings(session, clinic_id=clinic.id, **values)  # type: ignore[arg-type]


async def create_agent(
    runtime: Runtime,
    clinic: Clinic,
    *,
    direction: AgentDirection = AgentDirection.outbound,
    name: str = "Ava",
) -> Agent:
    async with runtime.sessions() as session, session.begin():
        return await crm_service.create_agent(session, clinic_id=clinic.id, name=name, direction=direction)


async def create_lead(runtime: Runtime, clinic: Clinic, **values: object) -> Lead:
    fields = {"full_name": "Alex Smith", "email": f"alex-{secrets.token_hex(3)}@example.com"} | values
    async with runtime.sessions() as session, session.begin():
        lead, _ = await crm_service.upsert_lead(
            session,
            clinic_id=clinic.id,
            data=LeadInput(**fields),  # type: ignore[arg-type]
        )
    return lead


async def create_campaign(
    runtime: Runtime, clinic: Clinic, *, max_attempts: int = 3, **values: object
) -> Campaign:
    async with runtime.sessions() as session, session.begin():
        return await crm_service.create_campaign(
            session,
            clinic_id=clinic.id,
            name=str(values.get("name", "Spring implants")),
            max_attempts=max_attempts,
            target_country=values.get("target_country"),  # type: ignore[arg-type]
        )
