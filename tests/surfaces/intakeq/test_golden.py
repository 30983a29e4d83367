"""Our answers have the doc's fields with the doc's JSON types (golden/), and each API has its OpenAPI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.surfaces.intakeq.conftest import PARTNER_URL, PRACTICE_URL, PartnerAccount, PracticeAccount

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GOLDEN / name).read_text())
    return loaded


def json_types(document: dict[str, Any]) -> dict[str, str]:
    return {name: type(value).__name__ for name, value in document.items()}


async def test_a_practice_made_from_the_docs_request_answers_the_docs_shape(partner: PartnerAccount) -> None:
    request = golden("practice_create_request.json") | {
        "StreetAddress": "123 Remedy Lane",
        "City": "New York",
        "State": "NY",
        "PostalCode": "12345",
    }
    response = await partner.client.post(f"{PARTNER_URL}/practice", json=request, headers=partner.headers)
    assert response.status_code == 200
    assert json_types(response.json()) == json_types(golden("practice.json"))
    listed = await partner.client.get(f"{PARTNER_URL}/practice", headers=partner.headers)
    assert [json_types(row) for row in listed.json()] == [json_types(golden("practice.json"))]


async def test_practitioners_and_assistants_answer_the_docs_shape(practice: PracticeAccount) -> None:
    made = await practice.post("/practitioners", golden("practitioner_create_request.json"))
    assert json_types(made.json()) == json_types(golden("practitioner.json"))
    request = golden("assistant_create_request.json") | {"PractitionerIds": [made.json()["Id"]]}
    assistant = await practice.post("/assistants", request)
    assert assistant.status_code == 200
    assert set(assistant.json()) == set(request) | {"Id"}


async def test_each_api_publishes_its_openapi_with_the_request_bodies(client: httpx.AsyncClient) -> None:
    partner = (await client.get(f"{PARTNER_URL}/openapi.json")).json()
    practice = (await client.get(f"{PRACTICE_URL}/openapi.json")).json()
    body = partner["paths"]["/practice"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "PracticeName" in body["properties"]
    assert {"/practitioners", "/assistants", "/practitioners/{practitioner_id}/disable"} <= set(
        practice["paths"]
    )
