"""The clinic's staff in the console: practitioners (/console/staff) and assistants (/console/assistants),
through HTTP, with the core's refusals shown on the page and another clinic's ids answered as missing."""

from __future__ import annotations

import uuid

import httpx

from clinicore.core.audit import service as audit_service
from clinicore.core.models import Practitioner
from clinicore.core.staff import service as staff_service
from clinicore.core.staff import sign_in as staff_sign_in
from clinicore.core.staff.schemas import AssistantDetails, AssistantView, PractitionerDetails
from clinicore.core.tenancy import service as tenancy_service
from clinicore.runtime import Runtime
from tests.factories import create_clinic
from tests.factories import create_practitioner as create_scheduling_practitioner
from tests.web.console.pages import page_csrf, sign_in
from tests.web.console.practice_users import PracticeWithUser, book, give_client, practice_with_user


async def signed_in_practice(
    client: httpx.AsyncClient, runtime: Runtime, *, roles_named: tuple[str, ...] = ()
) -> PracticeWithUser:
    practice = await practice_with_user(runtime, roles_named=roles_named)
    await sign_in(client, practice.email, practice.password)
    return practice


async def add_practitioner(
    runtime: Runtime, practice: PracticeWithUser, first_name: str = "Dexter", external_id: str | None = None
) -> Practitioner:
    async with runtime.sessions() as session, session.begin():
        return await staff_service.create_practitioner(
            session,
            clinic=practice.clinic,
            details=PractitionerDetails(
                first_name=first_name,
                last_name="Morgan",
                email=f"{first_name.lower()}-{uuid.uuid4().hex[:6]}@practice.example",
                external_id=external_id,
            ),
        )


async def reload(runtime: Runtime, practice: PracticeWithUser, practitioner_id: uuid.UUID) -> Practitioner:
    async with runtime.sessions() as session:
        return await staff_service.practitioner_by_reference(
            session, clinic_id=practice.clinic.id, reference=str(practitioner_id)
        )


async def add_assistant(
    runtime: Runtime, practice: PracticeWithUser, practitioners: list[str] | None = None
) -> AssistantView:
    async with runtime.sessions() as session, session.begin():
        return await staff_service.create_assistant(
            session,
            clinic=practice.clinic,
            details=AssistantDetails(
                name="Debra Morgan",
                email=f"debra-{uuid.uuid4().hex[:6]}@practice.example",
                practitioners=practitioners or [],
            ),
        )


async def assistants(runtime: Runtime, practice: PracticeWithUser) -> list[AssistantView]:
    async with runtime.sessions() as session:
        return await staff_service.list_assistants(
            session, clinic_id=practice.clinic.id, include_inactive=True
        )


async def post(client: httpx.AsyncClient, page: str, action: str, **fields: str) -> httpx.Response:
    token = await page_csrf(client, page)
    return await client.post(action, data=fields | {"csrf_token": token})


