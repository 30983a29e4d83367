"""Arrange an intake as an integrator does (a practice, a practice form holding every kind of question and
a consent document, ``POST /intakeq/api/v1/intakes/create``) and walk its form page through HTTP, as the
client's browser would."""

from __future__ import annotations

import base64
import dataclasses
import html
import re
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx

from clinicore.core.forms import intakes
from clinicore.core.forms import service as form_service
from clinicore.core.forms.intake_schemas import IntakeForm
from clinicore.core.forms.schemas import (
    ConsentDocumentDefinition,
    FormDefinition,
    FormOwner,
    QuestionDefinition,
    SectionDefinition,
)
from clinicore.core.models import FormKind, Partner
from clinicore.runtime import Runtime
from tests.support import remember_secret
from tests.surfaces.intakeq.conftest import PracticeAccount, create_partner_account, open_practice

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CONSENT_HTML = "<p>I allow the practice to use my health information for my treatment.</p>"

# The questions of the form, by the name the tests use: (kind, text, required, options).
QUESTIONS: dict[str, tuple[str, str, bool, dict[str, list[str]]]] = {
    "name": ("text", "Full name", True, {}),
    "notes": ("long_text", "Anything else we should know?", False, {}),
    "weight": ("number", "Weight (lb)", True, {}),
    "birth": ("date", "Date of birth", True, {}),
    "smoke": ("single_choice", "Do you smoke?", True, {"choices": ["Yes", "No"]}),
    "allergies": ("multiple_choice", "Allergies", False, {"choices": ["Penicillin", "Latex", "Nuts"]}),
    "pain": (
        "matrix",
        "How often do you have",
        True,
        {"matrix_rows": ["Headaches", "Back pain"], "matrix_columns": ["Never", "Sometimes", "Often"]},
    ),
    "photo_id": ("file_upload", "Photo of your ID", True, {}),
    "signature": ("signature", "Your signature", True, {}),
}
SECTIONS = {
    "About you": ["name", "notes", "weight", "birth"],
    "Your health": ["smoke", "allergies", "pain"],
    "Documents": ["photo_id", "signature"],
}


@dataclasses.dataclass
class ArrangedIntake:
    practice: PracticeAccount
    intake_id: str
    path: str  # the path of the intake's Url
    password: str
    question_ids: dict[str, str]  # test name -> question id
    consent_id: str

    def at(self, suffix: str = "") -> str:
        return f"{self.path}{suffix}"

    def field(self, name: str) -> str:
        """The page's field of a question that takes one value."""
        return f"q_{self.question_ids[name]}"


async def allow_redirects_to(runtime: Runtime, partner_id: uuid.UUID, *hosts: str) -> None:
    async with runtime.sessions() as session, session.begin():
        partner = await session.get(Partner, partner_id)
        assert partner is not None
        partner.allowed_redirect_hosts = list(hosts)
        partner.brand_color = "#7a3e9d"


async def practice_with_form(
    runtime: Runtime, client: httpx.AsyncClient, *, redirect_hosts: tuple[str, ...] = ("127.0.0.1",)
) -> tuple[PracticeAccount, str]:
    partner = await create_partner_account(runtime, client)
    await allow_redirects_to(runtime, partner.partner.id, *redirect_hosts)
    practice = await open_practice(partner, PracticeName=f"Glow Medspa {secrets.token_hex(2)}")
    sections = [
        SectionDefinition(
            title=title,
            description=f"Tell us {title.lower()}.",
            questions=[
                QuestionDefinition(
                    kind=QUESTIONS[name][0],
                    text=QUESTIONS[name][1],
                    required=QUESTIONS[name][2],
                    help_text="As on your ID." if name == "name" else None,
                    **QUESTIONS[name][3],
                )
                for name in names
            ],
        )
        for title, names in SECTIONS.items()
    ]
    async with runtime.sessions() as session, session.begin():
        contents = await form_service.create_form(
            session,
            owner=FormOwner.clinic(practice.clinic_id),
            definition=FormDefinition(
                name="New client intake",
                kind=FormKind.questionnaire,
                sections=sections,
                consent_documents=[ConsentDocumentDefinition(name="HIPAA Release Form", html=CONSENT_HTML)],
            ),
        )
    return practice, str(contents.form.id)


