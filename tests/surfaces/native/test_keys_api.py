from __future__ import annotations

import httpx

from clinicore.core.models import ApiKeyKind
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_key
from tests.support import remember_secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class TestAuthentication:
    async def test_me_describes_the_clinic_and_the_key_never_the_secret(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime, name="North Clinic", time_zone="Europe/London")
        secret = await create_key(runtime, arranged.clinic, name="crm")
        response = await client.get("/api/me", headers=bearer(secret))
        assert response.status_code == 200
        body = response.json()
        assert body["clinic"] == {
            "id": str(arranged.clinic.id),
            "name": "North Clinic",
            "time_zone": "Europe/London",
            "number": arranged.clinic.number,
            "practice_id": arranged.clinic.practice_id,
        }
        assert body["key"]["name"] == "crm"
        assert body["key"]["prefix"] == secret[:11]
        assert body["key"]["last_used_at"] is not None
        assert secret not in response.text

    async def test_missing_malformed_and_unknown_keys_are_401(self, client: httpx.AsyncClient) -> None:
        for headers in ({}, {"Authorization": "Basic abc"}, bearer("ck_short"), bearer("ck_" + "A" * 40)):
            response = await client.get("/api/me", headers=headers)
            assert response.status_code == 401
            assert response.json()["error"] == "unauthorized"

    async def test_a_key_of_another_kind_is_not_a_native_key(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        qualifybase_key = await create_key(runtime, arranged.clinic, ApiKeyKind.qualifybase)
        assert (await client.get("/api/me", headers=bearer(qualifybase_key))).status_code == 401


class TestKeys:
    async def test_creating_a_key_returns_it_once_and_it_works(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        secret = await create_key(runtime, arranged.clinic)
        created = await client.post(
            "/api/keys", headers=bearer(secret), json={"kind": "qualifybase", "name": "n8n"}
        )
        assert created.status_code == 201
        body = created.json()
        remember_secret(body["secret"])
        assert body["secret"].startswith("qbk_live_") and body["kind"] == "qualifybase"
        listed = await client.get("/api/keys", headers=bearer(secret))
        assert body["secret"] not in listed.text
        assert body["id"] in {key["id"] for key in listed.json()}

    async def test_partner_keys_cannot_be_made_for_a_clinic(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        secret = await create_key(runtime, arranged.clinic)
        response = await client.post("/api/keys", headers=bearer(secret), json={"kind": "intakeq_partner"})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_input"

    async def test_an_unknown_kind_is_invalid_input(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        secret = await create_key(runtime, arranged.clinic)
        response = await client.post("/api/keys", headers=bearer(secret), json={"kind": "master"})
        assert response.status_code == 400
        assert response.json()["message"].startswith("kind:")

    async def test_a_revoked_key_is_refused(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        admin = await create_key(runtime, arranged.clinic)
        doomed = await create_key(runtime, arranged.clinic)
        doomed_id = (await client.get("/api/me", headers=bearer(doomed))).json()["key"]["id"]
        revoked = await client.delete(f"/api/keys/{doomed_id}", headers=bearer(admin))
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        assert (await client.get("/api/me", headers=bearer(doomed))).status_code == 401


class TestTenantScoping:
    async def test_a_key_of_clinic_a_can_never_act_on_clinic_b(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        clinic_a = await create_clinic(runtime)
        clinic_b = await create_clinic(runtime)
        key_a = await create_key(runtime, clinic_a.clinic)
        key_b = await create_key(runtime, clinic_b.clinic)
        key_b_id = (await client.get("/api/me", headers=bearer(key_b))).json()["key"]["id"]

        listed = await client.get("/api/keys", headers=bearer(key_a))
        assert key_b_id not in {key["id"] for key in listed.json()}
        # Another clinic's key answers exactly like a key that does not exist.
        revoke = await client.delete(f"/api/keys/{key_b_id}", headers=bearer(key_a))
        missing = await client.delete("/api/keys/00000000-0000-4000-8000-000000000000", headers=bearer(key_a))
        assert revoke.status_code == missing.status_code == 404
        assert revoke.json() == missing.json() == {"error": "not_found", "message": "key not found"}
        assert (await client.get("/api/me", headers=bearer(key_b))).status_code == 200


class TestEnvelope:
    async def test_unknown_routes_answer_in_each_surfaces_own_shape(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/nope")).json() == {"error": "not_found", "message": "Not Found"}
        qualiphy = await client.post("/qualiphy/api/nope")
        assert qualiphy.status_code == 404
        assert qualiphy.json() == {"http_code": 404, "error_message": "Not Found"}
        assert (await client.get("/qualifybase/api/v1/nope")).json()["error"] == "not_found"
        assert (await client.get("/intakeq/api/v1/nope")).json() == {"Message": "Not Found"}

    async def test_paths_that_never_reach_a_surface_still_answer_in_its_envelope(
        self, client: httpx.AsyncClient
    ) -> None:
        encoded_slash = await client.post("/qualifybase/api/v1/campaigns/a%2Fb/contacts")
        assert encoded_slash.status_code == 404
        assert encoded_slash.json() == {"error": "not_found", "message": "Not Found"}
        page = await client.get("/no-such-page")
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")

    async def test_native_openapi_documents_the_key_routes(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/api/openapi.json")).json()
        assert {"/me", "/keys", "/keys/{key_id}"} <= set(document["paths"])