class TestPractitioners:
    async def test_the_list_shows_role_external_id_and_status(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime)
        dexter = await add_practitioner(runtime, practice, external_id="EXT-7")
        page = await client.get("/console/staff")
        assert page.status_code == 200
        row = page.text.split(f'data-practitioner="{dexter.id}"', 1)[1].split("</tr>", 1)[0]
        assert "Dexter Morgan" in row and "Administrator" in row and "EXT-7" in row and "Active" in row
        assert "(main user)" in page.text.split(f'data-practitioner="{practice.main.id}"', 1)[1]

    async def test_creating_one_with_a_partner_role(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime, roles_named=("Front Desk",))
        response = await post(
            client,
            "/console/staff",
            "/console/staff",
            first_name="Rita",
            last_name="Bennett",
            email="Rita@Practice.example",
            role_name="Front Desk",
            external_id="R-1",
        )
        assert response.status_code == 303
        practitioner_id = uuid.UUID(response.headers["location"].split("/")[-1].split("?")[0])
        created = await reload(runtime, practice, practitioner_id)
        assert (created.name, created.role_name, created.external_id) == ("Rita Bennett", "Front Desk", "R-1")
        assert created.email == "rita@practice.example"

    async def test_a_taken_external_id_an_unknown_role_and_a_bad_email_are_refused_as_typed(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime)
        await add_practitioner(runtime, practice, external_id="EXT-7")
        base = {"first_name": "Rita", "last_name": "Bennett", "email": "rita@practice.example"}
        for fields, expected in (
            ({"external_id": "EXT-7"}, "another practitioner of this clinic has this external_id"),
            ({"role_name": "Wizard"}, "no role named"),
            ({"email": "not an email"}, "email:"),
            ({"first_name": " "}, "first_name: must not be empty"),
            ({"first_name": "x" * 201}, "first_name: at most 200 characters"),
            ({"last_name": "a\x00b"}, "contains a control character"),
        ):
            response = await post(client, "/console/staff", "/console/staff", **(base | fields))
            assert response.status_code == 400, fields
            assert expected in response.text, fields
        page = await client.get("/console/staff")
        assert "Rita Bennett" not in page.text

    async def test_editing_name_email_role_and_external_id(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime, roles_named=("Nurse",))
        dexter = await add_practitioner(runtime, practice)
        page = f"/console/staff/{dexter.id}"
        assert f'href="/console/practitioners/{dexter.id}"' in (await client.get(page)).text  # hours page
        response = await post(
            client,
            page,
            page,
            first_name="Dex",
            last_name="Morgan",
            email="dex@practice.example",
            role_name="Nurse",
            external_id="",
        )
        assert response.status_code == 303
        edited = await reload(runtime, practice, dexter.id)
        assert (edited.name, edited.email, edited.role_name, edited.external_id) == (
            "Dex Morgan",
            "dex@practice.example",
            "Nurse",
            None,
        )

    async def test_disabling_and_enabling_and_the_main_practitioner_stays(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime)
        dexter = await add_practitioner(runtime, practice)
        page = f"/console/staff/{dexter.id}"
        assert (await post(client, page, f"{page}/disable")).status_code == 303
        assert not (await reload(runtime, practice, dexter.id)).is_active
        assert "Disabled" in (await client.get("/console/staff")).text
        assert (await post(client, page, f"{page}/enable")).status_code == 303
        assert (await reload(runtime, practice, dexter.id)).is_active
        main_page = f"/console/staff/{practice.main.id}"
        refused = await post(client, main_page, f"{main_page}/disable")
        assert refused.status_code == 400
        assert "main practitioner cannot be disabled" in refused.text

    async def test_delete_is_refused_while_client_data_remains_then_allowed_after_a_transfer(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime)
        dexter = await add_practitioner(runtime, practice)
        owned = await give_client(runtime, practice.clinic, dexter.id)
        await book(runtime, practice.clinic, dexter.id)
        page = f"/console/staff/{dexter.id}"
        refused = await post(client, page, f"{page}/delete")
        assert refused.status_code == 400
        assert "the practitioner has client data (1 client(s), 1 appointment(s))" in refused.text
        moved = await post(client, page, f"{page}/transfer-data", destination=str(practice.main.id))
        assert moved.status_code == 303
        assert "clients=1" in moved.headers["location"] and "appointments=1" in moved.headers["location"]
        assert "Clients and appointments transferred." in (await client.get(moved.headers["location"])).text
        deleted = await post(client, page, f"{page}/delete")
        assert deleted.status_code == 303
        assert deleted.headers["location"] == "/console/staff?notice=deleted"
        assert (await client.get(page)).status_code == 404
        assert owned.id is not None

    async def test_a_transfer_that_would_overlap_is_refused_and_moves_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime)
        dexter = await add_practitioner(runtime, practice)
        await book(runtime, practice.clinic, dexter.id)
        await book(runtime, practice.clinic, practice.main.id)  # the same hour
        page = f"/console/staff/{dexter.id}"
        refused = await post(client, page, f"{page}/transfer-data", destination=str(practice.main.id))
        assert refused.status_code in (400, 409)
        assert 'class="alert error"' in refused.text
        still = await post(client, page, f"{page}/delete")
        assert "1 appointment(s)" in still.text

    async def test_client_ownership_transfer_and_its_refusals(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime)
        dexter = await add_practitioner(runtime, practice)
        await give_client(runtime, practice.clinic, dexter.id)
        page = f"/console/staff/{dexter.id}"
        for destination, expected in (
            ("", "destination: choose the practitioner"),
            (str(dexter.id), "the source and the destination are the same practitioner"),
            (str(uuid.uuid4()), "destination: no such practitioner"),
        ):
            response = await post(client, page, f"{page}/transfer-clients", destination=destination)
            assert response.status_code == 400, destination
            assert expected in response.text, destination
        moved = await post(client, page, f"{page}/transfer-clients", destination=str(practice.main.id))
        assert moved.status_code == 303
        assert (await post(client, page, f"{page}/delete")).status_code == 303

    async def test_another_clinics_practitioner_is_the_404_page_and_stays_untouched(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        theirs = await practice_with_user(runtime)
        their_practitioner = await add_practitioner(runtime, theirs, first_name="Secret", external_id="X")
        practice = await signed_in_practice(client, runtime)
        token = await page_csrf(client, "/console/staff")
        path = f"/console/staff/{their_practitioner.id}"
        page = await client.get(path)
        assert page.status_code == 404 and "Secret" not in page.text
        for action in ("", "/disable", "/enable", "/delete", "/transfer-clients", "/transfer-data"):
            response = await client.post(
                path + action,
                data={"csrf_token": token, "first_name": "Hacked", "destination": str(practice.main.id)},
            )
            assert response.status_code == 404, action
        for unknown in ("X", "not-an-id", str(uuid.uuid4()), "x" * 500):
            assert (await client.get(f"/console/staff/{unknown}")).status_code == 404
        # Their practitioner as the destination of ours: a form error naming the field.
        mine = await add_practitioner(runtime, practice)
        refused = await post(
            client,
            f"/console/staff/{mine.id}",
            f"/console/staff/{mine.id}/transfer-clients",
            destination=str(their_practitioner.id),
        )
        assert refused.status_code == 400 and "destination: no such practitioner" in refused.text
        after = await reload(runtime, theirs, their_practitioner.id)
        assert after.name == "Secret Morgan" and after.is_active

    async def test_forms_without_the_csrf_token_change_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime)
        dexter = await add_practitioner(runtime, practice)
        response = await client.post(f"/console/staff/{dexter.id}/disable", data={})
        assert response.status_code == 403
        assert (await reload(runtime, practice, dexter.id)).is_active


