"""The partner API's practices: create, update, list, delete and the practice key, as the doc shows them."""

from __future__ import annotations

import re

import httpx
import pytest

from clinicore.core.tenancy import practices as practice_service
from tests.surfaces.intakeq.conftest import (
    PARTNER_URL,
    PRACTICE_URL,
    PartnerAccount,
    open_practice,
)

PRACTICE_FIELDS = {
    "Id",
    "PracticeName",
    "FirstName",
    "LastName",
    "Email",
    "ExternalPracticeId",
    "DateCreated",
    "StreetAddress",
    "City",
    "State",
    "PostalCode",
    "FormsEnabled",
    "BookingEnabled",
}


class TestCreatePractice:
    async def test_answers_the_object_with_its_id_and_date_created(self, partner: PartnerAccount) -> None:
        response = await partner.client.post(
            f"{PARTNER_URL}/practice",
            json={
                "PracticeName": "ABC Health",
                "FirstName": "John",
                "LastName": "Smith",
                "Email": "abc@Email.example",
                "ExternalPracticeId": "1234",
            },
            headers=partner.headers,
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == PRACTICE_FIELDS
        assert re.fullmatch(r"[0-9A-F]{8}", body["Id"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["DateCreated"])
        assert body | {"Id": None, "DateCreated": None} == {
            "Id": None,
            "PracticeName": "ABC Health",
            "FirstName": "John",
            "LastName": "Smith",
            "Email": "abc@email.example",
            "ExternalPracticeId": "1234",
            "DateCreated": None,
            "StreetAddress": None,
            "City": None,
            "State": None,
            "PostalCode": None,
            "FormsEnabled": True,
            "BookingEnabled": False,
        }

    async def test_provisions_the_main_practitioner_and_a_working_practice_key(
        self, partner: PartnerAccount
    ) -> None:
        practice = await open_practice(partner, FirstName="Larry", LastName="David")
        response = await practice.get("/practitioners")
        assert response.status_code == 200
        [main] = response.json()
        assert main["CompleteName"] == "Larry David"
        assert main["RoleName"] == "Administrator"
        assert main["Email"] == practice.practice["Email"]

    async def test_address_and_switches_are_stored(self, partner: PartnerAccount) -> None:
        practice = await partner.create_practice(
            StreetAddress="123 Remedy Lane",
            City="New York",
            State="ny",
            PostalCode="12345",
            FormsEnabled=False,
            BookingEnabled="true",
        )
        assert (practice["StreetAddress"], practice["City"], practice["State"], practice["PostalCode"]) == (
            "123 Remedy Lane",
            "New York",
            "NY",
            "12345",
        )
        assert (practice["FormsEnabled"], practice["BookingEnabled"]) == (False, True)

    @pytest.mark.parametrize("missing", ["PracticeName", "FirstName", "LastName", "Email"])
    async def test_required_fields_are_checked(self, partner: PartnerAccount, missing: str) -> None:
        body = {"PracticeName": "P", "FirstName": "A", "LastName": "B", "Email": "req@practice.example"}
        for sent in (
            {k: v for k, v in body.items() if k != missing},
            body | {missing: None},
            body | {missing: " "},
        ):
            response = await partner.client.post(
                f"{PARTNER_URL}/practice", json=sent, headers=partner.headers
            )
            assert response.status_code == 400
            assert response.json() == {"Message": f"{missing}: is required"}

    async def test_an_invalid_email_or_state_is_a_400(self, partner: PartnerAccount) -> None:
        body = {"PracticeName": "P", "FirstName": "A", "LastName": "B", "Email": "not-an-email"}
        response = await partner.client.post(f"{PARTNER_URL}/practice", json=body, headers=partner.headers)
        assert response.status_code == 400
        assert response.json()["Message"].startswith("Email: ")
        body |= {"Email": "state@practice.example", "State": "New York"}
        response = await partner.client.post(f"{PARTNER_URL}/practice", json=body, headers=partner.headers)
        assert response.status_code == 400
        assert response.json()["Message"] == "State: must be a two-letter state code"

    async def test_a_duplicate_external_practice_id_is_a_400(
        self, partner: PartnerAccount, other_partner: PartnerAccount
    ) -> None:
        await partner.create_practice(ExternalPracticeId="dup-1")
        body = {"PracticeName": "P", "FirstName": "A", "LastName": "B", "Email": "dup@practice.example"}
        response = await partner.client.post(
            f"{PARTNER_URL}/practice", json=body | {"ExternalPracticeId": "dup-1"}, headers=partner.headers
        )
        assert response.status_code == 400
        assert response.json() == {
            "Message": "ExternalPracticeId: another practice of this partner has this ExternalPracticeId"
        }
        # Another partner's practices are another namespace.
        await other_partner.create_practice(ExternalPracticeId="dup-1")

    async def test_a_numeric_external_practice_id_means_its_digits(self, partner: PartnerAccount) -> None:
        practice = await partner.create_practice(ExternalPracticeId=4321)
        assert practice["ExternalPracticeId"] == "4321"


class TestUpdatePractice:
    async def test_by_id_changes_the_fields_given(self, partner: PartnerAccount) -> None:
        practice = await partner.create_practice(ExternalPracticeId="u-1", City="Boston")
        response = await partner.client.put(
            f"{PARTNER_URL}/practice",
            json={
                "Id": practice["Id"].lower(),
                "PracticeName": "Renamed",
                "FirstName": "Jane",
                "LastName": "Doe",
                "Email": "jane@practice.example",
                "BookingEnabled": True,
            },
            headers=partner.headers,
        )
        assert response.status_code == 200
        body = response.json()
        assert body["Id"] == practice["Id"]
        assert (body["PracticeName"], body["FirstName"], body["LastName"], body["Email"]) == (
            "Renamed",
            "Jane",
            "Doe",
            "jane@practice.example",
        )
        assert (body["City"], body["ExternalPracticeId"], body["BookingEnabled"]) == ("Boston", "u-1", True)
        assert body["DateCreated"] == practice["DateCreated"]
        listed = await partner.client.get(
            f"{PARTNER_URL}/practice", params={"id": practice["Id"]}, headers=partner.headers
        )
        assert listed.json() == [body]

    async def test_by_external_practice_id(self, partner: PartnerAccount) -> None:
        await partner.create_practice(ExternalPracticeId="u-2")
        response = await partner.client.put(
            f"{PARTNER_URL}/practice",
            json={"ExternalPracticeId": "u-2", "City": "Denver"},
            headers=partner.headers,
        )
        assert response.status_code == 200
        assert response.json()["City"] == "Denver"

    async def test_id_and_a_new_external_id_change_the_external_id(self, partner: PartnerAccount) -> None:
        practice = await partner.create_practice(ExternalPracticeId="u-3")
        taken = await partner.create_practice(ExternalPracticeId="u-4")
        response = await partner.client.put(
            f"{PARTNER_URL}/practice",
            json={"Id": practice["Id"], "ExternalPracticeId": "u-5"},
            headers=partner.headers,
        )
        assert response.json()["ExternalPracticeId"] == "u-5"
        response = await partner.client.put(
            f"{PARTNER_URL}/practice",
            json={"Id": practice["Id"], "ExternalPracticeId": taken["ExternalPracticeId"]},
            headers=partner.headers,
        )
        assert response.status_code == 400

    async def test_without_id_or_external_id_is_a_400(self, partner: PartnerAccount) -> None:
        response = await partner.client.put(
            f"{PARTNER_URL}/practice", json={"PracticeName": "X"}, headers=partner.headers
        )
        assert response.status_code == 400
        assert response.json()["Message"].startswith("Id: ")

    async def test_unknown_and_another_partners_practices_are_404(
        self, partner: PartnerAccount, other_partner: PartnerAccount
    ) -> None:
        theirs = await other_partner.create_practice(ExternalPracticeId="theirs")
        for body in ({"Id": "ABCDEF12"}, {"Id": theirs["Id"]}, {"ExternalPracticeId": "theirs"}):
            response = await partner.client.put(
                f"{PARTNER_URL}/practice", json=body | {"City": "X"}, headers=partner.headers
            )
            assert response.status_code == 404
            assert response.json() == {"Message": "practice not found"}

    async def test_clearing_a_required_field_is_a_400(self, partner: PartnerAccount) -> None:
        practice = await partner.create_practice()
        response = await partner.client.put(
            f"{PARTNER_URL}/practice", json={"Id": practice["Id"], "LastName": ""}, headers=partner.headers
        )
        assert response.status_code == 400
        assert response.json()["Message"].startswith("LastName: ")


class TestRetrievePractices:
    async def test_all_of_the_partners_practices_and_no_others(
        self, partner: PartnerAccount, other_partner: PartnerAccount
    ) -> None:
        mine = [await partner.create_practice() for _ in range(2)]
        await other_partner.create_practice()
        response = await partner.client.get(f"{PARTNER_URL}/practice", headers=partner.headers)
        assert response.status_code == 200
        assert response.json() == mine

    async def test_one_by_id_email_or_external_id_always_in_an_array(self, partner: PartnerAccount) -> None:
        practice = await partner.create_practice(ExternalPracticeId="r-1")
        await partner.create_practice(ExternalPracticeId="r-2")
        for params in (
            {"id": practice["Id"]},
            {"email": practice["Email"].upper()},
            {"externalPracticeId": "r-1"},
            {"ExternalPracticeID": "r-1", "unknown": "ignored"},
        ):
            response = await partner.client.get(
                f"{PARTNER_URL}/practice", params=params, headers=partner.headers
            )
            assert response.json() == [practice], params
        for params in ({"id": "00000000"}, {"email": "nobody@practice.example"}, {"email": "not an email"}):
            response = await partner.client.get(
                f"{PARTNER_URL}/practice", params=params, headers=partner.headers
            )
            assert response.status_code == 200
            assert response.json() == []

    async def test_pages(self, partner: PartnerAccount, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(practice_service, "PAGE_SIZE", 2)
        made = [await partner.create_practice() for _ in range(3)]
        pages = [
            (
                await partner.client.get(
                    f"{PARTNER_URL}/practice", params={"page": page}, headers=partner.headers
                )
            ).json()
            for page in ("1", "2", "3")
        ]
        assert pages == [made[:2], made[2:], []]

    @pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "9999999"])
    async def test_a_bad_page_is_a_400(self, partner: PartnerAccount, page: str) -> None:
        response = await partner.client.get(
            f"{PARTNER_URL}/practice", params={"page": page}, headers=partner.headers
        )
        assert response.status_code == 400
        assert response.json()["Message"].startswith("page: ")


class TestPracticeKey:
    async def test_by_id_or_external_id_the_same_key_that_works_on_v1(self, partner: PartnerAccount) -> None:
        practice = await partner.create_practice(ExternalPracticeId="k-1")
        by_id = await partner.client.get(
            f"{PARTNER_URL}/practice/{practice['Id']}/key", headers=partner.headers
        )
        by_external = await partner.client.get(f"{PARTNER_URL}/practice/k-1/key", headers=partner.headers)
        assert by_id.status_code == by_external.status_code == 200
        assert set(by_id.json()) == {"ApiKey"}
        key = by_id.json()["ApiKey"]
        assert by_external.json()["ApiKey"] == key
        assert re.fullmatch(r"[0-9a-f]{40}", key)
        response = await partner.client.get(f"{PRACTICE_URL}/practitioners", headers={"X-Auth-Key": key})
        assert response.status_code == 200

    async def test_another_partners_or_an_unknown_practice_is_404(
        self, partner: PartnerAccount, other_partner: PartnerAccount
    ) -> None:
        theirs = await other_partner.create_practice(ExternalPracticeId="k-theirs")
        for reference in (theirs["Id"], "k-theirs", "FFFFFFFF", "x" * 300):
            response = await partner.client.get(
                f"{PARTNER_URL}/practice/{reference}/key", headers=partner.headers
            )
            assert response.status_code == 404
            assert response.json() == {"Message": "practice not found"}


class TestDeletePractice:
    async def test_revokes_the_key_at_once_and_hides_the_practice(self, partner: PartnerAccount) -> None:
        practice = await open_practice(partner, ExternalPracticeId="d-1")
        assert (await practice.get("/practitioners")).status_code == 200
        response = await partner.client.delete(f"{PARTNER_URL}/practice/d-1", headers=partner.headers)
        assert response.status_code == 200
        assert (await practice.get("/practitioners")).status_code == 401
        listed = await partner.client.get(f"{PARTNER_URL}/practice", headers=partner.headers)
        assert practice.practice["Id"] not in {row["Id"] for row in listed.json()}
        for url in (f"/practice/{practice.practice['Id']}/key", f"/practice/{practice.practice['Id']}"):
            method = "GET" if url.endswith("/key") else "DELETE"
            response = await partner.client.request(method, f"{PARTNER_URL}{url}", headers=partner.headers)
            assert response.status_code == 404

    async def test_a_deleted_practice_keeps_its_external_id(self, partner: PartnerAccount) -> None:
        practice = await partner.create_practice(ExternalPracticeId="d-2")
        await partner.client.delete(f"{PARTNER_URL}/practice/{practice['Id']}", headers=partner.headers)
        body = {"PracticeName": "P", "FirstName": "A", "LastName": "B", "Email": "again@practice.example"}
        response = await partner.client.post(
            f"{PARTNER_URL}/practice", json=body | {"ExternalPracticeId": "d-2"}, headers=partner.headers
        )
        assert response.status_code == 400

    async def test_another_partners_practice_is_404_and_stays(
        self, partner: PartnerAccount, other_partner: PartnerAccount
    ) -> None:
        theirs = await open_practice(other_partner)
        response = await partner.client.delete(
            f"{PARTNER_URL}/practice/{theirs.practice['Id']}", headers=partner.headers
        )
        assert response.status_code == 404
        assert (await theirs.get("/practitioners")).status_code == 200


async def test_an_unknown_path_parameter_never_errs(
    partner: PartnerAccount, client: httpx.AsyncClient
) -> None:
    for reference in ("%00", "é", "' OR 1=1 --", "a/b"):
        response = await client.get(f"{PARTNER_URL}/practice/{reference}/key", headers=partner.headers)
        assert response.status_code == 404
