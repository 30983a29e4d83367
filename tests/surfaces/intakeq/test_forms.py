"""Forms through HTTP as an integrator calls them: the partner's master forms, a practice's forms, copying
a master form into a practice, and the practice's questionnaires (the Forms API)."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from pathlib import Path
from typing import Any

import httpx

from clinicore.core.forms import service as form_service
from clinicore.core.forms.schemas import (
    ConsentDocumentDefinition,
    FormContents,
    FormDefinition,
    FormOwner,
    QuestionDefinition,
    SectionDefinition,
)
from clinicore.core.models import FormKind
from clinicore.runtime import Runtime
from tests.surfaces.intakeq.conftest import (
    PARTNER_URL,
    PRACTICE_URL,
    PartnerAccount,
    PracticeAccount,
    open_practice,
)

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CONSENT = ConsentDocumentDefinition(name="HIPAA Release Form", html="<p>I consent.</p>")
GOLDEN = Path(__file__).parent / "golden"


def golden(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GOLDEN / name).read_text())
    return loaded


def json_types(document: dict[str, Any]) -> dict[str, str]:
    return {name: type(value).__name__ for name, value in document.items()}


async def make_form(
    runtime: Runtime,
    owner: FormOwner,
    *,
    name: str = "Intake Form",
    kind: str = FormKind.questionnaire,
    consent: bool = False,
) -> FormContents:
    async with runtime.sessions() as session, session.begin():
        return await form_service.create_form(
            session,
            owner=owner,
            definition=FormDefinition(
                name=name,
                kind=kind,
                sections=[SectionDefinition(questions=[QuestionDefinition(kind="text", text="Name")])],
                consent_documents=[CONSENT] if consent else [],
            ),
        )


async def master_form(partner: PartnerAccount, **values: Any) -> FormContents:
    return await make_form(partner.runtime, FormOwner.partner(partner.partner.id), **values)


async def archive(runtime: Runtime, owner: FormOwner, form_id: uuid.UUID) -> None:
    async with runtime.sessions() as session, session.begin():
        await form_service.set_form_archived(session, owner=owner, form_id=form_id, archived=True)


async def partner_get(partner: PartnerAccount, path: str) -> httpx.Response:
    return await partner.client.get(f"{PARTNER_URL}{path}", headers=partner.headers)


async def copy_form(
    partner: PartnerAccount, body: Any, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await partner.client.post(
        f"{PARTNER_URL}/practice/copyForm", json=body, headers=partner.headers | (headers or {})
    )


class TestMasterForms:
    async def test_lists_the_partners_master_forms_in_the_doc_shape(
        self, partner: PartnerAccount, other_partner: PartnerAccount
    ) -> None:
        intake = await master_form(partner)
        note = await master_form(partner, name="Note", kind=FormKind.treatment_note)
        await archive(partner.runtime, FormOwner.partner(partner.partner.id), note.form.id)
        await master_form(other_partner, name="Theirs")
        response = await partner_get(partner, "/masterForms")
        assert response.status_code == 200
        assert response.json() == [
            {"Id": str(intake.form.id), "Name": "Intake Form", "Archived": False, "Type": "Questionnaire"},
            {"Id": str(note.form.id), "Name": "Note", "Archived": True, "Type": "TreatmentNote"},
        ]
        assert all(GUID.fullmatch(form["Id"]) for form in response.json())

    async def test_a_partner_without_forms_gets_an_empty_array(self, partner: PartnerAccount) -> None:
        response = await partner_get(partner, "/masterForms")
        assert (response.status_code, response.json()) == (200, [])

    async def test_needs_the_partner_key(self, partner: PartnerAccount, practice: PracticeAccount) -> None:
        for headers in ({}, {"X-Auth-Key": ""}, practice.headers, {"X-Auth-Key": "0" * 48}):
            response = await partner.client.get(f"{PARTNER_URL}/masterForms", headers=headers)
            assert response.status_code == 401
            assert set(response.json()) == {"Message"}


class TestPracticeForms:
    async def test_lists_a_practices_forms_by_id_or_external_id(self, partner: PartnerAccount) -> None:
        account = await open_practice(partner, ExternalPracticeId="ext-forms")
        form = await make_form(partner.runtime, FormOwner.clinic(account.clinic_id), name="Practice form")
        await master_form(partner)  # a master form is not the practice's
        expected = [
            {"Id": str(form.form.id), "Name": "Practice form", "Archived": False, "Type": "Questionnaire"}
        ]
        for reference in (account.practice["Id"], account.practice["Id"].lower(), "ext-forms"):
            response = await partner_get(partner, f"/practice/{reference}/forms")
            assert (response.status_code, response.json()) == (200, expected)

    async def test_another_partners_or_an_unknown_or_deleted_practice_is_a_404(
        self, partner: PartnerAccount, other_practice: PracticeAccount
    ) -> None:
        gone = await partner.create_practice()
        response = await partner.client.delete(
            f"{PARTNER_URL}/practice/{gone['Id']}", headers=partner.headers
        )
        assert response.status_code == 200
        for reference in (other_practice.practice["Id"], "nope", gone["Id"], "x" * 300):
            response = await partner_get(partner, f"/practice/{reference}/forms")
            assert response.status_code == 404, reference
            assert response.json() == {"Message": "practice not found"}

    async def test_a_nul_character_in_the_path_is_refused_in_the_envelope(
        self, partner: PartnerAccount
    ) -> None:
        # The surfaces' guard for unstorable text answers first (400); the core alone reads it as missing.
        response = await partner_get(partner, "/practice/a%00b/forms")
        assert response.status_code in (400, 404)
        assert set(response.json()) == {"Message"}

    async def test_needs_the_partner_key(self, practice: PracticeAccount) -> None:
        response = await practice.client.get(
            f"{PARTNER_URL}/practice/{practice.practice['Id']}/forms", headers=practice.headers
        )
        assert response.status_code == 401


class TestCopyForm:
    async def test_copies_a_master_form_into_the_practice_and_answers_the_new_form(
        self, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        master = await master_form(partner, consent=True)
        response = await copy_form(
            partner,
            {
                "SourceMasterFormId": str(master.form.id),
                "DestinationPracticeId": practice.practice["Id"],
                "CopyAttachedConsentForms": True,
            },
        )
        assert response.status_code == 200
        body = response.json()
        assert GUID.fullmatch(body["Id"]) and body["Id"] != str(master.form.id)
        assert body | {"Id": None} == {
            "Id": None,
            "Name": "Intake Form",
            "Archived": False,
            "Type": "Questionnaire",
        }
        listed = await partner_get(partner, f"/practice/{practice.practice['Id']}/forms")
        assert listed.json() == [body]
        async with partner.runtime.sessions() as session:
            copy = await form_service.get_form(
                session, owner=FormOwner.clinic(practice.clinic_id), form_id=body["Id"]
            )
        assert [document.name for document in copy.consent_documents] == ["HIPAA Release Form"]

    async def test_consent_documents_stay_behind_unless_asked(
        self, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        master = await master_form(partner, consent=True)
        for switch in ({}, {"CopyAttachedConsentForms": False}, {"CopyAttachedConsentForms": "FALSE"}):
            response = await copy_form(
                partner,
                {"SourceMasterFormId": str(master.form.id), "DestinationPracticeId": practice.practice["Id"]}
                | switch,
            )
            assert response.status_code == 200
            async with partner.runtime.sessions() as session:
                copy = await form_service.get_form(
                    session, owner=FormOwner.clinic(practice.clinic_id), form_id=response.json()["Id"]
                )
            assert copy.consent_documents == []

    async def test_the_destination_may_be_the_external_id_sent_as_a_number(
        self, partner: PartnerAccount
    ) -> None:
        account = await open_practice(partner, ExternalPracticeId="1234")
        master = await master_form(partner, name="Note", kind=FormKind.treatment_note)
        response = await copy_form(
            partner,
            {"SourceMasterFormId": str(master.form.id).upper(), "DestinationPracticeId": 1234},
            headers={"Content-Type": "Application/Json"},
        )
        assert response.status_code == 200
        assert response.json()["Type"] == "TreatmentNote"
        questionnaires = await account.get("/questionnaires")
        assert [form["Name"] for form in questionnaires.json()] == ["Note"]

    async def test_required_fields_are_a_400_naming_them(
        self, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        master = await master_form(partner)
        source, destination = str(master.form.id), practice.practice["Id"]
        for body, message in (
            ({"DestinationPracticeId": destination}, "SourceMasterFormId: is required"),
            (
                {"SourceMasterFormId": None, "DestinationPracticeId": destination},
                "SourceMasterFormId: is required",
            ),
            ({"SourceMasterFormId": source}, "DestinationPracticeId: is required"),
            (
                {"SourceMasterFormId": source, "DestinationPracticeId": "  "},
                "DestinationPracticeId: is required",
            ),
        ):
            response = await copy_form(partner, body)
            assert (response.status_code, response.json()) == (400, {"Message": message})

    async def test_fields_of_the_wrong_type_are_a_400_naming_them(
        self, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        master = await master_form(partner)
        good = {"SourceMasterFormId": str(master.form.id), "DestinationPracticeId": practice.practice["Id"]}
        for change, field in (
            ({"SourceMasterFormId": True}, "SourceMasterFormId"),
            ({"SourceMasterFormId": ["a"]}, "SourceMasterFormId"),
            ({"DestinationPracticeId": {"Id": 1}}, "DestinationPracticeId"),
            ({"DestinationPracticeId": "x" * 201}, "DestinationPracticeId"),
            ({"CopyAttachedConsentForms": "yes"}, "CopyAttachedConsentForms"),
            ({"CopyAttachedConsentForms": 1}, "CopyAttachedConsentForms"),
        ):
            response = await copy_form(partner, good | change)
            assert response.status_code == 400
            assert response.json()["Message"].startswith(f"{field}: ")

    async def test_bodies_that_are_not_a_json_object_are_refused(self, partner: PartnerAccount) -> None:
        for content, status in ((b"{", 400), (b"[]", 400), (b"", 400)):
            response = await partner.client.post(
                f"{PARTNER_URL}/practice/copyForm",
                content=content,
                headers=partner.headers | {"Content-Type": "application/json"},
            )
            assert response.status_code == status
        response = await partner.client.post(
            f"{PARTNER_URL}/practice/copyForm",
            content=b"a=b",
            headers=partner.headers | {"Content-Type": "text/plain"},
        )
        assert response.status_code == 415

    async def test_nul_characters_are_a_400(self, partner: PartnerAccount, practice: PracticeAccount) -> None:
        master = await master_form(partner)
        for body in (
            {"SourceMasterFormId": "\u0000", "DestinationPracticeId": practice.practice["Id"]},
            {"SourceMasterFormId": str(master.form.id), "DestinationPracticeId": "a\u0000"},
            {
                "SourceMasterFormId": str(master.form.id),
                "DestinationPracticeId": practice.practice["Id"],
                "X\u0000": 1,
            },
        ):
            response = await copy_form(partner, body)
            assert response.status_code == 400
            assert "NUL" in response.json()["Message"]

    async def test_another_partners_or_unknown_ids_are_a_400_naming_the_field(
        self, partner: PartnerAccount, practice: PracticeAccount, other_partner: PartnerAccount
    ) -> None:
        mine = await master_form(partner)
        theirs = await master_form(other_partner)
        other_practice = await open_practice(other_partner)
        practice_form = await make_form(partner.runtime, FormOwner.clinic(practice.clinic_id))
        for source, destination, message in (
            (theirs.form.id, practice.practice["Id"], "SourceMasterFormId: no such master form"),
            (
                practice_form.form.id,
                practice.practice["Id"],
                "SourceMasterFormId: no such master form",
            ),
            (
                "43b471c0877aa6ec92556bcc4",
                practice.practice["Id"],
                "SourceMasterFormId: no such master form",
            ),
            (mine.form.id, other_practice.practice["Id"], "DestinationPracticeId: no such practice"),
            (mine.form.id, "unknown", "DestinationPracticeId: no such practice"),
        ):
            response = await copy_form(
                partner, {"SourceMasterFormId": str(source), "DestinationPracticeId": destination}
            )
            assert (response.status_code, response.json()) == (400, {"Message": message})
        listed = await other_partner.client.get(
            f"{PARTNER_URL}/practice/{other_practice.practice['Id']}/forms", headers=other_partner.headers
        )
        assert listed.json() == []

    async def test_an_archived_master_form_is_a_400(
        self, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        master = await master_form(partner)
        await archive(partner.runtime, FormOwner.partner(partner.partner.id), master.form.id)
        response = await copy_form(
            partner,
            {"SourceMasterFormId": str(master.form.id), "DestinationPracticeId": practice.practice["Id"]},
        )
        assert (response.status_code, response.json()) == (
            400,
            {"Message": "SourceMasterFormId: the master form is archived"},
        )

    async def test_needs_the_partner_key(self, practice: PracticeAccount) -> None:
        response = await practice.client.post(
            f"{PARTNER_URL}/practice/copyForm",
            json={"SourceMasterFormId": str(uuid.uuid4()), "DestinationPracticeId": practice.practice["Id"]},
            headers=practice.headers,
        )
        assert response.status_code == 401


class TestQuestionnaires:
    async def test_lists_the_practices_form_templates(
        self, practice: PracticeAccount, other_practice: PracticeAccount
    ) -> None:
        owner = FormOwner.clinic(practice.clinic_id)
        first = await make_form(practice.runtime, owner, name="Intake")
        note = await make_form(practice.runtime, owner, name="Note", kind=FormKind.treatment_note)
        await archive(practice.runtime, owner, note.form.id)
        await make_form(practice.runtime, FormOwner.clinic(other_practice.clinic_id), name="Theirs")
        response = await practice.get("/questionnaires", unknown="ignored")
        assert response.status_code == 200
        assert response.json() == [
            {"Id": str(first.form.id), "Name": "Intake", "Archived": False},
            {"Id": str(note.form.id), "Name": "Note", "Archived": True},
        ]

    async def test_needs_the_practice_key(self, partner: PartnerAccount, practice: PracticeAccount) -> None:
        for headers in ({}, partner.headers, {"X-Auth-Key": secrets.token_hex(20)}):
            response = await practice.client.get(f"{PRACTICE_URL}/questionnaires", headers=headers)
            assert response.status_code == 401


class TestGolden:
    async def test_the_docs_copy_request_answers_the_docs_form_shape_everywhere(
        self, partner: PartnerAccount
    ) -> None:
        account = await open_practice(partner, ExternalPracticeId="1234")
        master = await master_form(partner, consent=True)
        request = golden("copy_form_request.json") | {"SourceMasterFormId": str(master.form.id)}
        copied = await copy_form(partner, request)
        assert copied.status_code == 200
        shape = json_types(golden("form.json"))
        assert json_types(copied.json()) == shape
        for path in ("/masterForms", f"/practice/{account.practice['Id']}/forms"):
            assert [json_types(form) for form in (await partner_get(partner, path)).json()] == [shape]
        questionnaires = (await account.get("/questionnaires")).json()
        assert [json_types(form) for form in questionnaires] == [
            {name: kind for name, kind in shape.items() if name != "Type"}
        ]

    async def test_each_api_publishes_the_form_routes(self, client: httpx.AsyncClient) -> None:
        partner = (await client.get(f"{PARTNER_URL}/openapi.json")).json()
        practice = (await client.get(f"{PRACTICE_URL}/openapi.json")).json()
        assert {"/masterForms", "/practice/{practice_id}/forms", "/practice/copyForm"} <= set(
            partner["paths"]
        )
        body = partner["paths"]["/practice/copyForm"]["post"]["requestBody"]["content"]["application/json"]
        assert "SourceMasterFormId" in body["schema"]["properties"]
        assert "/questionnaires" in practice["paths"]
