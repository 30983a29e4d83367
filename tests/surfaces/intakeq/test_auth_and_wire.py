"""The wire rules of both IntakeQ APIs: X-Auth-Key of the right kind, errors as {"Message"}, JSON read
the way integrators send it."""

from __future__ import annotations

import httpx
import pytest

from clinicore.core.models import ApiKeyKind
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_key
from tests.surfaces.intakeq.conftest import PARTNER_URL, PRACTICE_URL, PartnerAccount, PracticeAccount


class TestPartnerKey:
    async def test_missing_and_empty_keys_are_401_with_a_message(self, client: httpx.AsyncClient) -> None:
        for headers in ({}, {"X-Auth-Key": ""}, {"X-Auth-Key": "   "}):
            response = await client.get(f"{PARTNER_URL}/practice", headers=headers)
            assert response.status_code == 401
            assert response.json() == {"Message": "missing API key: send it in the X-Auth-Key header"}

    async def test_an_unknown_key_is_401(self, client: httpx.AsyncClient) -> None:
        for raw in ("0" * 48, "not a key", "x" * 5000):
            response = await client.get(f"{PARTNER_URL}/practice", headers={"X-Auth-Key": raw})
            assert response.status_code == 401
            assert response.json() == {"Message": "invalid API key"}

    async def test_a_practice_key_is_not_a_partner_key(self, practice: PracticeAccount) -> None:
        response = await practice.client.get(f"{PARTNER_URL}/practice", headers=practice.headers)
        assert response.status_code == 401

    async def test_the_header_name_is_matched_without_case(self, partner: PartnerAccount) -> None:
        for name in ("x-auth-key", "X-AUTH-KEY", "x-Auth-key"):
            response = await partner.client.get(f"{PARTNER_URL}/practice", headers={name: partner.key})
            assert response.status_code == 200, name


