"""Async factories: arrange a clinic, its users and keys directly through the core services."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from clinicore.core.models import ApiKeyKind, Clinic, ClinicUser
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
