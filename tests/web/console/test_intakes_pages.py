"""The console's intakes pages and report, as a practice's staff member signed on by its partner sees
them: the list and its filters, one intake with its answers and consents, its PDF, another practice's
intake, bad filters, and the report's counts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from clinicore.core.audit.service import SYSTEM
from clinicore.core.forms import intakes
from clinicore.core.forms import service as form_service
from clinicore.core.forms.intake_schemas import IntakeRequest
from clinicore.core.forms.schemas import (
    ConsentDocumentDefinition,
    FormDefinition,
    FormOwner,
    QuestionDefinition,
    SectionDefinition,
)
from clinicore.core.models import Clinic, FormKind, FormQuestionKind
from clinicore.runtime import Runtime
from tests.surfaces.intakeq.conftest import (
    PARTNER_URL,
    PartnerAccount,
    PracticeAccount,
    create_partner_account,
    open_practice,
)
from tests.web.frozen_console import FrozenApp, frozen_app

BASE_URL = "http://clinicore.test"


@pytest.fixture
async def app(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


@pytest.fixture
async def partner(app: FrozenApp) -> PartnerAccount:
    return await create_partner_account(app.runtime, app.client)


@pytest.fixture
async def practice(partner: PartnerAccount) -> PracticeAccount:
    return await open_practice(partner)


async def signed_on(app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount) -> httpx.AsyncClient:
    token = (
        await partner.client.get(
            f"{PARTNER_URL}/practice/{practice.practice['Id']}/ephemeral", headers=partner.headers
        )
    ).json()
    browser = app.new_client()
    response = await browser.get(
        "/signin/authenticate", params={"token": token["Token"], "userId": token["UserId"]}
    )
    assert response.status_code == 303
    return browser


async def make_form(app: FrozenApp, clinic_id: uuid.UUID, name: str) -> Any:
    async with app.runtime.sessions() as session, session.begin():
        return await form_service.create_form(
            session,
            owner=FormOwner.clinic(clinic_id),
            definition=FormDefinition(
                name=name,
                kind=FormKind.questionnaire,
                sections=[
                    SectionDefinition(
                        title="About you",
                        questions=[
                            QuestionDefinition(kind=FormQuestionKind.text, text="Your name", required=True),
                            QuestionDefinition(
                                kind=FormQuestionKind.single_choice, text="Smoker", choices=["Yes", "No"]
                            ),
                        ],
                    )
                ],
                consent_documents=[ConsentDocumentDefinition(name="HIPAA Release", html="<p>I agree.</p>")],
            ),
        )


async def make_intake(
    app: FrozenApp, clinic_id: uuid.UUID, form: Any, client_name: str, *, submit: bool
) -> uuid.UUID:
    async with app.runtime.sessions() as session, session.begin():
        clinic = await session.get(Clinic, clinic_id)
        assert clinic is not None
        view = await intakes.create_intake(
            session,
            clinic=clinic,
            request=IntakeRequest(
                form_id=str(form.form.id),
                client_name=client_name,
                client_email=f"{uuid.uuid4().hex[:8]}@x.example",
            ),
            secret_box=app.runtime.box,
            base_url=BASE_URL,
            actor=SYSTEM,
            clock=app.clock,
        )
        if submit:
            questions = {q.text: str(q.id) for s in form.sections for q in s.questions}
            await intakes.submit(
                session,
                intake_id=view.intake.id,
                answers={questions["Your name"]: "Rita Bennett", questions["Smoker"]: "No"},
                consents={str(form.consent_documents[0].id): "Rita Bennett"},
                clock=app.clock,
                actor=SYSTEM,
                base_url=BASE_URL,
            )
        return view.intake.id


class TestIntakesPages:
    async def test_the_list_filters_and_one_intake_shows_answers_consents_and_pdf(
        self, app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        form = await make_form(app, practice.clinic_id, "New patient form")
        done = await make_intake(app, practice.clinic_id, form, "Rita Bennett", submit=True)
        pending = await make_intake(app, practice.clinic_id, form, "Harry Morgan", submit=False)
        browser = await signed_on(app, partner, practice)

        listed = await browser.get("/console/intakes")
        assert listed.status_code == 200
        assert str(done) in listed.text and str(pending) in listed.text
        submitted_only = await browser.get("/console/intakes", params={"shown": "submitted"})
        assert str(done) in submitted_only.text and str(pending) not in submitted_only.text
        for status in ("created", "sent", "in_progress"):
            narrowed = await browser.get("/console/intakes", params={"shown": status})
            assert narrowed.status_code == 200 and f'<option value="{status}" selected>' in narrowed.text
            assert str(done) not in narrowed.text
            assert (str(pending) in narrowed.text) == (status == "created"), status
        by_client = await browser.get("/console/intakes", params={"client": "harry"})
        assert str(pending) in by_client.text and str(done) not in by_client.text

        page = await browser.get(f"/console/intakes/{done}")
        assert page.status_code == 200
        for shown in (
            "Rita Bennett",
            "New patient form",
            "Submitted",
            "HIPAA Release",
            f'/intake/{done}"',
        ):
            assert shown in page.text
        pdf = await browser.get(f"/console/intakes/{done}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert (await browser.get(f"/console/intakes/{done.hex.upper()}")).status_code == 200

    async def test_another_practices_intake_and_bad_ids_are_404_and_bad_filters_400(
        self, app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        elsewhere = await open_practice(await create_partner_account(app.runtime, app.client))
        form = await make_form(app, elsewhere.clinic_id, "Their form")
        theirs = await make_intake(app, elsewhere.clinic_id, form, "Someone Else", submit=False)
        browser = await signed_on(app, partner, practice)
        for path in (f"/console/intakes/{theirs}", f"/console/intakes/{theirs}/pdf", "/console/intakes/nope"):
            assert (await browser.get(path)).status_code == 404, path
        assert (await browser.get("/console/intakes/" + "x" * 5000)).status_code == 404
        for params in (
            {"start": "yesterday"},
            {"page": "0"},
            {"page": "99999999999"},
            {"client": "x" * 500},
            {"shown": "weird"},
            {"start": "2031-03-05", "end": "2031-03-01"},
        ):
            response = await browser.get("/console/intakes", params=params)
            assert response.status_code == 400 and 'class="alert error"' in response.text, params

    async def test_the_report_counts_by_status_and_by_form(
        self, app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        first = await make_form(app, practice.clinic_id, "Form A")
        second = await make_form(app, practice.clinic_id, "Form B")
        await make_intake(app, practice.clinic_id, first, "Rita Bennett", submit=True)
        await make_intake(app, practice.clinic_id, first, "Deb Morgan", submit=False)
        await make_intake(app, practice.clinic_id, second, "Vince Masuka", submit=True)
        browser = await signed_on(app, partner, practice)
        report = await browser.get("/console/reports")
        assert report.status_code == 200
        text = " ".join(report.text.split())
        assert "3 intake(s) made" in text
        assert '<tr data-status="submitted"><td>Submitted</td><td>2</td></tr>' in text
        assert "<tr><td>Form A</td><td>2</td><td>1</td></tr>" in text
        assert "<tr><td>Form B</td><td>1</td><td>1</td></tr>" in text
        empty = await browser.get("/console/reports", params={"start": "2020-01-01", "end": "2020-01-31"})
        assert "0 intake(s) made" in empty.text
        assert (
            await browser.get("/console/reports", params={"start": "2031-01-01", "end": "2020-01-01"})
        ).status_code == 400
        assert (await browser.get("/console/reports", params={"start": "x" * 500})).status_code == 400


class TestAnAssistantSeesItsPractitionersIntakesOnly:
    """IntakeQ's ``PractitionerIds``: an assistant limited to some practitioners sees their intakes only
    (the list, one intake, its PDF, the report); an assistant without limits sees everyone's."""

    async def test_the_list_one_intake_its_pdf_and_the_report_keep_to_its_practitioners(
        self, app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        made = await practice.post(
            "/practitioners", {"FirstName": "Ada", "LastName": "Stone", "Email": "ada.stone@practice.example"}
        )
        assert made.status_code == 200, made.text
        ada = made.json()["Id"]
        limited = await practice.post(
            "/assistants",
            {"Name": "Lee Desk", "Email": "lee.desk@practice.example", "PractitionerIds": [ada]},
        )
        unlimited = await practice.post(
            "/assistants", {"Name": "Kim Desk", "Email": "kim.desk@practice.example"}
        )
        assert limited.status_code == unlimited.status_code == 200, (limited.text, unlimited.text)
        form = await make_form(app, practice.clinic_id, "Scoped form")
        questionnaire = str(form.form.id)
        ours = await practice.post(
            "/intakes/create",
            {
                "QuestionnaireId": questionnaire,
                "ClientName": "Ann Ours",
                "ClientEmail": "ann.ours@x.example",
                "PractitionerId": ada,
            },
        )
        theirs = await practice.post(
            "/intakes/create",
            {
                "QuestionnaireId": questionnaire,
                "ClientName": "Bob Theirs",
                "ClientEmail": "bob.theirs@x.example",
            },
        )
        assert ours.status_code == theirs.status_code == 200, (ours.text, theirs.text)
        our_id, their_id = ours.json()["Id"], theirs.json()["Id"]

        async def as_assistant(assistant_id: str) -> httpx.AsyncClient:
            token = (
                await partner.client.get(
                    f"{PARTNER_URL}/practice/{practice.practice['Id']}/ephemeral",
                    params={"userId": assistant_id},
                    headers=partner.headers,
                )
            ).json()
            browser = app.new_client()
            signed = await browser.get(
                "/signin/authenticate", params={"token": token["Token"], "userId": token["UserId"]}
            )
            assert signed.status_code == 303, signed.text
            return browser

        lee = await as_assistant(limited.json()["Id"])
        listed = await lee.get("/console/intakes")
        assert listed.status_code == 200
        assert "Ann Ours" in listed.text and "Bob Theirs" not in listed.text
        assert (await lee.get(f"/console/intakes/{our_id}")).status_code == 200
        assert (await lee.get(f"/console/intakes/{their_id}")).status_code == 404
        assert (await lee.get(f"/console/intakes/{their_id}/pdf")).status_code == 404
        report = await lee.get("/console/reports")
        assert report.status_code in (200, 403)  # the role may not see reports; when it may, one intake
        if report.status_code == 200:
            assert "Scoped form" in report.text

        kim = await as_assistant(unlimited.json()["Id"])
        everyone = await kim.get("/console/intakes")
        assert "Ann Ours" in everyone.text and "Bob Theirs" in everyone.text
        assert (await kim.get(f"/console/intakes/{their_id}")).status_code == 200
