"""Text the database cannot store never reaches it: a NUL character (PostgreSQL refuses it) or a lone
surrogate (no UTF-8 for it), sent in a body field, a query parameter, a path parameter or a key, is a 4xx in
the surface's own error shape on every surface and page, never a 500. Run it on PostgreSQL too, where a
NUL that got through would be the database's error.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from clinicore.core.models import ApiKeyKind
from clinicore.runtime import Runtime
from tests.core.events.receiver import running_receiver
from tests.factories import answer_all, attach, create_clinic, create_key
from tests.surfaces.intakeq.conftest import (
    PARTNER_URL,
    PRACTICE_URL,
    PartnerAccount,
    create_partner_account,
    open_practice,
)
from tests.surfaces.qualifybase.conftest import QualifyBaseClinic, open_qualifybase_clinic
from tests.surfaces.qualiphy.conftest import QualiphyClinic, open_qualiphy_clinic
from tests.web.console.pages import csrf_token, page_csrf, sign_in
from tests.web.console.test_webhooks_pages import signed_in_with_endpoint
from tests.web.patient.pages import PNG, ArrangedVisit, arrange_visit, consent, directory_pharmacy, post

NUL = "Ja\x00ne"
SURROGATE_JSON = '"Ja\\ud800ne"'  # a JSON string escape json.loads accepts but UTF-8 cannot encode
# A lone surrogate cannot be sent in a form (its bytes are not UTF-8, read as U+FFFD): JSON only.
UNSTORABLE = pytest.mark.parametrize("text", [NUL, "\x00"], ids=["inside", "alone"])


@pytest.fixture
async def qp(runtime: Runtime) -> AsyncIterator[QualiphyClinic]:
    async for opened in open_qualiphy_clinic(runtime):
        yield opened


@pytest.fixture
async def qb(runtime: Runtime) -> AsyncIterator[QualifyBaseClinic]:
    async for opened in open_qualifybase_clinic(runtime):
        yield opened


@pytest.fixture
async def partner(runtime: Runtime, client: httpx.AsyncClient) -> PartnerAccount:
    return await create_partner_account(runtime, client)


def raw_json(document: dict[str, Any], field: str) -> bytes:
    """``document`` with ``field`` set to a lone surrogate, as a client's JSON encoder may send it."""
    return json.dumps({**document, field: "__here__"}).replace('"__here__"', SURROGATE_JSON).encode()


def deep(depth: int) -> bytes:
    return b'{"name": ' + b"[" * depth + b"]" * depth + b"}"


def assert_qualiphy_error(response: httpx.Response, field: str | None = None) -> None:
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert set(body) == {"http_code", "error_message"}, body
    assert body["http_code"] == response.status_code
    if field is not None:
        assert field in body["error_message"], body


def assert_error_code(response: httpx.Response, field: str | None = None) -> None:
    """QualifyBase and the native API: ``{"error": "<code>", "message": "..."}``."""
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert set(body) == {"error", "message"}, body
    if field is not None:
        assert field in body["message"], body


def assert_intakeq_error(response: httpx.Response, field: str | None = None) -> None:
    assert 400 <= response.status_code < 500, response.text
    assert "text/html" not in response.headers.get("content-type", ""), response.text
    if field is not None:
        assert field in response.text, response.text


# --- Qualiphy ---------------------------------------------------------------------------------------


def _invite(qp: QualiphyClinic, **fields: Any) -> dict[str, Any]:
    return {
        "api_key": qp.api_key,
        "exams": [qp.catalog.botox.id],
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane.doe@patients.example.com",
        "dob": "1990-06-30",
        "phone_number": "+15552223232",
        "tele_state": "NY",
    } | fields


