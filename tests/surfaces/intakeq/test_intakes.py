"""Intakes through HTTP as an integrator calls them: create and send, the Intake object, the summary, the
PDF, attachments and sign-in tokens on ``/intakeq/api/v1``; the intake-submitted webhook to an
``intakeq`` endpoint and the staff email."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clinicore.core.audit.service import Actor
from clinicore.core.forms import intakes
from clinicore.core.forms import service as form_service
from clinicore.core.forms.schemas import (
    ConsentDocumentDefinition,
    FormContents,
    FormDefinition,
    FormOwner,
    QuestionDefinition,
    SectionDefinition,
)
from clinicore.core.models import Clinic, FormKind, FormQuestionKind, OutboundEmail
from clinicore.kit.clock import system_clock
from tests.core.events.receiver import Receiver, running_receiver
from tests.core.forms.test_intakes import PDF, png
from tests.factories import create_key, run_webhook_jobs
from tests.support import remember_secret
from tests.surfaces.intakeq.conftest import PRACTICE_URL, PartnerAccount, PracticeAccount

Q = FormQuestionKind
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SUMMARY_FIELDS = {
    "Id",
    "ClientName",
    "ClientEmail",
    "ClientId",
    "Status",
    "DateCreated",
    "DateSubmitted",
    "QuestionnaireName",
    "Practitioner",
    "PractitionerName",
    "ExternalClientId",
}
INTAKE_FIELDS = SUMMARY_FIELDS | {"Questions", "AppointmentId", "Url", "Password", "ConsentForms"}
QUESTION_FIELDS = {
    "Id",
    "Text",
    "Answer",
    "QuestionType",
    "Rows",
    "ColumnNames",
    "OfficeUse",
    "OfficeNote",
    "ClientProfileFieldId",
    "Attachments",
}


async def practice_form(practice: PracticeAccount, *, kind: str = FormKind.questionnaire) -> FormContents:
    async with practice.runtime.sessions() as session, session.begin():
        return await form_service.create_form(
            session,
            owner=FormOwner.clinic(practice.clinic_id),
            definition=FormDefinition(
                name="New Client Intake",
                kind=kind,
                sections=[
                    SectionDefinition(
                        questions=[
                            QuestionDefinition(kind=Q.text, text="Full name", required=True),
                            QuestionDefinition(
                                kind=Q.multiple_choice, text="Symptoms", choices=["Cough", "Fever"]
                            ),
                            QuestionDefinition(
                                kind=Q.matrix,
                                text="How often",
                                matrix_rows=["Sleep"],
                                matrix_columns=["Never", "Often"],
                            ),
                            QuestionDefinition(kind=Q.file_upload, text="Insurance card"),
                            QuestionDefinition(kind=Q.signature, text="Signature", required=True),
                        ]
                    )
                ],
                consent_documents=[
                    ConsentDocumentDefinition(name="HIPAA Release Form", html="<p>I agree.</p>")
                ],
            ),
        )


def body(form: FormContents, **fields: Any) -> dict[str, Any]:
    return {
        "QuestionnaireId": str(form.form.id),
        "ClientName": "Dexter Morgan",
        "ClientEmail": f"dexter-{secrets.token_hex(3)}@example.com",
    } | fields


async def created(practice: PracticeAccount, form: FormContents, **fields: Any) -> dict[str, Any]:
    response = await practice.post("/intakes/create", body(form, **fields))
    assert response.status_code == 200, response.text
    remember_secret(response.json()["Password"])
    intake: dict[str, Any] = response.json()
    return intake


def question_ids(form: FormContents) -> dict[str, str]:
    return {q.text: str(q.id) for s in form.sections for q in s.questions}


async def fill_and_submit(practice: PracticeAccount, form: FormContents, intake_id: str) -> None:
    """What the client does on the form page, through the core the page calls."""
    ids = question_ids(form)
    runtime = practice.runtime
    storage = runtime.storage
    async with runtime.sessions() as session, session.begin():
        card = await intakes.store_file(
            session,
            storage,
            intake_id=uuid.UUID(intake_id),
            question_id=ids["Insurance card"],
            name="card.pdf",
            content_type="application/pdf",
            data=PDF,
            clock=system_clock,
            max_bytes=1024 * 1024,
        )
        signature = await intakes.store_file(
            session,
            storage,
            intake_id=uuid.UUID(intake_id),
            question_id=ids["Signature"],
            name="signature.png",
            content_type="image/png",
            data=png(),
            clock=system_clock,
            max_bytes=1024 * 1024,
        )
        await intakes.submit(
            session,
            intake_id=uuid.UUID(intake_id),
            answers={
                ids["Full name"]: "Dexter Morgan",
                ids["Symptoms"]: ["Fever"],
                ids["How often"]: {"Sleep": "Often"},
                ids["Insurance card"]: str(card.id),
                ids["Signature"]: str(signature.id),
            },
            consents={str(form.consent_documents[0].id): "Dexter Morgan"},
            clock=system_clock,
            actor=Actor("patient"),
            base_url=runtime.settings.base_url,
        )


class TestCreateIntake:
    async def test_answers_the_doc_intake_object_with_url_and_password(
        self, practice: PracticeAccount
    ) -> None:
        form = await practice_form(practice)
        intake = await created(practice, form, ExternalClientId=1234)
        assert set(intake) == INTAKE_FIELDS
        assert GUID.fullmatch(intake["Id"])
        assert intake["Status"] == "Sent" and intake["DateSubmitted"] is None
        assert isinstance(intake["DateCreated"], int) and intake["DateCreated"] > 1_600_000_000_000
        assert intake["ClientName"] == "Dexter Morgan" and isinstance(intake["ClientId"], int)
        assert intake["ExternalClientId"] == "1234"
        assert intake["QuestionnaireName"] == "New Client Intake"
        assert intake["Practitioner"] == practice.practice["Email"].lower() or intake["Practitioner"]
        assert intake["PractitionerName"] == "John Smith"
        assert intake["Url"] == f"http://testserver/intake/{intake['Id']}"
        assert re.fullmatch(r"\d{6}", intake["Password"])
        assert [q["QuestionType"] for q in intake["Questions"]] == [
            "OpenQuestion",
            "MultipleChoice",
            "Matrix",
            "Attachment",
            "Attachment",
        ]
        assert all(set(q) == QUESTION_FIELDS for q in intake["Questions"])
        assert intake["ConsentForms"] == [
            {
                "Id": str(form.consent_documents[0].id),
                "Name": "HIPAA Release Form",
                "DocumentType": "Html",
                "Signed": False,
                "DateSubmitted": None,
            }
        ]

    async def test_finds_the_client_by_client_id(self, practice: PracticeAccount) -> None:
        form = await practice_form(practice)
        first = await created(practice, form)
        again = await created(
            practice, form, ClientId=str(first["ClientId"]), ClientName=None, ClientEmail=None
        )
        assert again["ClientId"] == first["ClientId"] and again["Id"] != first["Id"]

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            (
                {"ClientName": None, "ClientEmail": None},
                "ClientId: identify the client by ClientId, by ExternalClientId",
            ),
            ({"QuestionnaireId": None}, "QuestionnaireId: is required"),
            ({"QuestionnaireId": str(uuid.uuid4())}, "QuestionnaireId: no such form"),
            ({"ClientId": 987654}, "ClientId: no such client"),
            ({"ClientId": "abc"}, "ClientId: must be a whole number"),
            ({"ClientId": True}, "ClientId: must be a whole number"),
            ({"ClientEmail": "not an email"}, "ClientEmail:"),
            ({"PractitionerId": "nobody"}, "PractitionerId: no such practitioner"),
            ({"ClientName": "x" * 201}, "ClientName:"),
        ],
    )
    async def test_bad_bodies_are_a_400_naming_the_field(
        self, practice: PracticeAccount, fields: dict[str, Any], message: str
    ) -> None:
        form = await practice_form(practice)
        response = await practice.post("/intakes/create", body(form, **fields))
        assert response.status_code == 400, response.text
        assert response.json()["Message"].startswith(message), response.json()

    async def test_a_body_that_is_not_an_object_or_not_json_is_a_400(self, practice: PracticeAccount) -> None:
        response = await practice.post("/intakes/create", ["x"])
        assert response.status_code == 400
        response = await practice.client.post(
            f"{PRACTICE_URL}/intakes/create",
            content=b"{nope",
            headers=practice.headers | {"Content-Type": "Application/Json"},
        )
        assert response.status_code == 400 and response.json() == {
            "Message": "the request body is not valid JSON"
        }

    async def test_forms_switched_off_archived_or_treatment_note_are_refused(
        self, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        note = await practice_form(practice, kind=FormKind.treatment_note)
        response = await practice.post("/intakes/create", body(note))
        assert response.status_code == 400 and "treatment note" in response.json()["Message"]
        form = await practice_form(practice)
        async with practice.runtime.sessions() as session, session.begin():
            await form_service.set_form_archived(
                session, owner=FormOwner.clinic(practice.clinic_id), form_id=form.form.id, archived=True
            )
        response = await practice.post("/intakes/create", body(form))
        assert response.status_code == 400 and "archived" in response.json()["Message"]
        form = await practice_form(practice)
        switched = await partner.client.put(
            "/intakeq/api/partner/practice",
            json={"Id": practice.practice["Id"], "FormsEnabled": False},
            headers=partner.headers,
        )
        assert switched.status_code == 200, switched.text
        response = await practice.post("/intakes/create", body(form))
        assert response.status_code == 400
        assert response.json()["Message"].startswith("FormsEnabled: forms are switched off")

    async def test_another_practices_form_is_a_400(
        self, practice: PracticeAccount, other_practice: PracticeAccount
    ) -> None:
        form = await practice_form(other_practice)
        response = await practice.post("/intakes/create", body(form))
        assert response.status_code == 400
        assert response.json()["Message"].startswith("QuestionnaireId: no such form")

    async def test_the_partner_key_or_no_key_is_a_401(
        self, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        form = await practice_form(practice)
        response = await partner.client.post(
            f"{PRACTICE_URL}/intakes/create", json=body(form), headers=partner.headers
        )
        assert response.status_code == 401 and response.json() == {"Message": "invalid API key"}
        response = await partner.client.post(f"{PRACTICE_URL}/intakes/create", json=body(form))
        assert response.status_code == 401


class TestSendIntake:
    async def test_emails_the_client_the_link_and_password(self, practice: PracticeAccount) -> None:
        form = await practice_form(practice)
        email = f"rita-{secrets.token_hex(3)}@example.com"
        response = await practice.post(
            "/intakes/send", body(form, ClientName="Rita Bennett", ClientEmail=email)
        )
        assert response.status_code == 200, response.text
        intake = response.json()
        assert intake["Status"] == "Sent" and set(intake) == INTAKE_FIELDS
        async with practice.runtime.sessions() as session:
            emails = (
                await session.scalars(select(OutboundEmail).where(OutboundEmail.to_address == email))
            ).all()
        assert len(emails) == 1
        assert intake["Url"] in emails[0].body and intake["Password"] in emails[0].body
        assert "Rita" not in emails[0].subject

    async def test_a_client_without_email_cannot_be_sent_a_form(self, practice: PracticeAccount) -> None:
        form = await practice_form(practice)
        response = await practice.post(
            "/intakes/send", body(form, ClientEmail=None, ClientPhone="+15555550123")
        )
        assert response.status_code == 400
        assert response.json()["Message"].startswith("ClientEmail: is required to send a form")


class TestGetIntake:
    async def test_answers_the_filled_form_with_questions_files_and_consents(
        self, practice: PracticeAccount
    ) -> None:
        form = await practice_form(practice)
        intake = await created(practice, form)
        await fill_and_submit(practice, form, intake["Id"])
        response = await practice.get(f"/intakes/{intake['Id'].upper()}")
        assert response.status_code == 200, response.text
        got = response.json()
        assert got["Status"] == "Completed" and isinstance(got["DateSubmitted"], int)
        assert got["Password"] == intake["Password"]
        name, symptoms, matrix, card, signature = got["Questions"]
        assert name["Answer"] == "Dexter Morgan" and symptoms["Answer"] == "Fever"
        assert matrix["Rows"] == [{"Text": "Sleep", "Answers": ["Often"]}]
        assert matrix["ColumnNames"] == ["Never", "Often"]
        [attachment] = card["Attachments"]
        assert attachment["ContentType"] == "application/pdf" and attachment["FileName"] == "card.pdf"
        assert signature["Attachments"][0]["ContentType"] == "image/png"
        [consent] = got["ConsentForms"]
        assert consent["Signed"] is True and consent["DateSubmitted"] == got["DateSubmitted"]

        download = await practice.client.get(attachment["Url"], headers=practice.headers)
        assert download.status_code == 200 and download.content == PDF
        assert download.headers["content-type"] == "application/pdf"

    async def test_another_practices_or_an_unknown_intake_is_a_404(
        self, practice: PracticeAccount, other_practice: PracticeAccount
    ) -> None:
        form = await practice_form(other_practice)
        theirs = await created(other_practice, form)
        for path in (
            f"/intakes/{theirs['Id']}",
            f"/intakes/{uuid.uuid4()}",
            "/intakes/not-an-id",
            f"/intakes/{theirs['Id']}/pdf",
        ):
            response = await practice.get(path)
            assert response.status_code == 404, path
            assert response.json() == {"Message": "intake not found"}
        response = await practice.post(f"/intakes/{theirs['Id']}/token")
        assert response.status_code == 404
        response = await practice.get(f"/attachment/{uuid.uuid4().hex}")
        assert response.status_code == 404


class TestToken:
    async def test_answers_a_40_hex_token_the_form_url_and_an_expiry_a_day_later(
        self, practice: PracticeAccount
    ) -> None:
        form = await practice_form(practice)
        intake = await created(practice, form)
        before = datetime.now(UTC)
        response = await practice.post(f"/intakes/{intake['Id']}/token")
        assert response.status_code == 200, response.text
        issued = response.json()
        remember_secret(issued["Token"])
        assert set(issued) == {"Token", "Url", "Expiration"}
        assert re.fullmatch(r"[0-9a-f]{40}", issued["Token"])
        assert issued["Url"] == intake["Url"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", issued["Expiration"])
        expires = datetime.fromisoformat(issued["Expiration"].replace("Z", "+00:00"))
        assert timedelta(hours=23, minutes=59) < expires - before <= timedelta(hours=24, seconds=5)
        async with practice.runtime.sessions() as session, session.begin():
            opened = await intakes.authenticate(
                session,
                intake_id=intake["Id"],
                token=issued["Token"],
                clock=system_clock,
                secret_box=practice.runtime.box,
            )
        assert str(opened.id) == intake["Id"]


class TestSummary:
    async def test_lists_submitted_intakes_unless_all_and_filters(self, practice: PracticeAccount) -> None:
        form = await practice_form(practice)
        done = await created(practice, form, ClientName="Rita Bennett")
        await fill_and_submit(practice, form, done["Id"])
        pending = await created(practice, form)

        response = await practice.get("/intakes/summary")
        assert response.status_code == 200
        [item] = response.json()
        assert set(item) == SUMMARY_FIELDS and item["Id"] == done["Id"] and item["Status"] == "Completed"
        everything = await practice.get("/intakes/summary", ALL="true")
        assert [i["Id"] for i in everything.json()] == [pending["Id"], done["Id"]]
        assert [i["Id"] for i in (await practice.get("/intakes/summary", client="bennett")).json()] == [
            done["Id"]
        ]
        today = datetime.now(UTC).date()
        window = {
            "startDate": (today - timedelta(days=1)).isoformat(),
            "endDate": (today + timedelta(days=1)).isoformat(),
        }
        assert len((await practice.get("/intakes/summary", all="1", **window)).json()) == 2
        assert (
            await practice.get("/intakes/summary", startDate=(today + timedelta(days=2)).isoformat())
        ).json() == []
        assert (await practice.get("/intakes/summary", page="2")).json() == []
        mine = await practice.get("/intakes/summary", all="true", clientId=str(done["ClientId"]))
        assert [i["Id"] for i in mine.json()] == [done["Id"]]
        assert (await practice.get("/intakes/summary", all="true", externalClientId="nobody")).json() == []

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"startDate": "21-08-2016"}, "startDate: must be a date as yyyy-MM-dd"),
            ({"endDate": "2016-02-30"}, "endDate: must be a date as yyyy-MM-dd"),
            ({"startDate": "2020-02-02", "endDate": "2020-02-01"}, "endDate: must not be before startDate"),
            ({"page": "0"}, "page:"),
            ({"all": "maybe"}, "all: must be true or false"),
            ({"clientId": "x1"}, "clientId: must be a whole number"),
        ],
    )
    async def test_bad_parameters_are_a_400_naming_them(
        self, practice: PracticeAccount, params: dict[str, str], message: str
    ) -> None:
        response = await practice.get("/intakes/summary", **params)
        assert response.status_code == 400
        assert response.json()["Message"].startswith(message), response.json()


class TestPdf:
    async def test_is_a_pdf_of_the_filled_form(self, practice: PracticeAccount) -> None:
        form = await practice_form(practice)
        intake = await created(practice, form)
        await fill_and_submit(practice, form, intake["Id"])
        response = await practice.get(f"/intakes/{intake['Id']}/pdf")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF") and b"/Subtype /Image" in response.content


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


class TestIntakeSubmittedWebhook:
    async def test_an_intakeq_endpoint_receives_intake_submitted_over_http(
        self, practice: PracticeAccount, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        async with practice.runtime.sessions() as session:
            clinic = await session.get(Clinic, practice.clinic_id)
        assert clinic is not None
        key = await create_key(practice.runtime, clinic)
        made = await client.post(
            "/api/webhook-endpoints",
            headers={"Authorization": f"Bearer {key}"},
            json={"format": "intakeq", "url": receiver.url()},
        )
        assert made.status_code == 201, made.text
        remember_secret(made.json()["secret"])
        assert "intake.submitted" in made.json()["events"]
        refused = await client.post(
            "/api/webhook-endpoints",
            headers={"Authorization": f"Bearer {key}"},
            json={"format": "intakeq", "url": receiver.url(), "events": ["lead.*"]},
        )
        assert refused.status_code == 400  # a type the intakeq format has no body for

        form = await practice_form(practice)
        intake = await created(practice, form, ExternalClientId="crm-77")
        await fill_and_submit(practice, form, intake["Id"])
        assert await run_webhook_jobs(practice.runtime, clinic) == 1
        [webhook] = receiver.received
        assert webhook.json() == {
            "IntakeId": intake["Id"],
            "Type": "Intake Submitted",
            "ClientId": intake["ClientId"],
            "PracticeId": practice.practice["Id"],
            "ExternalPracticeId": practice.practice["ExternalPracticeId"],
            "ExternalClientId": "crm-77",
        }
        assert webhook.headers["webhook-id"].startswith("evt_")

    async def test_the_staff_are_emailed_a_link_without_client_details(
        self, practice: PracticeAccount
    ) -> None:
        form = await practice_form(practice)
        intake = await created(practice, form)
        await fill_and_submit(practice, form, intake["Id"])
        async with practice.runtime.sessions() as session:
            emails = (
                await session.scalars(
                    select(OutboundEmail).where(
                        OutboundEmail.to_address == practice.practice["Email"].lower()
                    )
                )
            ).all()
        [email] = [e for e in emails if intake["Id"] in e.body]
        assert f"http://testserver/console/intakes/{intake['Id']}" in email.body
        assert practice.practice["PracticeName"] in email.subject and "Dexter" not in email.subject


GOLDEN = Path(__file__).parent / "golden"


def golden(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GOLDEN / name).read_text())
    return loaded


def json_types(document: dict[str, Any]) -> dict[str, str]:
    return {name: type(value).__name__ for name, value in document.items()}


class TestGolden:
    async def test_the_docs_create_request_answers_the_docs_intake_and_token_shapes(
        self, practice: PracticeAccount
    ) -> None:
        form = await practice_form(practice)
        request = golden("intake_create_request.json") | {"QuestionnaireId": str(form.form.id)}
        response = await practice.post("/intakes/create", request)
        assert response.status_code == 200, response.text
        intake = response.json()
        remember_secret(intake["Password"])
        assert intake["ExternalClientId"] == "abcd" and intake["ClientEmail"] == "dexter@email.com"
        await fill_and_submit(practice, form, intake["Id"])
        got = (await practice.get(f"/intakes/{intake['Id']}")).json()
        expected = json_types(golden("intake.json"))
        expected["AppointmentId"] = "NoneType"  # intakes are not linked to appointments yet
        assert json_types(got) == expected
        assert [json_types(c) for c in got["ConsentForms"]] == [
            json_types(c) for c in golden("intake.json")["ConsentForms"]
        ]
        token = (await practice.post(f"/intakes/{intake['Id']}/token")).json()
        remember_secret(token["Token"])
        assert json_types(token) == json_types(golden("intake_token.json"))
