"""Async factories for the partner console: a partner with a console user, its practices and master
forms, arranged through the core."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from clinicore.core.forms import service as forms_service
from clinicore.core.forms.schemas import (
    ConsentDocumentDefinition,
    FormDefinition,
    FormOwner,
    QuestionDefinition,
    SectionDefinition,
)
from clinicore.core.models import Clinic, FormKind, FormQuestionKind, FormTemplate, Partner, PartnerUser
from clinicore.core.partners import service as partner_service
from clinicore.core.tenancy import practices
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.practices import PracticeDetails
from clinicore.runtime import Runtime
from tests.support import remember_secret


@dataclass
class PartnerFixture:
    partner: Partner
    user: PartnerUser
    email: str
    password: str


async def create_partner_user(runtime: Runtime, *, name: str | None = None) -> PartnerFixture:
    suffix = secrets.token_hex(4)
    email = f"partner-{suffix}@partner.example"
    password = remember_secret(f"pw-{secrets.token_urlsafe(12)}")
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=name or f"Partner {suffix}")
        user = await partner_service.create_user(
            session, partner_id=partner.id, email=email, name="Pat Partner", password=password
        )
    return PartnerFixture(partner=partner, user=user, email=email, password=password)


async def create_partner_practice(
    runtime: Runtime, partner: Partner, *, name: str | None = None, external_id: str | None = None
) -> Clinic:
    suffix = secrets.token_hex(4)
    async with runtime.sessions() as session, session.begin():
        made = await practices.create_practice(
            session,
            box=runtime.box,
            partner=partner,
            details=PracticeDetails(
                name=name or f"Practice {suffix}",
                first_name="Maya",
                last_name="Chen",
                email=f"maya-{suffix}@practice.example",
                external_practice_id=external_id,
            ),
        )
    return made.clinic


async def create_master_form(
    runtime: Runtime, partner: Partner, *, name: str = "New Client Intake"
) -> FormTemplate:
    async with runtime.sessions() as session, session.begin():
        contents = await forms_service.create_form(
            session,
            owner=FormOwner.partner(partner.id),
            definition=FormDefinition(
                name=name,
                kind=FormKind.questionnaire,
                sections=[
                    SectionDefinition(
                        title="About you",
                        questions=[
                            QuestionDefinition(kind=FormQuestionKind.text, text="Full name", required=True),
                            QuestionDefinition(
                                kind=FormQuestionKind.single_choice, text="Smoker", choices=["Yes", "No"]
                            ),
                        ],
                    )
                ],
                consent_documents=[ConsentDocumentDefinition(name="HIPAA Release", html="<p>I consent.</p>")],
            ),
        )
    return contents.form