async def intake_of(practice: PracticeAccount, form_id: str) -> ArrangedIntake:
    """A new intake of the form for a new client, made as an integrator does:
    ``POST /intakeq/api/v1/intakes/create`` with the practice key; its ``Url`` and ``Password`` open it."""
    response = await practice.post(
        "/intakes/create",
        {
            "QuestionnaireId": form_id,
            "ClientName": "Rita Bennett",
            "ClientEmail": f"rita-{secrets.token_hex(3)}@example.com",
        },
    )
    assert response.status_code == 200, response.text
    created = response.json()
    by_text = {question["Text"]: question["Id"] for question in created["Questions"]}
    return ArrangedIntake(
        practice=practice,
        intake_id=created["Id"],
        path=urlsplit(created["Url"]).path,
        password=created["Password"],
        question_ids={name: by_text[spec[1]] for name, spec in QUESTIONS.items()},
        consent_id=created["ConsentForms"][0]["Id"],
    )


async def arrange_intake(runtime: Runtime, client: httpx.AsyncClient) -> ArrangedIntake:
    practice, form_id = await practice_with_form(runtime, client)
    return await intake_of(practice, form_id)


async def issue_token(intake: ArrangedIntake) -> str:
    """``POST /intakeq/api/v1/intakes/{id}/token``, as an integrator signs its user in to the form."""
    response = await intake.practice.post(f"/intakes/{intake.intake_id}/token")
    assert response.status_code == 200, response.text
    return remember_secret(str(response.json()["Token"]))


async def stored_form(runtime: Runtime, intake: ArrangedIntake) -> IntakeForm:
    async with runtime.sessions() as session:
        return await intakes.get_for_filling(session, intake_id=uuid.UUID(intake.intake_id))


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, "the page has no form"
    return html.unescape(found.group(1))


async def sign_in(client: httpx.AsyncClient, intake: ArrangedIntake, *, redirect: str | None = None) -> None:
    query = {"redirect": redirect} if redirect else {}
    page = await client.get(intake.path, params=query)
    fields = {"csrf_token": csrf_of(page), "password": intake.password, "redirect": redirect or ""}
    response = await client.post(intake.path, data=fields)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == intake.path


def complete_answers(intake: ArrangedIntake) -> list[tuple[str, str]]:
    """Every required answer except the files (see ``files``) and the consent's signature."""
    ids = intake.question_ids
    return [
        (intake.field("name"), "Rita Bennett"),
        (intake.field("notes"), "Nothing else."),
        (intake.field("weight"), "150.5"),
        (intake.field("birth"), "1990-04-12"),
        (intake.field("smoke"), "No"),
        (intake.field("allergies"), "Latex"),
        (intake.field("allergies"), "Nuts"),
        (f"m_{ids['pain']}_0", "Never"),
        (f"m_{ids['pain']}_1", "Often"),
        (f"consent_name_{intake.consent_id}", "Rita Bennett"),
        (f"consent_agree_{intake.consent_id}", "yes"),
    ]


def signature_field(intake: ArrangedIntake, png: bytes = PNG) -> tuple[str, str]:
    return f"signature_{intake.question_ids['signature']}", "data:image/png;base64," + base64.b64encode(
        png
    ).decode()


def id_upload(intake: ArrangedIntake, data: bytes = PDF, name: str = "id.pdf") -> dict[str, Any]:
    return {f"upload_{intake.question_ids['photo_id']}": (name, data, "application/pdf")}


async def post_form(
    client: httpx.AsyncClient,
    intake: ArrangedIntake,
    suffix: str,
    fields: list[tuple[str, str]],
    *,
    files: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Post the form page (with its CSRF token) to ``/save`` or ``/submit``, always as multipart, as the
    page's form is."""
    token = csrf_of(await client.get(intake.path))
    data: dict[str, Any] = {"csrf_token": token}
    for name, value in fields:
        if name in data:
            previous = data[name]
            data[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            data[name] = value
    return await client.post(
        intake.at(suffix),
        data=data,
        files=files or {"_": ("", b"", "application/octet-stream")},
        headers=headers,
    )
