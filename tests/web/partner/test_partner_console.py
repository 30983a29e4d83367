"""The partner console through HTTP, as a signed-in partner user: its practices, brand, master roles and
master forms; another partner's never visible or editable; CSRF on every form; bad input shown, never a
500."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from clinicore.core.models import Partner, StaffRole
from clinicore.core.staff import roles as roles_service
from clinicore.core.staff import service as staff_service
from clinicore.core.staff.schemas import PractitionerDetails
from clinicore.runtime import Runtime
from tests.factories import create_clinic
from tests.factories.partners import (
    PartnerFixture,
    create_master_form,
    create_partner_practice,
    create_partner_user,
)
from tests.web.console.pages import csrf_token
from tests.web.console.pages import sign_in as console_sign_in
from tests.web.partner.pages import partner_csrf, sign_in_partner

BRAND = {
    "brand_name": "Acme Health Forms",
    "logo_url": "https://cdn.acme.example/logo.png",
    "color": "#AA3300",
    "accent_color": "#0055aa",
    "host_names": "Forms.Acme.example\nforms2.acme.example",
    "allowed_redirect_hosts": "app.acme.example, 127.0.0.1",
    "frame_origins": "https://app.acme.example:443\nhttp://127.0.0.1:8000",
    "form_notification_url": "https://app.acme.example/forms/[form-id]",
}


@pytest.fixture
async def partner(runtime: Runtime) -> PartnerFixture:
    return await create_partner_user(runtime)


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, partner: PartnerFixture) -> PartnerFixture:
    response = await sign_in_partner(client, partner.email, partner.password)
    assert response.status_code == 303, response.text
    return partner


async def stored_partner(runtime: Runtime, partner_id: uuid.UUID) -> Partner:
    async with runtime.sessions() as session:
        found = await session.get(Partner, partner_id)
        assert found is not None
        return found


class TestSignIn:
    async def test_signing_in_opens_the_partners_console(
        self, client: httpx.AsyncClient, partner: PartnerFixture
    ) -> None:
        response = await sign_in_partner(client, partner.email.upper(), partner.password)
        assert response.status_code == 303
        assert response.headers["location"] == "/partner"
        cookie = response.headers["set-cookie"]
        assert "clinicore_partner_session=" in cookie and "HttpOnly" in cookie and "Path=/partner" in cookie
        page = await client.get("/partner")
        assert page.status_code == 200
        assert partner.partner.name in page.text
        assert page.headers["cache-control"] == "no-store"

    async def test_wrong_password_and_unknown_email_answer_alike(
        self, client: httpx.AsyncClient, partner: PartnerFixture
    ) -> None:
        for email, password in (
            (partner.email, "not-the-password"),
            ("nobody@partner.example", partner.password),
        ):
            response = await sign_in_partner(client, email, password)
            assert response.status_code == 401
            assert "Wrong email or password." in response.text
        assert (await client.get("/partner")).status_code == 303

    async def test_pages_redirect_to_sign_in_when_signed_out(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/partner/roles")
        assert response.status_code == 303
        assert response.headers["location"] == "/partner/login?next=/partner/roles"

    async def test_sign_in_goes_back_only_to_partner_console_paths(
        self, client: httpx.AsyncClient, partner: PartnerFixture
    ) -> None:
        response = await sign_in_partner(
            client, partner.email, partner.password, next_path="//evil.example/x"
        )
        assert response.headers["location"] == "/partner"
        await client.post("/partner/logout", data={"csrf_token": await partner_csrf(client)})
        response = await sign_in_partner(client, partner.email, partner.password, next_path="/console")
        assert response.headers["location"] == "/partner"
        response = await sign_in_partner(client, partner.email, partner.password, next_path="/partner/forms")
        assert response.headers["location"] == "/partner/forms"

    async def test_sign_in_without_the_forms_token_is_refused(
        self, client: httpx.AsyncClient, partner: PartnerFixture
    ) -> None:
        await client.get("/partner/login")
        response = await client.post(
            "/partner/login", data={"email": partner.email, "password": partner.password}
        )
        assert response.status_code == 403
        assert "clinicore_partner_session" not in client.cookies

    async def test_signing_out_ends_the_session_on_the_server(
        self, client: httpx.AsyncClient, signed_in: PartnerFixture
    ) -> None:
        kept = client.cookies["clinicore_partner_session"]
        response = await client.post("/partner/logout", data={"csrf_token": await partner_csrf(client)})
        assert response.status_code == 303
        assert response.headers["location"] == "/partner/login?notice=signed-out"
        client.cookies.set("clinicore_partner_session", kept)
        assert (await client.get("/partner")).status_code == 303

    async def test_a_clinic_console_session_does_not_open_the_partner_console(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await console_sign_in(client, arranged.email, arranged.password)
        client.cookies.set("clinicore_partner_session", client.cookies["clinicore_session"])
        assert (await client.get("/partner")).status_code == 303

    async def test_the_sign_in_page_wears_the_brand_of_the_partner_serving_the_host(
        self, client: httpx.AsyncClient, runtime: Runtime, partner: PartnerFixture
    ) -> None:
        host = f"forms.{partner.partner.id.hex}.example"
        async with runtime.sessions() as session, session.begin():
            stored = await session.get(Partner, partner.partner.id)
            assert stored is not None
            stored.host_names, stored.brand_name, stored.brand_color = [host], "Globex Forms", "#123456"
        branded = await client.get("/partner/login", headers={"host": host.upper()})
        assert "Globex Forms · Partner console" in branded.text and "--brand: #123456" in branded.text
        plain = await client.get("/partner/login")
        assert "Globex Forms" not in plain.text and "Clinicore · Partner console" in plain.text

    async def test_a_garbage_session_cookie_is_a_sign_in_redirect(self, client: httpx.AsyncClient) -> None:
        client.cookies.set("clinicore_partner_session", "x" * 5000)
        assert (await client.get("/partner/brand")).status_code == 303


class TestPractices:
    async def test_lists_the_partners_practices_only(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        mine = await create_partner_practice(
            runtime, signed_in.partner, name="Harbor Spa", external_id="ext-42"
        )
        other = await create_partner_user(runtime)
        theirs = await create_partner_practice(runtime, other.partner, name="Rival Clinic")
        page = await client.get("/partner")
        assert page.status_code == 200
        assert "Harbor Spa" in page.text and mine.practice_id in page.text and "ext-42" in page.text
        assert "Rival Clinic" not in page.text and theirs.practice_id not in page.text
        assert page.text.count('data-testid="practice"') == 1

    @pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999"])
    async def test_a_bad_page_number_is_not_a_500(
        self, client: httpx.AsyncClient, signed_in: PartnerFixture, page: str
    ) -> None:
        response = await client.get(f"/partner?page={page}")
        assert response.status_code == 400
        assert "Cannot read this address" in response.text


class TestBrand:
    async def test_saving_the_brand_stores_it_normalised_and_shows_it(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        hosts = f"Forms.{signed_in.partner.id.hex}.example\nforms2.{signed_in.partner.id.hex}.example"
        response = await client.post(
            "/partner/brand", data=BRAND | {"host_names": hosts, "csrf_token": await partner_csrf(client)}
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/partner/brand?notice=brand-saved"
        stored = await stored_partner(runtime, signed_in.partner.id)
        assert stored.brand_name == "Acme Health Forms"
        assert (stored.brand_color, stored.brand_accent_color) == ("#aa3300", "#0055aa")
        assert stored.host_names == [
            f"forms.{signed_in.partner.id.hex}.example",
            f"forms2.{signed_in.partner.id.hex}.example",
        ]
        assert stored.allowed_redirect_hosts == ["app.acme.example", "127.0.0.1"]
        assert stored.frame_origins == ["https://app.acme.example", "http://127.0.0.1:8000"]
        assert stored.form_notification_url == "https://app.acme.example/forms/[form-id]"
        page = await client.get("/partner/brand?notice=brand-saved")
        assert "Brand saved." in page.text
        assert "--brand: #aa3300" in page.text and "--accent: #0055aa" in page.text
        assert "Acme Health Forms · Partner console" in page.text
        assert 'src="https://cdn.acme.example/logo.png"' in page.text

    @pytest.mark.parametrize(
        ("field", "value", "words"),
        [
            ("logo_url", "http://cdn.acme.example/logo.png", "logo_url: must be a https:// URL"),
            ("logo_url", "javascript:alert(1)", "logo_url: must be a https:// URL"),
            ("logo_url", "https://cdn.example/" + "a" * 600, "logo_url: at most"),
            ("color", "red", "color: must be a colour written #rrggbb"),
            ("accent_color", "#12345", "accent_color: must be a colour"),
            ("host_names", "bad host!", "host_names:"),
            ("host_names", "\n".join(f"h{n}.example" for n in range(21)), "host_names: at most 20"),
            ("allowed_redirect_hosts", "-x.example", "allowed_redirect_hosts:"),
            ("frame_origins", "https://*.acme.example", "frame_origins:"),
            ("frame_origins", "http://app.acme.example", "only https:// origins"),
            ("frame_origins", "https://app.acme.example/path", "frame_origins:"),
            ("form_notification_url", "https://app.acme.example/forms", "must contain [form-id]"),
            ("form_notification_url", "ftp://x.example/[form-id]", "form_notification_url:"),
            ("brand_name", "x\x00y", "brand_name: contains a control character"),
            ("brand_name", "x" * 1001, "brand_name: at most 1000 characters"),
        ],
    )
    async def test_bad_values_are_refused_with_the_reason_and_nothing_changes(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        signed_in: PartnerFixture,
        field: str,
        value: str,
        words: str,
    ) -> None:
        response = await client.post(
            "/partner/brand", data=BRAND | {field: value, "csrf_token": await partner_csrf(client)}
        )
        assert response.status_code == 400
        assert words in response.text.replace("&#39;", "'")
        stored = await stored_partner(runtime, signed_in.partner.id)
        assert stored.brand_name is None and stored.host_names == []

    async def test_a_host_another_partner_serves_is_refused(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        other = await create_partner_user(runtime)
        other_client_data = BRAND | {"host_names": f"forms.{other.partner.id.hex}.example"}
        async with runtime.sessions() as session, session.begin():
            found = await session.get(Partner, other.partner.id)
            assert found is not None
            found.host_names = [f"forms.{other.partner.id.hex}.example"]
        response = await client.post(
            "/partner/brand", data=other_client_data | {"csrf_token": await partner_csrf(client)}
        )
        assert response.status_code == 400
        assert "is served by another partner" in response.text

    async def test_saving_without_the_pages_token_is_refused(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        response = await client.post("/partner/brand", data=BRAND | {"csrf_token": "forged"})
        assert response.status_code == 403
        assert (await stored_partner(runtime, signed_in.partner.id)).brand_name is None

    async def test_the_brand_dresses_a_practices_clinic_console(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        saved = await client.post(
            "/partner/brand", data=BRAND | {"host_names": "", "csrf_token": await partner_csrf(client)}
        )
        assert saved.status_code == 303
        practice = await create_partner_practice(runtime, signed_in.partner)
        arranged = await create_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            from clinicore.core.tenancy import service as tenancy_service

            user = await tenancy_service.create_user(
                session,
                clinic_id=practice.id,
                email=f"staff-{practice.practice_id.lower()}@practice.example",
                name="Staff",
                password=arranged.password,
            )
        async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as console:
            await console_sign_in(console, user.email, arranged.password)
            page = await console.get("/console")
        assert page.status_code == 200
        assert "--brand: #aa3300" in page.text
        assert "https://cdn.acme.example/logo.png" in page.text


class TestRoles:
    async def test_lists_administrator_fixed_and_the_partners_roles(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        other = await create_partner_user(runtime)
        async with runtime.sessions() as session, session.begin():
            await roles_service.define_role(
                session,
                partner_id=other.partner.id,
                name="Rival Role",
                permissions=roles_service.Permissions(),
            )
        page = await client.get("/partner/roles")
        assert page.status_code == 200
        assert "Administrator" in page.text and "Fixed" in page.text
        assert "Rival Role" not in page.text

    async def test_creating_editing_and_deleting_a_role(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        token = await partner_csrf(client, "/partner/roles")
        created = await client.post(
            "/partner/roles",
            data={
                "csrf_token": token,
                "role_name": "Front Desk",
                "send_forms": "on",
                "book": "on",
                "new": "1",
            },
        )
        assert created.status_code == 303
        assert created.headers["location"] == "/partner/roles?notice=role-created"
        async with runtime.sessions() as session:
            role = await roles_service.list_roles(session, partner_id=signed_in.partner.id)
        assert role[1].name == "Front Desk"
        assert role[1].permissions == roles_service.Permissions(send_forms=True, book=True)

        changed = await client.post(
            "/partner/roles/change",
            data={"csrf_token": token, "role_name": "Front Desk", "see_reports": "on"},
        )
        assert changed.status_code == 303
        async with runtime.sessions() as session:
            role = await roles_service.list_roles(session, partner_id=signed_in.partner.id)
        assert role[1].permissions == roles_service.Permissions(see_reports=True)

        deleted = await client.post(
            "/partner/roles/delete", data={"csrf_token": token, "role_name": "front desk"}
        )
        assert deleted.status_code == 303
        async with runtime.sessions() as session:
            assert [
                r.name for r in await roles_service.list_roles(session, partner_id=signed_in.partner.id)
            ] == ["Administrator"]

    async def test_a_duplicate_name_and_administrator_are_refused_on_the_page(
        self, client: httpx.AsyncClient, signed_in: PartnerFixture
    ) -> None:
        token = await partner_csrf(client, "/partner/roles")
        await client.post("/partner/roles", data={"csrf_token": token, "role_name": "Nurse"})
        duplicate = await client.post(
            "/partner/roles", data={"csrf_token": token, "role_name": "NURSE", "new": "1"}
        )
        assert duplicate.status_code == 400
        assert "a role named" in duplicate.text and "already exists" in duplicate.text
        for path in ("/partner/roles", "/partner/roles/change", "/partner/roles/delete"):
            response = await client.post(path, data={"csrf_token": token, "role_name": "administrator"})
            assert response.status_code == 400, path
            assert "Administrator always exists" in response.text
        blank = await client.post("/partner/roles", data={"csrf_token": token, "role_name": "  "})
        assert blank.status_code == 400 and "role_name: must be 1 to 100 characters" in blank.text

    async def test_a_role_held_by_staff_cannot_be_deleted(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        practice = await create_partner_practice(runtime, signed_in.partner)
        async with runtime.sessions() as session, session.begin():
            await roles_service.define_role(
                session,
                partner_id=signed_in.partner.id,
                name="Therapist",
                permissions=roles_service.Permissions(),
            )
            await staff_service.create_practitioner(
                session,
                clinic=practice,
                details=PractitionerDetails(
                    first_name="Ann", last_name="Lee", email="ann.lee@practice.example", role_name="therapist"
                ),
            )
        token = await partner_csrf(client, "/partner/roles")
        response = await client.post(
            "/partner/roles/delete", data={"csrf_token": token, "role_name": "Therapist"}
        )
        assert response.status_code == 400
        assert "1 staff member(s) hold the role" in response.text.replace("&#39;", "'")
        async with runtime.sessions() as session:
            rows = await session.scalars(
                select(StaffRole).where(StaffRole.partner_id == signed_in.partner.id)
            )
            assert [row.name for row in rows] == ["Therapist"]

    async def test_another_partners_role_cannot_be_changed_or_deleted(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        other = await create_partner_user(runtime)
        async with runtime.sessions() as session, session.begin():
            await roles_service.define_role(
                session,
                partner_id=other.partner.id,
                name="Their Role",
                permissions=roles_service.Permissions(),
            )
        token = await partner_csrf(client, "/partner/roles")
        changed = await client.post(
            "/partner/roles/change", data={"csrf_token": token, "role_name": "Their Role", "book": "on"}
        )
        deleted = await client.post(
            "/partner/roles/delete", data={"csrf_token": token, "role_name": "Their Role"}
        )
        assert (changed.status_code, deleted.status_code) == (404, 404)
        async with runtime.sessions() as session:
            theirs = await roles_service.list_roles(session, partner_id=other.partner.id)
        assert [(r.name, r.permissions.book) for r in theirs] == [
            ("Administrator", True),
            ("Their Role", False),
        ]

    async def test_role_forms_need_the_pages_token(
        self, client: httpx.AsyncClient, signed_in: PartnerFixture
    ) -> None:
        response = await client.post("/partner/roles", data={"role_name": "Sneaky"})
        assert response.status_code == 403
        assert "Sneaky" not in (await client.get("/partner/roles")).text

    async def test_an_overlong_name_is_refused_not_a_500(
        self, client: httpx.AsyncClient, signed_in: PartnerFixture
    ) -> None:
        token = await partner_csrf(client, "/partner/roles")
        for name in ("x" * 101, "x" * 5000):
            response = await client.post("/partner/roles", data={"csrf_token": token, "role_name": name})
            assert response.status_code == 400


class TestMasterForms:
    async def test_lists_and_shows_the_partners_master_forms_only(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        mine = await create_master_form(runtime, signed_in.partner, name="Skin Intake")
        other = await create_partner_user(runtime)
        theirs = await create_master_form(runtime, other.partner, name="Rival Intake")
        listing = await client.get("/partner/forms")
        assert listing.status_code == 200
        assert "Skin Intake" in listing.text and "Questionnaire" in listing.text
        assert "Rival Intake" not in listing.text
        page = await client.get(f"/partner/forms/{mine.id}")
        assert page.status_code == 200
        assert "About you" in page.text and "Full name" in page.text and "(required)" in page.text
        assert "Single choice" in page.text and "HIPAA Release" in page.text and "I consent." in page.text
        assert (await client.get(f"/partner/forms/{theirs.id}")).status_code == 404

    async def test_an_overlong_form_id_is_the_400_page(
        self, client: httpx.AsyncClient, signed_in: PartnerFixture
    ) -> None:
        response = await client.get(f"/partner/forms/{'x' * 101}")
        assert response.status_code == 400
        assert "Cannot read this address" in response.text

    @pytest.mark.parametrize("form_id", ["nope", "0" * 32, "x" * 100, "%00"])
    async def test_an_unknown_form_is_a_404_page(
        self, client: httpx.AsyncClient, signed_in: PartnerFixture, form_id: str
    ) -> None:
        response = await client.get(f"/partner/forms/{form_id}")
        assert response.status_code == 404
        assert "Not found" in response.text

    async def test_archiving_and_restoring_a_master_form(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        form = await create_master_form(runtime, signed_in.partner)
        token = await partner_csrf(client, "/partner/forms")
        archived = await client.post(
            f"/partner/forms/{form.id}/archive", data={"csrf_token": token, "archived": "true"}
        )
        assert archived.status_code == 303
        assert archived.headers["location"] == "/partner/forms?notice=form-archived"
        assert "Restore" in (await client.get("/partner/forms")).text
        restored = await client.post(
            f"/partner/forms/{form.id}/archive", data={"csrf_token": token, "archived": "false"}
        )
        assert restored.headers["location"] == "/partner/forms?notice=form-unarchived"

    async def test_another_partners_form_cannot_be_archived(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        other = await create_partner_user(runtime)
        theirs = await create_master_form(runtime, other.partner)
        token = await partner_csrf(client, "/partner/forms")
        response = await client.post(
            f"/partner/forms/{theirs.id}/archive", data={"csrf_token": token, "archived": "true"}
        )
        assert response.status_code == 404
        async with runtime.sessions() as session:
            from clinicore.core.models import FormTemplate

            stored = await session.get(FormTemplate, theirs.id)
            assert stored is not None and stored.archived is False

    async def test_archiving_needs_the_pages_token(
        self, client: httpx.AsyncClient, runtime: Runtime, signed_in: PartnerFixture
    ) -> None:
        form = await create_master_form(runtime, signed_in.partner)
        response = await client.post(f"/partner/forms/{form.id}/archive", data={"archived": "true"})
        assert response.status_code == 403


def test_csrf_token_helper_is_the_consoles() -> None:
    assert csrf_token('<input name="csrf_token" value="abc">') == "abc"
