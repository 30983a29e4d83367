"""The practice's settings page: what a clinic changes about itself, and its partner's switches shown
read-only."""

from __future__ import annotations

import httpx

from clinicore.core.models import Clinic
from clinicore.core.staff import service as staff_service
from clinicore.core.tenancy import service as tenancy_service
from clinicore.runtime import Runtime
from tests.factories import create_clinic
from tests.web.console.pages import page_csrf, sign_in
from tests.web.console.practice_users import practice_with_user

FULL = {
    "name": "Riverside Health",
    "email": "Front@Riverside.example",
    "phone": "(212) 555-0134",
    "time_zone": "America/Chicago",
    "address_street": "1 Main St",
    "address_city": "Springfield",
    "address_state": "il",
    "address_zip": "62701",
}


async def save(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    token = await page_csrf(client, "/console/settings")
    return await client.post("/console/settings", data=FULL | fields | {"csrf_token": token})


async def reload(runtime: Runtime, clinic: Clinic) -> Clinic:
    async with runtime.sessions() as session:
        return await tenancy_service.get_clinic(session, clinic.id)


class TestSettingsPage:
    async def test_saving_changes_the_clinic(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        response = await save(client)
        assert response.status_code == 303
        assert response.headers["location"] == "/console/settings?notice=saved"
        clinic = await reload(runtime, arranged.clinic)
        assert (clinic.name, clinic.email, clinic.phone, clinic.time_zone) == (
            "Riverside Health",
            "front@riverside.example",
            "+12125550134",
            "America/Chicago",
        )
        assert (clinic.address_street, clinic.address_city, clinic.address_state, clinic.address_zip) == (
            "1 Main St",
            "Springfield",
            "IL",
            "62701",
        )
        page = await client.get(response.headers["location"])
        assert "Settings saved." in page.text and 'value="Riverside Health"' in page.text

    async def test_blank_optional_fields_clear_them(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        await save(client)
        assert (await save(client, phone="", email="", address_state="")).status_code == 303
        clinic = await reload(runtime, arranged.clinic)
        assert (clinic.phone, clinic.email, clinic.address_state) == (None, None, None)

    async def test_refusals_name_the_field_keep_what_was_typed_and_change_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime, name="Before")
        await sign_in(client, arranged.email, arranged.password)
        for fields, expected in (
            ({"name": " "}, "name: is required"),
            ({"time_zone": "Mars/Olympus"}, "time_zone: &#39;Mars/Olympus&#39; is not an IANA time zone"),
            ({"time_zone": "x" * 65}, "time_zone: at most 64 characters"),
            ({"email": "nope"}, "email:"),
            ({"phone": "12"}, "phone: not a phone number"),
            ({"address_state": "Illinois"}, "address_state: must be a two-letter state code"),
            ({"address_state": "I1"}, "address_state: must be a two-letter state code"),
            ({"address_zip": "123456789012"}, "address_zip: at most 10 characters"),
            ({"address_city": "a\x00b"}, "contains a control character"),
            ({"name": "x" * 201}, "name: at most 200 characters"),
        ):
            response = await save(client, **fields)
            assert response.status_code == 400, fields
            assert expected in response.text, (fields, response.text[-3000:])
            assert 'value="1 Main St"' in response.text
        clinic = await reload(runtime, arranged.clinic)
        assert clinic.name == "Before" and clinic.time_zone == "America/New_York"

    async def test_the_partners_switches_are_shown_and_cannot_be_changed(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await practice_with_user(runtime)  # a new practice: forms on, booking off
        await sign_in(client, practice.email, practice.password)
        page = await client.get("/console/settings")
        assert 'data-testid="forms-enabled">On<' in page.text
        assert 'data-testid="booking-enabled">Off<' in page.text
        assert (await save(client, forms_enabled="false", booking_enabled="true")).status_code == 303
        clinic = await reload(runtime, practice.clinic)
        assert clinic.forms_enabled and not clinic.booking_enabled

    async def test_the_settings_email_is_the_practices_not_the_main_users(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await practice_with_user(runtime)
        await sign_in(client, practice.email, practice.password)
        await save(client, email="desk@practice.example")
        assert (await reload(runtime, practice.clinic)).email == "desk@practice.example"
        async with runtime.sessions() as session:
            main = await staff_service.practitioner_by_reference(
                session, clinic_id=practice.clinic.id, reference=str(practice.main.id)
            )
        assert main.email == practice.main.email

    async def test_only_the_signed_in_users_clinic_changes_and_csrf_is_required(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        mine, theirs = await create_clinic(runtime), await create_clinic(runtime, name="Theirs")
        await sign_in(client, mine.email, mine.password)
        no_token = await client.post("/console/settings", data=FULL)
        assert no_token.status_code == 403
        assert (await reload(runtime, mine.clinic)).name != "Riverside Health"
        await save(client, clinic_id=str(theirs.clinic.id))
        assert (await reload(runtime, theirs.clinic)).name == "Theirs"
        assert (await reload(runtime, mine.clinic)).name == "Riverside Health"

    async def test_signing_in_is_required(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/console/settings")
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