class TestAssistants:
    async def test_creating_one_limited_to_some_practitioners(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime)
        dexter = await add_practitioner(runtime, practice)
        page = await client.get("/console/assistants")
        assert f'name="practitioner.{dexter.id}"' in page.text
        response = await post(
            client,
            "/console/assistants",
            "/console/assistants",
            name="Debra Morgan",
            email="debra@practice.example",
            role_name="Administrator",
            external_id="A-1",
            **{f"practitioner.{dexter.id}": "on"},
        )
        assert response.status_code == 303
        [view] = await assistants(runtime, practice)
        assert (view.assistant.name, view.assistant.external_id) == ("Debra Morgan", "A-1")
        assert list(view.practitioner_ids) == [dexter.id]
        listed = await client.get("/console/assistants")
        row = listed.text.split(f'data-assistant="{view.assistant.id}"', 1)[1].split("</tr>", 1)[0]
        assert "Dexter Morgan" in row and "Active" in row

    async def test_none_ticked_means_all_and_editing_replaces_the_list(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime)
        dexter = await add_practitioner(runtime, practice)
        view = await add_assistant(runtime, practice, practitioners=[str(dexter.id)])
        page = f"/console/assistants/{view.assistant.id}"
        shown = await client.get(page)
        assert shown.status_code == 200
        assert f'name="practitioner.{dexter.id}" value="on" checked>' in shown.text
        response = await post(
            client, page, page, name="Deb Morgan", email="deb@practice.example", role_name="Administrator"
        )
        assert response.status_code == 303
        [after] = await assistants(runtime, practice)
        assert after.assistant.name == "Deb Morgan" and list(after.practitioner_ids) == []
        assert "All practitioners" in (await client.get("/console/assistants")).text

    async def test_refusals_are_shown_as_typed(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        practice = await signed_in_practice(client, runtime)
        theirs = await practice_with_user(runtime)
        their_practitioner = await add_practitioner(runtime, theirs)
        base = {"name": "Debra", "email": "debra@practice.example"}
        for fields, expected in (
            ({"name": ""}, "name: must not be empty"),
            ({"email": "nope"}, "email:"),
            ({"role_name": "Wizard"}, "no role named"),
            ({f"practitioner.{their_practitioner.id}": "on"}, "practitioners: no practitioner"),
            ({"practitioner.junk": "on"}, "practitioners: no practitioner"),
        ):
            response = await post(client, "/console/assistants", "/console/assistants", **(base | fields))
            assert response.status_code == 400, fields
            assert expected in response.text, fields
            assert 'value="Debra"' in response.text or not fields.get("name", "x")
        assert await assistants(runtime, practice) == []

    async def test_disabling_and_deleting(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        practice = await signed_in_practice(client, runtime)
        view = await add_assistant(runtime, practice)
        page = f"/console/assistants/{view.assistant.id}"
        assert (await post(client, page, f"{page}/disable")).status_code == 303
        [after] = await assistants(runtime, practice)
        assert not after.assistant.is_active
        assert "Disabled" in (await client.get("/console/assistants")).text
        deleted = await post(client, page, f"{page}/delete")
        assert deleted.headers["location"] == "/console/assistants?notice=deleted"
        assert await assistants(runtime, practice) == []

    async def test_a_practitioner_an_assistant_acts_for_alone_cannot_be_deleted(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await signed_in_practice(client, runtime)
        dexter = await add_practitioner(runtime, practice)
        await add_assistant(runtime, practice, practitioners=[str(dexter.id)])
        page = f"/console/staff/{dexter.id}"
        refused = await post(client, page, f"{page}/delete")
        assert refused.status_code == 400
        assert "an assistant acts for this practitioner only" in refused.text

    async def test_another_clinics_assistant_is_the_404_page(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        theirs = await practice_with_user(runtime)
        their_assistant = await add_assistant(runtime, theirs)
        await signed_in_practice(client, runtime)
        token = await page_csrf(client, "/console/assistants")
        path = f"/console/assistants/{their_assistant.assistant.id}"
        assert (await client.get(path)).status_code == 404
        for action in ("", "/disable", "/delete"):
            response = await client.post(path + action, data={"csrf_token": token, "name": "Hacked"})
            assert response.status_code == 404, action
        assert (await client.get("/console/assistants/not-an-id")).status_code == 404
        [after] = await assistants(runtime, theirs)
        assert after.assistant.name == "Debra Morgan" and after.assistant.is_active


class TestPermissions:
    async def test_a_staff_role_without_the_permissions_gets_the_403_page_and_changes_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await practice_with_user(runtime, roles_named=("Front Desk",))  # may send forms only
        async with runtime.sessions() as session, session.begin():
            desk = await staff_service.create_practitioner(
                session,
                clinic=practice.clinic,
                details=PractitionerDetails(
                    first_name="Front",
                    last_name="Desk",
                    email="desk@practice.example",
                    role_name="Front Desk",
                ),
            )
            issued = await staff_sign_in.issue_token(
                session,
                partner_id=practice.partner_id,
                practice=practice.clinic.practice_id,
                user=str(desk.id),
                actor=audit_service.SYSTEM,
            )
        signed_on = await client.get(
            "/signin/authenticate", params={"token": issued.token, "userId": str(desk.id)}
        )
        assert signed_on.status_code == 303
        for path in ("/console/forms", "/console/forms/new", "/console/staff", "/console/assistants"):
            response = await client.get(path)
            assert response.status_code == 403, path
            assert "Your role may not" in response.text
        refused = await client.post("/console/settings", data={"name": "Hijacked", "csrf_token": "x"})
        assert refused.status_code == 403
        async with runtime.sessions() as session:
            clinic = await tenancy_service.get_clinic(session, practice.clinic.id)
        assert clinic.name != "Hijacked"


class TestPractitionersMadeElsewhere:
    async def test_one_made_with_a_single_name_is_edited_with_its_name_split(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)  # a clinic without a partner: Administrator only
        practitioner = await create_scheduling_practitioner(runtime, arranged.clinic, name="Ana Lucia Reyes")
        await sign_in(client, arranged.email, arranged.password)
        page = f"/console/staff/{practitioner.id}"
        shown = await client.get(page)
        assert 'name="first_name" value="Ana"' in shown.text
        assert 'name="last_name" value="Lucia Reyes"' in shown.text
        token = await page_csrf(client, page)
        saved = await client.post(
            page,
            data={
                "csrf_token": token,
                "first_name": "Ana",
                "last_name": "Lucia Reyes",
                "email": "ana@clinic.example",
                "role_name": "Administrator",
            },
        )
        assert saved.status_code == 303
        async with runtime.sessions() as session:
            after = await staff_service.practitioner_by_reference(
                session, clinic_id=arranged.clinic.id, reference=str(practitioner.id)
            )
        assert (after.first_name, after.last_name, after.email) == (
            "Ana",
            "Lucia Reyes",
            "ana@clinic.example",
        )