class TestQualiphy:
    @UNSTORABLE
    async def test_a_body_field(self, qp: QualiphyClinic, text: str) -> None:
        response = await qp.client.post("/exam_invite", json=_invite(qp, first_name=text))
        assert_qualiphy_error(response, "first_name")
        assert response.status_code == 400

    async def test_a_lone_surrogate_escape_in_the_json_text(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post(
            "/exam_invite",
            content=raw_json(_invite(qp), "last_name"),
            headers={"Content-Type": "application/json"},
        )
        assert_qualiphy_error(response, "last_name")

    async def test_a_form_field(self, qp: QualiphyClinic) -> None:
        fields = {name: str(value) for name, value in _invite(qp, first_name=NUL).items() if name != "exams"}
        response = await qp.client.post("/exam_invite", data={**fields, "exams": str(qp.catalog.botox.id)})
        assert_qualiphy_error(response, "first_name")

    async def test_a_query_parameter(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post("/exam_list", params={"search": NUL}, json={"api_key": qp.api_key})
        assert_qualiphy_error(response, "search")

    async def test_the_api_key(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post("/exam_list", json={"api_key": qp.api_key[:-1] + "\x00"})
        assert_qualiphy_error(response, "api_key")

    async def test_a_nested_field(self, qp: QualiphyClinic) -> None:
        body = _invite(qp, additional_data={"notes": [NUL]})
        response = await qp.client.post("/exam_invite", json=body)
        assert_qualiphy_error(response, "additional_data")

    async def test_very_deep_nesting(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post(
            "/exam_list", content=deep(100_000), headers={"Content-Type": "application/json"}
        )
        assert_qualiphy_error(response)


# --- QualifyBase ------------------------------------------------------------------------------------

LEAD = {"full_name": "Alex Smith", "phone": "+14155551212", "source": "paid_ads"}


class TestQualifyBase:
    @UNSTORABLE
    async def test_a_body_field(self, qb: QualifyBaseClinic, text: str) -> None:
        response = await qb.client.post("/leads", json=LEAD | {"city": text})
        assert_error_code(response, "city")
        assert response.status_code == 400 and response.json()["error"] == "invalid_input"

    async def test_a_lone_surrogate_escape_in_the_json_text(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.post(
            "/leads", content=raw_json(LEAD, "notes"), headers={"Content-Type": "application/json"}
        )
        assert_error_code(response, "notes")

    async def test_a_query_parameter(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.get("/leads", params={"updated_since": NUL})
        assert_error_code(response, "updated_since")

    async def test_a_path_parameter(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.get("/appointments/abc%00def")
        assert_error_code(response)

    async def test_the_key(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.get("/me", headers={"Authorization": f"Bearer {qb.key[:-1]}\x01"})
        assert_error_code(response)
        assert response.status_code == 401

    async def test_very_deep_nesting(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.post(
            "/leads", content=deep(100_000), headers={"Content-Type": "application/json"}
        )
        assert_error_code(response)


# --- native API -------------------------------------------------------------------------------------


class TestNative:
    @pytest.fixture
    async def native(self, runtime: Runtime, client: httpx.AsyncClient) -> httpx.AsyncClient:
        arranged = await create_clinic(runtime)
        key = await create_key(runtime, arranged.clinic, ApiKeyKind.native)
        client.headers["Authorization"] = f"Bearer {key}"
        return client

    @UNSTORABLE
    async def test_a_body_field(self, native: httpx.AsyncClient, text: str) -> None:
        response = await native.post("/api/keys", json={"kind": "qualifybase", "name": text})
        assert_error_code(response, "name")
        assert response.status_code == 400

    async def test_a_query_parameter(self, native: httpx.AsyncClient) -> None:
        response = await native.get(
            f"/api/webhook-endpoints/{uuid.uuid4()}/attempts", params={"event_type": NUL}
        )
        assert_error_code(response, "event_type")

    async def test_a_lone_surrogate_escape_in_the_json_text(self, native: httpx.AsyncClient) -> None:
        response = await native.post(
            "/api/keys",
            content=raw_json({"kind": "qualifybase"}, "name"),
            headers={"Content-Type": "application/json"},
        )
        assert_error_code(response, "name")


# --- IntakeQ ----------------------------------------------------------------------------------------


class TestIntakeQ:
    @UNSTORABLE
    async def test_a_partner_body_field(self, partner: PartnerAccount, text: str) -> None:
        body = {"PracticeName": text, "FirstName": "John", "LastName": "Smith", "Email": "j@practice.example"}
        response = await partner.client.post(f"{PARTNER_URL}/practice", json=body, headers=partner.headers)
        assert_intakeq_error(response, "PracticeName")

    async def test_a_practice_body_field(self, partner: PartnerAccount) -> None:
        practice = await open_practice(partner)
        response = await practice.post(
            "/practitioners", {"FirstName": NUL, "LastName": "M", "Email": "d@x.io"}
        )
        assert_intakeq_error(response, "FirstName")

    async def test_a_query_parameter(self, partner: PartnerAccount) -> None:
        practice = await open_practice(partner)
        response = await practice.get("/practitioners", search=NUL)
        assert_intakeq_error(response)

    async def test_a_path_parameter(self, partner: PartnerAccount) -> None:
        response = await partner.client.get(f"{PARTNER_URL}/practice/ab%00cd/key", headers=partner.headers)
        assert_intakeq_error(response)
        assert response.status_code == 404

    async def test_the_key(self, partner: PartnerAccount) -> None:
        response = await partner.client.get(
            f"{PRACTICE_URL}/practitioners", headers={"X-Auth-Key": partner.key[:-1] + "\x01"}
        )
        assert_intakeq_error(response)


# --- pages: the console, the desks' sign-in, the patient's meeting page -----------------------------


class TestPages:
    @UNSTORABLE
    async def test_the_console_sign_in_form(self, client: httpx.AsyncClient, text: str) -> None:
        response = await sign_in(client, f"admin{text}@clinic.example", "pw")
        assert response.status_code == 400, response.text
        assert "text/html" in response.headers["content-type"]
        assert "email" in response.text

    @UNSTORABLE
    async def test_a_console_form(self, runtime: Runtime, client: httpx.AsyncClient, text: str) -> None:
        arranged = await create_clinic(runtime)
        assert (await sign_in(client, arranged.email, arranged.password)).status_code == 303
        response = await client.post(
            "/console/practitioners",
            data={
                "name": f"Dr. {text}",
                "email": "",
                "time_zone": "",
                "csrf_token": await page_csrf(client, "/console/availability"),
            },
        )
        assert response.status_code == 400, response.text
        assert "name: contains a control character" in response.text

    async def test_console_list_query_parameters(self, runtime: Runtime, client: httpx.AsyncClient) -> None:
        arranged = await create_clinic(runtime)
        assert (await sign_in(client, arranged.email, arranged.password)).status_code == 303
        for path, name in (
            ("/console/leads", "source"),
            ("/console/leads", "agent"),
            ("/console/leads", "updated_since"),
            ("/console/calendar", "week"),
            ("/console/exams", "search"),
        ):
            response = await client.get(path, params={name: NUL})
            assert response.status_code in (200, 400), (path, name, response.status_code)
            assert "text/html" in response.headers["content-type"]

    @UNSTORABLE
    async def test_the_desk_sign_in_form(self, client: httpx.AsyncClient, text: str) -> None:
        for desk in ("/provider", "/pharmacy"):
            page = await client.get(f"{desk}/sign-in")
            response = await client.post(
                f"{desk}/sign-in",
                data={
                    "email": f"a{text}@desk.example",
                    "password": "pw",
                    "csrf_token": csrf_token(page.text),
                },
            )
            assert response.status_code == 400, (desk, response.text)
            assert "text/html" in response.headers["content-type"]

    @UNSTORABLE
    async def test_the_meeting_page_answers_form(
        self, runtime: Runtime, client: httpx.AsyncClient, text: str
    ) -> None:
        visit = await arrange_visit(runtime)
        page = await client.get(visit.url)
        consent = await post(client, visit, "/consent", {"consent": "yes"})
        assert consent.status_code == 303, consent.text
        page = await client.get(visit.url)
        fields: list[tuple[str, str]] = [("patient_exam_id", str(visit.patient_exams[0].id))]
        for name in sorted(set(re.findall(r'name="(choice_\d+|text_\d+)"', page.text))):
            if name.startswith("text_"):
                fields.append((name, f"Metformin {text}"))
            else:
                first = re.search(rf'name="{name}" value="(\d+)"', page.text)
                assert first
                fields.append((name, first.group(1)))
        response = await post(client, visit, "/answers", fields)
        assert response.status_code == 400, response.text
        assert "answers: contains a control character" in response.text

    async def test_the_meeting_page_attachment_form(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime, ("botox",))
        for patient_exam in visit.patient_exams:
            await answer_all(runtime, patient_exam)
        await consent(client, visit)
        upload = {"file": ("id.png", PNG, "image/png")}
        response = await post(client, visit, "/attachments", {"label": f"ID{NUL}"}, files=upload)
        assert response.status_code == 400, response.text
        # A file's name is the patient's device's; it is kept cleaned, never a 500.
        upload = {"file": (f"my{NUL}.png", PNG, "image/png")}
        response = await post(client, visit, "/attachments", {"label": "ID"}, files=upload)
        assert response.status_code in (303, 400), response.text

    async def _at_pharmacy_choice(self, runtime: Runtime, client: httpx.AsyncClient) -> ArrangedVisit:
        visit = await arrange_visit(
            runtime, ("uti",), pharmacy_routing="retail", patient_chooses_pharmacy=True
        )
        await answer_all(runtime, visit.patient_exams[0])
        await attach(runtime, visit.patient_exams[0], label="ID", file_name="id.png")
        await consent(client, visit)
        return visit

    async def test_the_meeting_page_pharmacy_search(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await self._at_pharmacy_choice(runtime, client)
        response = await client.get(visit.url + "&search=ab%00cd")
        assert response.status_code == 400, response.status_code

    async def test_the_meeting_page_pharmacy_zip_code(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await self._at_pharmacy_choice(runtime, client)
        response = await client.get(visit.url + "&zip_code=12%0045")
        assert response.status_code in (200, 400), response.status_code

    async def test_the_meeting_page_pharmacy_choice(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        pharmacy = await directory_pharmacy(runtime)
        visit = await self._at_pharmacy_choice(runtime, client)
        page = f"{visit.url}&zip_code={pharmacy.zip_code}"
        response = await post(client, visit, "/pharmacy", {"ncpdpid": f"12{NUL}"}, page=page)
        assert 400 <= response.status_code < 500, response.status_code

    async def test_the_meeting_page_query(self, runtime: Runtime, client: httpx.AsyncClient) -> None:
        visit = await arrange_visit(runtime)
        response = await client.get(visit.url + "&search=%00&zip_code=%00&change=pharmacy")
        assert response.status_code < 500, response.text

    async def test_the_console_webhook_attempts_filter(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        async with running_receiver() as receiver:
            _, endpoint_id = await signed_in_with_endpoint(client, runtime, receiver)
            response = await client.get(f"/console/webhooks/{endpoint_id}", params={"event_type": NUL})
        assert response.status_code == 400, response.status_code
