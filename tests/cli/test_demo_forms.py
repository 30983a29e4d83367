"""The demo forms: the partner's questionnaire (every question kind and a HIPAA consent document) and
treatment note, and the clinic's copy of the questionnaire, visible through the partner API; seeding twice
adds nothing."""

from __future__ import annotations

import secrets

import httpx

from clinicore.cli.demo_forms import seed_demo_forms
from clinicore.core.forms import service as form_service
from clinicore.core.forms.schemas import FormOwner
from clinicore.core.models import FormQuestionKind
from clinicore.runtime import Runtime
from tests.surfaces.intakeq.conftest import PARTNER_URL, create_partner_account, open_practice


async def test_seeds_two_master_forms_and_a_practice_copy_once(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    partner = await create_partner_account(runtime, client)
    practice = await open_practice(partner, ExternalPracticeId=f"demo-{secrets.token_hex(3)}")
    for _ in range(2):
        async with runtime.sessions() as session, session.begin():
            seeded = await seed_demo_forms(session, partner.partner.id, practice.clinic_id)

    masters = (await client.get(f"{PARTNER_URL}/masterForms", headers=partner.headers)).json()
    assert [(form["Name"], form["Type"]) for form in masters] == [
        ("New client intake", "Questionnaire"),
        ("Treatment note", "TreatmentNote"),
    ]
    practice_forms = await client.get(
        f"{PARTNER_URL}/practice/{practice.practice['Id']}/forms", headers=partner.headers
    )
    assert [form["Id"] for form in practice_forms.json()] == [str(seeded.clinic_questionnaire.id)]

    async with runtime.sessions() as session:
        questionnaire = await form_service.get_form(
            session, owner=FormOwner.partner(partner.partner.id), form_id=seeded.questionnaire.id
        )
        copy = await form_service.get_form(
            session, owner=FormOwner.clinic(practice.clinic_id), form_id=seeded.clinic_questionnaire.id
        )
    kinds = {question.kind for part in questionnaire.sections for question in part.questions}
    assert kinds == {kind.value for kind in FormQuestionKind}
    assert [document.name for document in questionnaire.consent_documents] == ["HIPAA Release Form"]
    assert [document.name for document in copy.consent_documents] == ["HIPAA Release Form"]
    assert "<h2>" in copy.consent_documents[0].html
