"""The partner's master forms made and changed with the form builder in the partner console, through HTTP
as a browser without JavaScript posts them; another partner's form is never editable."""

from __future__ import annotations

import httpx
import pytest

from clinicore.core.forms import service as forms_service
from clinicore.core.forms.schemas import FormContents, FormOwner
from clinicore.core.models import Partner
from clinicore.runtime import Runtime
from tests.factories.partners import PartnerFixture, create_master_form, create_partner_user
from tests.web.partner.pages import partner_csrf, sign_in_partner

MASTER_FORM = {
    "name": "Skin consultation",
    "kind": "questionnaire",
    "sections.0.title": "About you",
    "sections.0.questions.0.kind": "text",
    "sections.0.questions.0.text": "Your name",
    "sections.0.questions.0.required": "on",
    "sections.0.questions.1.kind": "multiple_choice",
    "sections.0.questions.1.text": "Concerns",
    "sections.0.questions.1.choices": "Acne\nRosacea",
    "consent_documents.0.name": "Photo consent",
    "consent_documents.0.html": "<p>You may photograph my skin.</p><script>alert(1)</script>",
}


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, runtime: Runtime) -> PartnerFixture:
    partner = await create_partner_user(runtime)
    assert (await sign_in_partner(client, partner.email, partner.password)).status_code == 303
    return partner


async def stored(runtime: Runtime, partner: Partner, form_id: str) -> FormContents:
    async with runtime.sessions() as session:
        return await forms_service.get_form(session, owner=FormOwner.partner(partner.id), form_id=form_id)


def form_id_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/partner/forms/")
    return location.removeprefix("/partner/forms/").split("?")[0]


class TestNewMasterForm:
    async def test_the_builder_makes_a_master_form_of_the_partner(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        page = await client.get("/partner/forms/new")
        assert page.status_code == 200 and "New master form" in page.text
        token = await partner_csrf(client, "/partner/forms/new")
        response = await client.post("/partner/forms/new", data=MASTER_FORM | {"csrf_token": token})
        form_id = form_id_of(response)
        contents = await stored(runtime, signed_in.partner, form_id)
        assert contents.form.partner_id == signed_in.partner.id and contents.form.clinic_id is None
        assert [q.text for q in contents.sections[0].questions] == ["Your name", "Concerns"]
        assert "<script>" not in contents.consent_documents[0].html
        shown = await client.get(response.headers["location"])
        assert "Form created." in shown.text and "Skin consultation" in shown.text

    async def test_a_refused_form_is_shown_again_with_the_reason_beside_the_field(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        token = await partner_csrf(client, "/partner/forms/new")
        fields = MASTER_FORM | {
            "sections.0.questions.1.kind": "single_choice",
            "sections.0.questions.1.choices": "Only one",
            "csrf_token": token,
        }
        response = await client.post("/partner/forms/new", data=fields)
        assert response.status_code == 400
        assert 'data-error-for="sections.0.questions.1.choices"' in response.text
        assert "Skin consultation" in response.text  # what was typed is kept
        async with runtime.sessions() as session:
            assert (
                await forms_service.list_forms(session, owner=FormOwner.partner(signed_in.partner.id)) == []
            )

    async def test_the_builder_needs_the_pages_token(
        self, client: httpx.AsyncClient, signed_in: PartnerFixture
    ) -> None:
        response = await client.post("/partner/forms/new", data=MASTER_FORM | {"csrf_token": "forged"})
        assert response.status_code == 403

    async def test_signed_out_the_builder_is_a_sign_in_redirect(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/partner/forms/new")
        assert response.status_code == 303
        assert response.headers["location"] == "/partner/login?next=/partner/forms/new"


class TestEditMasterForm:
    async def test_editing_replaces_the_definition_and_raises_the_revision(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        form = await create_master_form(runtime, signed_in.partner, name="Old name")
        page = await client.get(f"/partner/forms/{form.id}/edit")
        assert page.status_code == 200 and 'value="Old name"' in page.text
        token = await partner_csrf(client, f"/partner/forms/{form.id}/edit")
        response = await client.post(
            f"/partner/forms/{form.id}/edit", data=MASTER_FORM | {"name": "New name", "csrf_token": token}
        )
        assert form_id_of(response) == str(form.id)
        contents = await stored(runtime, signed_in.partner, str(form.id))
        assert contents.form.name == "New name" and contents.form.revision == 2
        assert "Form saved." in (await client.get(response.headers["location"])).text

    async def test_another_partners_form_cannot_be_opened_or_changed(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        other = await create_partner_user(runtime)
        theirs = await create_master_form(runtime, other.partner, name="Theirs")
        assert (await client.get(f"/partner/forms/{theirs.id}/edit")).status_code == 404
        token = await partner_csrf(client, "/partner/forms")
        response = await client.post(
            f"/partner/forms/{theirs.id}/edit", data=MASTER_FORM | {"name": "Hijacked", "csrf_token": token}
        )
        assert response.status_code == 404
        assert (await stored(runtime, other.partner, str(theirs.id))).form.name == "Theirs"
