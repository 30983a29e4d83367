"""``clinicore demo``: create or refresh the demo partner and clinic, its console user and fresh keys.

The demo clinic is a practice of the demo partner, provisioned as the IntakeQ partner API provisions one
(``core/tenancy/practices.py``): its main practitioner (Dr. Maya Chen, ``Administrator``), its practice key
and booking settings; the partner's master roles (``Practitioner``, ``Front desk``) are defined, and a
second practitioner holds ``Practitioner``. Each run resets the console password and replaces the demo
keys (the previous ones are revoked), so what it prints always works; nothing else is made twice. Later
issues add their demo data here.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.cli.demo_booking import booking_page_url, seed_booking_demo
from clinicore.cli.demo_forms import seed_demo_forms
from clinicore.cli.demo_partner import seed_partner_console
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
from clinicore.core.staff import roles as staff_roles
from clinicore.core.staff import service as staff_service
from clinicore.core.staff.roles import Permissions
from clinicore.core.staff.schemas import PractitionerDetails
from clinicore.core.tenancy import practices as practice_service
from clinicore.core.tenancy import repository as tenancy_repository
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.practices import PracticeDetails
from clinicore.runtime import Runtime

DEMO_PARTNER = "Demo Partner"
DEMO_CLINIC = "Demo Clinic"
DEMO_EMAIL = "demo@clinicore.example"
DEMO_KEY_NAME = "demo"
DEMO_TIME_ZONE = "America/New_York"
DEMO_EXTERNAL_PRACTICE_ID = "demo-1"
# The partner's master roles besides Administrator (which always exists and may do everything).
DEMO_ROLES = {
    "Practitioner": Permissions(send_forms=True, open_forms=True, book=True, see_reports=True),
    "Front desk": Permissions(send_forms=True, book=True),
}
# The practice's main practitioner (its main user: Administrator), then the other practitioners.
DEMO_MAIN_PRACTITIONER = PractitionerDetails(
    first_name="Maya", last_name="Chen", email="maya.chen@clinicore.example"
)
DEMO_PRACTITIONERS = (
    PractitionerDetails(
        first_name="Luis", last_name="Ortega", email="luis.ortega@clinicore.example", role_name="Practitioner"
    ),
)
DEMO_WEEKLY_HOURS = {weekday: [LocalRange(time(9), time(17))] for weekday in range(5)}
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
    partner_console_email: str
    partner_console_password: str
    booking_page: str = ""

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
            ("Partner console", f"{self.base_url}/partner"),
            ("Partner login", f"{self.partner_console_email} / {self.partner_console_password}"),
            ("Booking page", self.booking_page),
            ("Health", f"{self.base_url}/healthz"),
        ]


async def _demo_roles(session: AsyncSession, runtime: Runtime, partner: Partner) -> None:
    """The partner's master roles, with the demo's permissions (set again on each run)."""
    for name, permissions in DEMO_ROLES.items():
        await staff_roles.define_role(
            session, partner_id=partner.id, name=name, permissions=permissions, clock=runtime.clock
        )


async def _demo_clinic(session: AsyncSession, runtime: Runtime, partner: Partner) -> Clinic:
    """The demo practice of the demo partner, made as the partner API makes one, with its main practitioner
    (a demo clinic made before practices had one is given one)."""
    existing = await tenancy_repository.get_clinic_by_name(session, partner_id=partner.id, name=DEMO_CLINIC)
    if existing is None:
        practice = await practice_service.create_practice(
            session,
            box=runtime.box,
            partner=partner,
            details=PracticeDetails(
                name=DEMO_CLINIC,
                first_name=DEMO_MAIN_PRACTITIONER.first_name,
                last_name=DEMO_MAIN_PRACTITIONER.last_name,
                email=DEMO_MAIN_PRACTITIONER.email,
                external_practice_id=DEMO_EXTERNAL_PRACTICE_ID,
                address_state="NY",
                booking_enabled=True,
            ),
            actor=CLI,
            clock=runtime.clock,
        )
        if practice.main is not None:
            await hours_service.set_weekly_hours(
                session,
                clinic_id=practice.clinic.id,
                practitioner_id=practice.main.id,
                weekly=DEMO_WEEKLY_HOURS,
            )
        return practice.clinic
    practice = await practice_service.get_practice(
        session, partner_id=partner.id, reference=existing.practice_id
    )
    if practice.main is None:
        main = await staff_service.create_practitioner(
            session,
            clinic=existing,
            details=DEMO_MAIN_PRACTITIONER,
            is_main=True,
            actor=CLI,
            clock=runtime.clock,
        )
        await hours_service.set_weekly_hours(
            session, clinic_id=existing.id, practitioner_id=main.id, weekly=DEMO_WEEKLY_HOURS
        )
    return existing


async def _demo_schedule(session: AsyncSession, runtime: Runtime, clinic: Clinic) -> None:
    """The practitioners Monday-Friday 09:00-17:00 New York, 30-minute visits, two agents, one campaign."""
    clock = runtime.clock
    await settings_service.get_booking_settings(session, clinic_id=clinic.id, clock=clock)
    emails = {
        practitioner.email
        for practitioner in await staff_service.list_practitioners(
            session, clinic_id=clinic.id, include_inactive=True
        )
    }
    for details in DEMO_PRACTITIONERS:
        if details.email in emails:
            continue
        practitioner = await staff_service.create_practitioner(
            session, clinic=clinic, details=details, actor=CLI, clock=clock
        )
        await hours_service.set_weekly_hours(
            session, clinic_id=clinic.id, practitioner_id=practitioner.id, weekly=DEMO_WEEKLY_HOURS
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
    partner_password = secrets.token_urlsafe(12)
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.find_or_create_partner(
            session, name=DEMO_PARTNER, clock=runtime.clock
        )
        await _demo_roles(session, runtime, partner)
        clinic = await _demo_clinic(session, runtime, partner)
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
        # IntakeQ forms: the partner's two master forms and the practice's copy of the questionnaire.
        await seed_demo_forms(session, partner.id, clinic.id, clock=runtime.clock)
        # The partner console: its user and, on the first run, the partner's white-label brand.
        partner_email = await seed_partner_console(session, runtime, partner, password=partner_password)
        # The booking widget: services, location and reminders of the demo practice.
        await seed_booking_demo(session, runtime, clinic)
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
        partner_console_email=partner_email,
        partner_console_password=partner_password,
        booking_page=booking_page_url(runtime.settings.base_url, clinic),
    )
