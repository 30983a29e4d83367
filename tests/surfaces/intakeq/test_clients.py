"""The IntakeQ Client API through HTTP as an integrator calls it: ``GET /clients`` with every filter and
paging, ``GET /clients/profile/{id}``, ``POST /clients`` (create, update), ``POST``/``DELETE
/clientTags``; the same client as the Qualiphy and QualifyBase surfaces find it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from clinicore.core.models import ApiKeyKind, Client
from clinicore.core.people import custom_fields
from clinicore.core.people import service as people_service
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.factories import create_key, create_practitioner
from tests.surfaces.intakeq.conftest import PRACTICE_URL, PracticeAccount
from tests.surfaces.qualifybase.conftest import QualifyBaseClinic, open_qualifybase_clinic
from tests.surfaces.qualiphy.conftest import QualiphyClinic, open_qualiphy_clinic
from tests.surfaces.qualiphy.test_exam_invite import invite, invite_body

SUMMARY_FIELDS = {"ClientNumber", "ClientId", "Name", "Email", "Phone"}
PROFILE_FIELDS = {
    "ClientId",
    "Name",
    "FirstName",
    "LastName",
    "MiddleName",
    "Email",
    "Phone",
    "MobilePhone",
    "HomePhone",
    "WorkPhone",
    "DateOfBirth",
    "Gender",
    "MaritalStatus",
    "Tags",
    "Archived",
    "Address",
    "UnitNumber",
    "StreetAddress",
    "City",
    "StateShort",
    "Country",
    "PostalCode",
    "AdditionalInformation",
    "CustomFields",
    "DateCreated",
    "LastActivityDate",
    "PractitionerId",
    "ExternalClientId",
}
MAY_23_1988_MS = int(datetime(1988, 5, 23, tzinfo=UTC).timestamp() * 1000)


async def save(practice: PracticeAccount, **body: Any) -> dict[str, Any]:
    response = await practice.post("/clients", body)
    assert response.status_code == 200, response.text
    saved: dict[str, Any] = response.json()
    return saved


async def message_of(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["Message"]
    return message


async def define_field(practice: PracticeAccount, label: str, key: str) -> None:
    async with practice.runtime.sessions() as session, session.begin():
        await custom_fields.define_field(session, clinic_id=practice.clinic_id, label=label, key=key)


class TestCreate:
    async def test_first_and_last_name_make_a_client_with_the_next_number(
        self, practice: PracticeAccount
    ) -> None:
        first = await save(
            practice,
            FirstName="Jane",
            LastName="Doe",
            Email="Jane.Doe@Example.com",
            Phone="(212) 555-0123",
            DateOfBirth=MAY_23_1988_MS,
            Gender="female",
            ExternalClientId=1234,
            StreetAddress="1 Main St",
            UnitNumber="Apt 2",
            City="Albany",
            StateShort="ny",
            PostalCode="12207",
        )
        assert set(first) == PROFILE_FIELDS
        assert first["ClientId"] >= 1
        assert first["Name"] == "Jane Doe"
        assert first["Email"] == "Jane.Doe@example.com"
        assert first["Phone"] == first["MobilePhone"] == "+12125550123"
        assert first["DateOfBirth"] == MAY_23_1988_MS
        assert first["Gender"] == "Female"
        assert first["ExternalClientId"] == "1234"
        assert first["StateShort"] == "NY"
        assert first["Address"] == "1 Main St, Apt 2, Albany, NY 12207"
        assert first["Tags"] == [] and first["CustomFields"] == [] and first["Archived"] is False
        second = await save(practice, Name="Ana María de la Cruz", Email="ana@example.com")
        assert second["ClientId"] == first["ClientId"] + 1
        assert (second["FirstName"], second["LastName"]) == ("Ana", "María de la Cruz")

    async def test_a_date_of_birth_as_a_day_and_a_client_without_contact(
        self, practice: PracticeAccount
    ) -> None:
        saved = await save(practice, FirstName="No", LastName="Contact", DateOfBirth="1988-05-23")
        assert saved["DateOfBirth"] == MAY_23_1988_MS
        assert saved["Email"] is None and saved["Phone"] is None

    async def test_an_email_the_practice_knows_names_that_client_and_only_fills_its_blanks(
        self, practice: PracticeAccount
    ) -> None:
        known = await save(practice, FirstName="Rita", LastName="Bennett", Email="rita@example.com")
        again = await save(
            practice,
            FirstName="Someone",
            LastName="Else",
            Email="RITA@example.com",
            Phone="2125550199",
            Tags="vip",
        )
        assert again["ClientId"] == known["ClientId"]
        assert (again["FirstName"], again["LastName"]) == ("Rita", "Bennett")
        assert again["Phone"] == "+12125550199"
        assert again["Tags"] == ["vip"]

    async def test_an_external_id_names_its_client(self, practice: PracticeAccount) -> None:
        known = await save(practice, FirstName="Ext", LastName="One", ExternalClientId="crm-1")
        again = await save(practice, FirstName="Ext", LastName="One", ExternalClientId="crm-1", City="Troy")
        assert again["ClientId"] == known["ClientId"] and again["City"] == "Troy"

    @pytest.mark.parametrize(
        ("body", "start"),
        [
            ({"Email": "x@example.com"}, "FirstName: is required"),
            ({"FirstName": "Only"}, "LastName: is required"),
            ({"Name": "   "}, "FirstName: is required"),
            ({"Name": "A B", "Email": "not an email"}, "Email: "),
            ({"Name": "A B", "Phone": "12"}, "Phone: not a telephone number"),
            ({"Name": "A B", "DateOfBirth": "23/05/1988"}, "DateOfBirth: must be Unix milliseconds"),
            ({"Name": "A B", "DateOfBirth": 10**17}, "DateOfBirth: must be Unix milliseconds"),
            ({"Name": "A B", "DateOfBirth": "2999-01-01"}, "DateOfBirth: must be a past date"),
            ({"Name": "A B", "StateShort": "New York"}, "StateShort: must be a two-letter code"),
            ({"Name": "A B", "Gender": "robot"}, "Gender: must be male, female"),
            ({"Name": "A B", "PractitionerId": "nobody"}, "PractitionerId: no such practitioner"),
            (
                {"Name": "A B", "CustomFields": [{"FieldId": "nope", "Value": "x"}]},
                "CustomFields: no custom field",
            ),
            ({"Name": "A B", "Tags": ["x" * 51]}, "Tag: at most 50 characters"),
            ({"Name": "A B", "Tags": [f"t{n}" for n in range(51)]}, "Tag: a client holds at most 50"),
            ({"Name": "A B", "ClientId": "abc"}, "ClientId: must be a whole number"),
            ({"FirstName": "x" * 101, "LastName": "B"}, "FirstName: at most 100 characters"),
            ({"FirstName": "x" * 201, "LastName": "B"}, "FirstName: String should have at most 200"),
            ({"Name": "A B", "PostalCode": "1" * 11}, "PostalCode: at most 10 characters"),
        ],
    )
    async def test_bad_bodies_are_400_naming_the_field(
        self, practice: PracticeAccount, body: dict[str, Any], start: str
    ) -> None:
        assert (await message_of(await practice.post("/clients", body))).startswith(start)

    @pytest.mark.parametrize(
        "body",
        [
            {"Name": "A B", "CustomFields": "x"},
            {"Name": "A B", "CustomFields": [{"FieldId": None}]},
            {"Name": "A B", "CustomFields": [{"Value": "x"}]},
            {"Name": "A B", "Tags": [1]},
            {"Name": "A B", "Tags": {"a": 1}},
            {"Name": "A B", "DateOfBirth": 1.5},
            {"Name": "A B", "DateOfBirth": []},
            {"Name": "A B", "DateOfBirth": True},
            {"Name": "A B", "Email": 5},
            {"Name": ["A", "B"]},
            {"Name": "A\u0000B"},
            {"ClientId": True},
            {"ClientId": 2**40},
            {"ClientId": -1},
        ],
    )
    async def test_odd_bodies_are_400_never_500(
        self, practice: PracticeAccount, body: dict[str, Any]
    ) -> None:
        response = await practice.post("/clients", body)
        assert response.status_code == 400, response.text
        assert response.json()["Message"]

    @pytest.mark.parametrize(
        "query",
        [
            {"custom[]": "x"},
            {f"custom[{'k' * 300}]": "x"},
            {"page": "99999999"},
            {"search": "a\u0000"},
            {"dateCreatedEnd": "2031-02-30"},
        ],
    )
    async def test_odd_queries_are_400_never_500(
        self, practice: PracticeAccount, query: dict[str, str]
    ) -> None:
        response = await practice.get("/clients", **query)
        assert response.status_code == 400, response.text

    async def test_query_names_any_case_and_unknown_parameters_ignored(
        self, practice: PracticeAccount
    ) -> None:
        saved = await save(practice, Name="Case Test", Email="case@example.com")
        found = (await practice.get("/clients", SEARCH="case", INCLUDEPROFILE="TRUE", whatever="1")).json()
        assert found == [saved]
        assert (await practice.get("/clients/profile/0")).status_code == 404

    async def test_not_json_and_not_an_object(self, practice: PracticeAccount) -> None:
        response = await practice.client.post(
            f"{PRACTICE_URL}/clients",
            content=b"{nope",
            headers=practice.headers | {"Content-Type": "Application/Json"},
        )
        assert await message_of(response) == "the request body is not valid JSON"
        assert (
            await message_of(await practice.post("/clients", [1])) == "the request body must be a JSON object"
        )


class TestUpdate:
    async def test_client_id_updates_the_fields_given_and_null_clears(
        self, practice: PracticeAccount
    ) -> None:
        practitioner = await practice.create_practitioner()
        created = await save(
            practice, Name="Tom Hanks", Email="tom@example.com", City="Boston", Tags=["a", "b"]
        )
        updated = await save(
            practice,
            ClientId=str(created["ClientId"]),
            LastName="Holland",
            City=None,
            Email="tom.h@example.com",
            PractitionerId=practitioner["Id"],
            Tags=["B", "c"],
        )
        assert updated["ClientId"] == created["ClientId"]
        assert (updated["FirstName"], updated["LastName"]) == ("Tom", "Holland")
        assert updated["City"] is None and updated["Email"] == "tom.h@example.com"
        assert updated["PractitionerId"] == practitioner["Id"]
        assert updated["Tags"] == ["b", "c"]
        assert updated["DateCreated"] == created["DateCreated"]
        profile = (await practice.get(f"/clients/profile/{created['ClientId']}")).json()
        assert profile == updated

    async def test_refusals(self, practice: PracticeAccount, other_practice: PracticeAccount) -> None:
        first = await save(practice, Name="One Client", Email="one@example.com", ExternalClientId="e1")
        second = await save(practice, Name="Two Client", Email="two@example.com")
        number = second["ClientId"]
        taken_email = await practice.post("/clients", {"ClientId": number, "Email": "ONE@example.com"})
        assert (await message_of(taken_email)).startswith("Email: another client of the practice holds it")
        taken_id = await practice.post("/clients", {"ClientId": number, "ExternalClientId": "e1"})
        assert (await message_of(taken_id)).startswith("ExternalClientId: another client")
        blank = await practice.post("/clients", {"ClientId": number, "FirstName": ""})
        assert (await message_of(blank)).startswith("FirstName: is required")
        foreign = await other_practice.post("/clients", {"ClientId": first["ClientId"], "City": "X"})
        assert await message_of(foreign, 404) == "client not found"
        unknown = await practice.post("/clients", {"ClientId": 999999, "City": "X"})
        assert await message_of(unknown, 404) == "client not found"


class TestProfile:
    async def test_another_practices_client_and_a_bad_id_are_404(
        self, practice: PracticeAccount, other_practice: PracticeAccount
    ) -> None:
        mine = await save(practice, Name="Mine Only", Email="mine@example.com")
        assert (await practice.get(f"/clients/profile/{mine['ClientId']}")).status_code == 200
        for path in (
            f"/clients/profile/{mine['ClientId']}",
            "/clients/profile/abc",
            "/clients/profile/99999999999",
        ):
            response = await other_practice.get(path)
            assert response.status_code == 404, path
            assert response.json() == {"Message": "client not found"}

    async def test_custom_fields_show_every_field_with_the_clients_value(
        self, practice: PracticeAccount
    ) -> None:
        await define_field(practice, "Referred by", "ref")
        await define_field(practice, "Allergies", "allergy")
        saved = await save(
            practice, Name="Custom Person", CustomFields=[{"FieldId": "REF", "Value": "Dr. Who"}]
        )
        assert saved["CustomFields"] == [
            {"FieldId": "ref", "Text": "Referred by", "Value": "Dr. Who"},
            {"FieldId": "allergy", "Text": "Allergies", "Value": None},
        ]
        cleared = await save(
            practice, ClientId=saved["ClientId"], CustomFields=[{"FieldId": "ref", "Value": " "}]
        )
        assert cleared["CustomFields"][0]["Value"] is None


class TestList:
    async def test_items_without_and_with_profile(self, practice: PracticeAccount) -> None:
        saved = await save(
            practice, Name="Paul Smith", Email="paul.smith@gmail.com", Phone="2125550100", Tags="x"
        )
        items = (await practice.get("/clients")).json()
        assert items == [
            {
                "ClientNumber": saved["ClientId"],
                "ClientId": saved["ClientId"],
                "Name": "Paul Smith",
                "Email": "paul.smith@gmail.com",
                "Phone": "+12125550100",
            }
        ]
        assert set(items[0]) == SUMMARY_FIELDS
        full = (await practice.get("/clients", includeProfile="true")).json()
        assert full == [saved]
        assert (await practice.get("/clients", IncludeProfile="1")).json() == [saved]

    async def test_search_by_name_email_phone_and_number(self, practice: PracticeAccount) -> None:
        paul = await save(practice, Name="Paul Smith", Email="paul.smith@gmail.com", Phone="2125550100")
        await save(practice, Name="Mary Jones", Email="mary@example.com", Phone="3125550111")
        for search in (
            "paul",
            "SMITH",
            "paul.smith@gmail.com",
            "555-0100",
            "Paul Smith",
        ):
            found = (await practice.get("/clients", search=search)).json()
            assert [item["ClientId"] for item in found] == [paul["ClientId"]], search
        by_number = (await practice.get("/clients", search=str(paul["ClientId"]))).json()
        assert paul["ClientId"] in [item["ClientId"] for item in by_number]  # digits also match phones
        assert (await practice.get("/clients", search="nobody")).json() == []
        assert (await message_of(await practice.get("/clients", search="x" * 201))).startswith(
            "search: at most"
        )

    async def test_external_id_and_custom_field_filters(self, practice: PracticeAccount) -> None:
        await define_field(practice, "Plan", "plan")
        gold = await save(
            practice,
            Name="Gold Member",
            ExternalClientId="g-1",
            CustomFields=[{"FieldId": "plan", "Value": "Gold"}],
        )
        await save(practice, Name="Silver Member", CustomFields=[{"FieldId": "plan", "Value": "Silver"}])
        by_external = (await practice.get("/clients", externalClientId="g-1")).json()
        assert [item["ClientId"] for item in by_external] == [gold["ClientId"]]
        by_field = (await practice.get("/clients", **{"custom[plan]": "gold"})).json()
        assert [item["ClientId"] for item in by_field] == [gold["ClientId"]]
        both = (
            await practice.get("/clients", **{"custom[plan]": "Silver", "externalClientId": "g-1"})
        ).json()
        assert both == []
        unknown = await practice.get("/clients", **{"custom[nope]": "x"})
        assert (await message_of(unknown)).startswith("custom[nope]: no such custom field")
        many = {f"custom[f{n}]": "x" for n in range(11)}
        assert (await message_of(await practice.get("/clients", **many))).startswith("custom: at most 10")

    async def test_date_created_filters_are_days_of_the_practice(self, practice: PracticeAccount) -> None:
        # The practice is in New York: 03:00 UTC on 2031-03-04 is still 2031-03-03 there.
        clock = FrozenClock(datetime(2031, 3, 4, 3, 0, tzinfo=UTC))
        async with practice.runtime.sessions() as session, session.begin():
            late = await people_service.client_for_contact(
                session,
                clinic_id=practice.clinic_id,
                full_name="Late Night",
                email="late@example.com",
                phone=None,
                clock=clock,
            )
            number = late.number
        on_the_3rd = (
            await practice.get("/clients", dateCreatedStart="2031-03-03", dateCreatedEnd="2031-03-03")
        ).json()
        assert [item["ClientId"] for item in on_the_3rd] == [number]
        assert (await practice.get("/clients", dateCreatedStart="2031-03-04")).json() == [] or all(
            item["ClientId"] != number
            for item in (await practice.get("/clients", dateCreatedStart="2031-03-04")).json()
        )
        assert (await practice.get("/clients", dateCreatedEnd="2031-03-02")).json() == []
        for query, start in (
            ({"dateCreatedStart": "03/03/2031"}, "dateCreatedStart: must be a date as yyyy-MM-dd"),
            (
                {"dateCreatedStart": "2031-03-04", "dateCreatedEnd": "2031-03-03"},
                "dateCreatedEnd: must not be before",
            ),
            ({"dateCreatedStart": "0001-01-01"}, "dateCreatedStart: must be between the years"),
            ({"page": "0"}, "page: must be a whole number"),
            ({"page": "x"}, "page: must be a whole number"),
            ({"includeProfile": "yes"}, "includeProfile: must be true or false"),
        ):
            assert (await message_of(await practice.get("/clients", **query))).startswith(start), query

    async def test_paging_over_250_clients(self, practice: PracticeAccount) -> None:
        async with practice.runtime.sessions() as session, session.begin():
            for n in range(251):
                await people_service.client_for_contact(
                    session,
                    clinic_id=practice.clinic_id,
                    full_name=f"Client {n}",
                    email=f"c{n}@example.com",
                    phone=None,
                )
        pages = [(await practice.get("/clients", page=str(page))).json() for page in (1, 2, 3, 4)]
        assert [len(items) for items in pages] == [100, 100, 51, 0]
        numbers = [item["ClientId"] for items in pages for item in items]
        assert numbers == sorted(numbers) and len(set(numbers)) == 251
        profiles = (await practice.get("/clients", page="3", includeProfile="true")).json()
        assert [item["ClientId"] for item in profiles] == [item["ClientId"] for item in pages[2]]

    async def test_another_practices_clients_are_never_listed(
        self, practice: PracticeAccount, other_practice: PracticeAccount
    ) -> None:
        await save(practice, Name="Private Person", Email="private@example.com")
        assert (await other_practice.get("/clients", search="private")).json() == []
        assert (await other_practice.get("/clients")).json() == []


class TestTags:
    async def test_add_is_idempotent_without_case_and_delete_removes(self, practice: PracticeAccount) -> None:
        client = await save(practice, Name="Tag Me", Email="tagme@example.com")
        number = client["ClientId"]
        added = await practice.post("/clientTags", {"ClientId": str(number), "Tag": "  New   Patient "})
        assert added.status_code == 200 and added.json() == {"ClientId": number, "Tag": "New Patient"}
        again = await practice.post("/clientTags", {"ClientId": number, "Tag": "new patient"})
        assert again.json() == {"ClientId": number, "Tag": "New Patient"}
        await practice.post("/clientTags", {"ClientId": number, "Tag": "VIP"})
        profile = (await practice.get(f"/clients/profile/{number}")).json()
        assert profile["Tags"] == ["New Patient", "VIP"]
        assert profile["LastActivityDate"] >= client["LastActivityDate"]
        removed = await practice.client.delete(
            f"{PRACTICE_URL}/clientTags",
            params={"ClientId": str(number), "Tag": "new PATIENT"},
            headers=practice.headers,
        )
        assert removed.status_code == 200 and removed.content == b""
        assert (await practice.get(f"/clients/profile/{number}")).json()["Tags"] == ["VIP"]
        absent = await practice.client.delete(
            f"{PRACTICE_URL}/clientTags",
            params={"clientId": str(number), "tag": "never"},
            headers=practice.headers,
        )
        assert absent.status_code == 200

    async def test_refusals(self, practice: PracticeAccount, other_practice: PracticeAccount) -> None:
        number = (await save(practice, Name="Tag Me", Email="tagme@example.com"))["ClientId"]
        assert await message_of(await practice.post("/clientTags", {"Tag": "x"})) == "ClientId: is required"
        assert (
            await message_of(await practice.post("/clientTags", {"ClientId": number})) == "Tag: is required"
        )
        long_tag = await practice.post("/clientTags", {"ClientId": number, "Tag": "x" * 51})
        assert await message_of(long_tag) == "Tag: at most 50 characters"
        foreign = await other_practice.post("/clientTags", {"ClientId": number, "Tag": "x"})
        assert await message_of(foreign, 404) == "client not found"
        foreign_delete = await other_practice.client.delete(
            f"{PRACTICE_URL}/clientTags",
            params={"clientId": str(number), "tag": "x"},
            headers=other_practice.headers,
        )
        assert await message_of(foreign_delete, 404) == "client not found"
        no_id = await practice.client.delete(
            f"{PRACTICE_URL}/clientTags", params={"tag": "x"}, headers=practice.headers
        )
        assert await message_of(no_id) == "clientId: is required"
        for _ in range(50):
            await practice.post("/clientTags", {"ClientId": number, "Tag": secrets.token_hex(4)})
        full = await practice.post("/clientTags", {"ClientId": number, "Tag": "one more"})
        assert (await message_of(full)).startswith("Tag: a client holds at most 50")


class TestKeys:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/clients"),
            ("GET", "/clients/profile/1"),
            ("POST", "/clients"),
            ("POST", "/clientTags"),
            ("DELETE", "/clientTags"),
        ],
    )
    async def test_missing_or_wrong_key_kind_is_401(
        self, practice: PracticeAccount, method: str, path: str
    ) -> None:
        partner_key = {"X-Auth-Key": secrets.token_hex(24)}
        for headers in ({}, partner_key, {"x-auth-key": "nope"}):
            response = await practice.client.request(
                method, f"{PRACTICE_URL}{path}", headers=headers, json={}
            )
            assert response.status_code == 401, (path, headers)
            assert "Message" in response.json()

    async def test_a_partner_key_is_refused(self, practice: PracticeAccount, partner: Any) -> None:
        response = await practice.client.get(f"{PRACTICE_URL}/clients", headers=partner.headers)
        assert await message_of(response, 401) == "invalid API key"


@pytest.fixture
async def qp(runtime: Runtime) -> AsyncIterator[QualiphyClinic]:
    async for opened in open_qualiphy_clinic(runtime):
        yield opened


@pytest.fixture
async def qb(runtime: Runtime) -> AsyncIterator[QualifyBaseClinic]:
    async for opened in open_qualifybase_clinic(runtime):
        yield opened


class TestOneClientAcrossSurfaces:
    async def test_a_qualiphy_invites_patient_is_the_intakeq_client(self, qp: QualiphyClinic) -> None:
        await invite(qp, invite_body(qp.catalog.botox.id))
        key = await create_key(qp.runtime, qp.arranged.clinic, ApiKeyKind.intakeq_practice)
        url = f"http://testserver{PRACTICE_URL}"
        headers = {"X-Auth-Key": key}
        found = (
            await qp.client.get(
                f"{url}/clients", params={"search": "JANE.DOE@patients.example.com"}, headers=headers
            )
        ).json()
        assert [(item["Name"], item["Email"]) for item in found] == [
            ("Jane Doe", "jane.doe@patients.example.com")
        ]
        saved = (
            await qp.client.post(
                f"{url}/clients",
                json={"Name": "J D", "Email": "jane.doe@patients.example.com", "Tags": ["botox"]},
                headers=headers,
            )
        ).json()
        assert saved["ClientId"] == found[0]["ClientId"] and saved["Tags"] == ["botox"]
        await invite(qp, invite_body(qp.catalog.botox.id))
        assert len((await qp.client.get(f"{url}/clients", headers=headers)).json()) == 1

    async def test_a_qualifybase_booking_finds_the_intakeq_client_by_email(
        self, qb: QualifyBaseClinic
    ) -> None:
        key = await create_key(qb.runtime, qb.arranged.clinic, ApiKeyKind.intakeq_practice)
        url = f"http://testserver{PRACTICE_URL}"
        headers = {"X-Auth-Key": key}
        made = await qb.client.post(
            f"{url}/clients", json={"Name": "Alex Smith", "Email": "alex@example.com"}, headers=headers
        )
        assert made.status_code == 200, made.text
        await create_practitioner(qb.runtime, qb.arranged.clinic)
        lead = (
            await qb.client.post(
                "/leads", json={"full_name": "Alex S", "email": "ALEX@example.com", "country": "US"}
            )
        ).json()
        booked = await qb.client.post(
            "/appointments",
            json={
                "lead_id": lead["id"],
                "scheduled_at": "2031-03-03T14:00:00Z",
                "ends_at": "2031-03-03T14:30:00Z",
                "title": "Visit",
            },
        )
        assert booked.status_code == 201, booked.text
        async with qb.runtime.sessions() as session:
            clients = (
                await session.scalars(
                    Client.__table__.select().where(Client.clinic_id == qb.arranged.clinic.id)
                )
            ).all()
        assert len(clients) == 1
        listed = (await qb.client.get(f"{url}/clients", headers=headers)).json()
        assert [item["ClientId"] for item in listed] == [made.json()["ClientId"]]