class TestPracticeKey:
    async def test_missing_and_empty_keys_are_401(self, client: httpx.AsyncClient) -> None:
        for headers in ({}, {"X-Auth-Key": ""}):
            response = await client.get(f"{PRACTICE_URL}/practitioners", headers=headers)
            assert response.status_code == 401
            assert "X-Auth-Key" in response.json()["Message"]

    async def test_a_partner_key_is_not_a_practice_key(self, partner: PartnerAccount) -> None:
        response = await partner.client.get(f"{PRACTICE_URL}/practitioners", headers=partner.headers)
        assert response.status_code == 401
        assert response.json() == {"Message": "invalid API key"}

    async def test_other_kinds_of_clinic_keys_are_refused(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        clinic = (await create_clinic(runtime)).clinic
        for kind in (ApiKeyKind.qualiphy, ApiKeyKind.native, ApiKeyKind.qualifybase):
            key = await create_key(runtime, clinic, kind)
            response = await client.get(f"{PRACTICE_URL}/practitioners", headers={"X-Auth-Key": key})
            assert response.status_code == 401, kind

    async def test_a_clinic_made_without_a_partner_uses_its_practice_key(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        clinic = (await create_clinic(runtime)).clinic
        key = await create_key(runtime, clinic, ApiKeyKind.intakeq_practice)
        response = await client.get(f"{PRACTICE_URL}/practitioners", headers={"x-auth-key": key})
        assert response.status_code == 200
        assert response.json() == []


class TestWire:
    async def test_unknown_routes_answer_404_in_the_envelope(self, partner: PartnerAccount) -> None:
        for url in (f"{PARTNER_URL}/nothing", f"{PRACTICE_URL}/nothing", "/intakeq/api/nothing"):
            response = await partner.client.get(url, headers=partner.headers)
            assert response.status_code == 404
            assert set(response.json()) == {"Message"}

    @pytest.mark.parametrize(
        "content_type", ["Application/Json", "APPLICATION/JSON; charset=UTF-8", "application/json"]
    )
    async def test_content_type_is_matched_without_case(
        self, partner: PartnerAccount, content_type: str
    ) -> None:
        body = (
            b'{"PracticeName": "Case", "FirstName": "A", "LastName": "B", "Email": "case@practice.example"}'
        )
        response = await partner.client.post(
            f"{PARTNER_URL}/practice", content=body, headers=partner.headers | {"Content-Type": content_type}
        )
        assert response.status_code == 200, response.text

    async def test_a_body_that_is_not_json_is_a_415(self, partner: PartnerAccount) -> None:
        response = await partner.client.post(
            f"{PARTNER_URL}/practice",
            content=b"PracticeName=A",
            headers=partner.headers | {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 415
        assert "application/json" in response.json()["Message"]

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (b"{not json", "the request body is not valid JSON"),
            (b"", "the request body must be a JSON object"),
            (b"[1, 2]", "the request body must be a JSON object"),
            (b'"text"', "the request body must be a JSON object"),
            (b"[" * 100_00 + b"]" * 100_00, None),
        ],
    )
    async def test_invalid_json_is_a_400(
        self, partner: PartnerAccount, body: bytes, message: str | None
    ) -> None:
        response = await partner.client.post(
            f"{PARTNER_URL}/practice",
            content=body,
            headers=partner.headers | {"Content-Type": "application/json"},
        )
        assert response.status_code == 400
        if message is not None:
            assert response.json() == {"Message": message}

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("PracticeName", 123),
            ("FormsEnabled", "yes"),
            ("BookingEnabled", [True]),
            ("Email", {"a": 1}),
            ("FirstName", True),
        ],
    )
    async def test_a_field_of_the_wrong_type_is_a_400_naming_it(
        self, partner: PartnerAccount, field: str, value: object
    ) -> None:
        body = {
            "PracticeName": "P",
            "FirstName": "A",
            "LastName": "B",
            "Email": "wrong-type@practice.example",
        }
        response = await partner.client.post(
            f"{PARTNER_URL}/practice", json=body | {field: value}, headers=partner.headers
        )
        assert response.status_code == 400
        assert response.json()["Message"].startswith(f"{field}: ")

    async def test_a_body_over_64_kb_is_a_413(self, partner: PartnerAccount) -> None:
        body = {"PracticeName": "P" * 70_000}
        response = await partner.client.post(f"{PARTNER_URL}/practice", json=body, headers=partner.headers)
        assert response.status_code == 413
        assert set(response.json()) == {"Message"}

    async def test_too_long_strings_are_a_400(self, partner: PartnerAccount) -> None:
        body = {
            "PracticeName": "P" * 201,
            "FirstName": "A",
            "LastName": "B",
            "Email": "long@practice.example",
        }
        response = await partner.client.post(f"{PARTNER_URL}/practice", json=body, headers=partner.headers)
        assert response.status_code == 400
        assert response.json()["Message"].startswith("PracticeName: ")


class TestNulCharacters:
    """PostgreSQL stores no NUL character: every way one can arrive is a 400 or a 404, never a 500."""

    async def test_in_a_body_field_or_key(self, partner: PartnerAccount) -> None:
        body = {
            "PracticeName": "A\u0000B",
            "FirstName": "A",
            "LastName": "B",
            "Email": "nul@practice.example",
        }
        response = await partner.client.post(f"{PARTNER_URL}/practice", json=body, headers=partner.headers)
        assert response.status_code == 400
        assert response.json() == {"Message": "PracticeName: must not contain NUL characters"}
        response = await partner.client.put(
            f"{PARTNER_URL}/practice", json={"Id": "\u0000", "Nested\u0000": [1]}, headers=partner.headers
        )
        assert response.status_code == 400

    async def test_in_a_query_value_or_a_path(
        self, practice: PracticeAccount, partner: PartnerAccount
    ) -> None:
        response = await partner.client.get(
            f"{PARTNER_URL}/practice", params={"externalPracticeId": "\u0000"}, headers=partner.headers
        )
        assert response.status_code == 400
        for path in ("/practitioners/%00/disable", "/assistants/%00/disable"):
            response = await practice.client.post(f"{PRACTICE_URL}{path}", headers=practice.headers)
            assert response.status_code == 404
        response = await practice.post(
            "/assistants", {"Name": "A", "Email": "a@x.example", "PractitionerIds": ["\u0000"]}
        )
        assert response.status_code == 400
