"""``clinicore demo``: create or refresh the demo partner and clinic, its console user and fresh keys.

Each run resets the console password and replaces the demo keys (the previous ones are revoked),
so what it prints always works. Later issues add their demo data here.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.cli.demo_telehealth import (
    LIVE_PROVIDER_EMAIL,
    MEDICAL_DIRECTOR_EMAIL,
    PHARMACY_USER_EMAIL,
    seed_telehealth_demo,
)
from clinicore.core.audit.service import CLI
from clinicore.core.crm import service as crm_service
from clinicore.core.models import AgentDirection, ApiKeyKind, Clinic, Partner
from clinicore.core.scheduling import hours as hours_service
from clinicore.core.scheduling import settings as settings_service
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.tenancy import repository as tenancy_repository
from clinicore.core.tenancy import service as tenancy_service
from clinicore.runtime import Runtime

DEMO_PARTNER = "Demo Partner"
DEMO_CLINIC = "Demo Clinic"
DEMO_EMAIL = "demo@clinicore.example"
DEMO_KEY_NAME = "demo"
DEMO_TIME_ZONE = "America/New_York"
DEMO_PRACTITIONERS = ("Dr. Maya Chen", "Dr. Luis Ortega")
DEMO_AGENTS = (("Front desk line", AgentDirection.inbound), ("Reactivation caller", AgentDirection.outbound))
DEMO_CAMPAIGN = "Spring consultations"


@dataclass(frozen=True)
class DemoResult:
    base_url: str
    clinic_id: str
    console_email: str
    console_password: str
    qualiphy_api_key: str
    qualifybase_api_key: str
    intakeq_practice_key: str
    intakeq_partner_key: str
    native_api_key: str
    provider_email: str
    provider_password: str
    pharmacy_email: str
    pharmacy_password: str

    def as_json(self) -> dict[str, str]:
        return asdict(self)

    def lines(self) -> list[tuple[str, str]]:
        return [
            ("Console", f"{self.base_url}/console"),
            ("Console login", f"{self.console_email} / {self.console_password}"),
            ("Clinic id", self.clinic_id),
            ("Qualiphy API", f"{self.base_url}/qualiphy/api   api_key {self.qualiphy_api_key}"),
            ("QualifyBase API", f"{self.base_url}/qualifybase/api/v1   Bearer {self.qualifybase_api_key}"),
            ("IntakeQ API", f"{self.base_url}/intakeq/api/v1   X-Auth-Key {self.intakeq_practice_key}"),
            (
                "IntakeQ partner API",
                f"{self.base_url}/intakeq/api/partner   X-Auth-Key {self.intakeq_partner_key}",
            ),
            ("Native API", f"{self.base_url}/api   Bearer {self.native_api_key}"),
            ("Provider desk", f"{self.base_url}/provider"),
            ("Provider login", f"{self.provider_email} / {self.provider_password}"),
            ("Medical director", f"{MEDICAL_DIRECTOR_EMAIL} / {self.provider_password}"),
            ("Pharmacy desk", f"{self.base_url}/pharmacy"),
            ("Pharmacy login", f"{self.pharmacy_email} / {self.pharmacy_password}"),
            ("Health", f"{self.base_url}/healthz"),
        ]


async def _demo_clinic(session: AsyncSession, partner: Partner) -> Clinic:
    existing = await tenancy_repository.get_clinic_by_name(session, partner_id=partner.id, name=DEMO_CLINIC)
    if existing is not None:
        return existing
    return await tenancy_service.create_clinic(
        session,
        name=DEMO_CLINIC,
        time_zone=DEMO_TIME_ZONE,
        partner_id=partner.id,
        external_practice_id="demo-1",
        email="clinic@clinicore.example",
        address_state="NY",
        actor=CLI,
    )


async def _demo_schedule(session: AsyncSession, runtime: Runtime, clinic: Clinic) -> None:
    """Two practitioners Monday-Friday 09:00-17:00 New York, 30-minute visits, two agents, one campaign."""
    clock = runtime.clock
    await settings_service.get_booking_settings(session, clinic_id=clinic.id, clock=clock)
    existing = {p.name for p in await hours_service.list_practitioners(session, clinic_id=clinic.id)}
    for name in DEMO_PRACTITIONERS:
        if name in existing:
            continue
        practitioner = await hours_service.create_practitioner(
            session, clinic_id=clinic.id, name=name, time_zone=DEMO_TIME_ZONE, clock=clock
        )
        await hours_service.set_weekly_hours(
            session,
            clinic_id=clinic.id,
            practitioner_id=practitioner.id,
            weekly={weekday: [LocalRange(time(9), time(17))] for weekday in range(5)},
        )
    agents = {agent.name: agent for agent in await crm_service.list_agents(session, clinic_id=clinic.id)}
    for name, direction in DEMO_AGENTS:
        if name not in agents:
            agents[name] = await crm_service.create_agent(
                session, clinic_id=clinic.id, name=name, direction=direction, clock=clock
            )
    campaigns = {
        campaign.name for campaign, _ in await crm_service.list_campaigns(session, clinic_id=clinic.id)
    }
    if DEMO_CAMPAIGN not in campaigns:
        await crm_service.create_campaign(
            session,
            clinic_id=clinic.id,
            name=DEMO_CAMPAIGN,
            agent_id=agents["Reactivation caller"].id,
            target_country="US",
            clock=clock,
        )


async def _fresh_key(
    session: AsyncSession,
    runtime: Runtime,
    kind: ApiKeyKind,
    *,
    clinic: Clinic | None = None,
    partner: Partner | None = None,
) -> str:
    owner = {"clinic_id": clinic.id} if clinic else {"partner_id": partner.id if partner else None}
    for previous in await tenancy_repository.active_keys_of_kind(session, kind=kind, **owner):
        if previous.name == DEMO_KEY_NAME:
            previous.revoked_at = runtime.clock.now()
    created = await tenancy_service.create_key(
        session, box=runtime.box, kind=kind, name=DEMO_KEY_NAME, actor=CLI, clock=runtime.clock, **owner
    )
    return created.secret


async def seed_demo(runtime: Runtime) -> DemoResult:
    password = secrets.token_urlsafe(12)
    provider_password = secrets.token_urlsafe(12)
    pharmacy_password = secrets.token_urlsafe(12)
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.find_or_create_partner(
            session, name=DEMO_PARTNER, clock=runtime.clock
        )
        clinic = await _demo_clinic(session, partner)
        user = await tenancy_service.get_user_by_email(session, DEMO_EMAIL)
        if user is None:
            await tenancy_service.create_user(
                session,
                clinic_id=clinic.id,
                email=DEMO_EMAIL,
                name="Demo Admin",
                password=password,
                actor=CLI,
            )
        else:
            await tenancy_service.set_user_password(session, user=user, password=password, actor=CLI)
        keys = {
            kind: await _fresh_key(session, runtime, kind, clinic=clinic)
            for kind in (
                ApiKeyKind.qualiphy,
                ApiKeyKind.qualifybase,
                ApiKeyKind.intakeq_practice,
                ApiKeyKind.native,
            )
        }
        partner_key = await _fresh_key(session, runtime, ApiKeyKind.intakeq_partner, partner=partner)
        await _demo_schedule(session, runtime, clinic)
        await seed_telehealth_demo(
            session,
            runtime,
            clinic,
            provider_password=provider_password,
            pharmacy_password=pharmacy_password,
        )
    return DemoResult(
        base_url=runtime.settings.base_url,
        clinic_id=str(clinic.id),
        console_email=DEMO_EMAIL,
        console_password=password,
        qualiphy_api_key=keys[ApiKeyKind.qualiphy],
        qualifybase_api_key=keys[ApiKeyKind.qualifybase],
        intakeq_practice_key=keys[ApiKeyKind.intakeq_practice],
        intakeq_partner_key=partner_key,
        native_api_key=keys[ApiKeyKind.native],
        provider_email=LIVE_PROVIDER_EMAIL,
        provider_password=provider_password,
        pharmacy_email=PHARMACY_USER_EMAIL,
        pharmacy_password=pharmacy_password,
    )
