from __future__ import annotations

import httpx

from tests.surfaces.qualifybase.conftest import BASE_URL, QualifyBaseClinic


class TestMe:
    async def test_me_returns_the_clinic_and_key_metadata_never_the_key(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.get("/me")
        assert response.status_code == 200
        body = response.json()
        assert body["clinic"] == {
            "id": qb.clinic_id,
            "name": qb.arranged.clinic.name,
            "time_zone": "America/New_York",
        }
        assert set(body["api_key"]) == {"id", "name", "prefix", "created_at", "last_used_at"}
        assert body["api_key"]["prefix"] == qb.key[:17]
        assert body["api_key"]["created_at"].endswith("Z") and len(body["api_key"]["created_at"]) == 24
        assert qb.key not in response.text


class TestAuthentication:
    async def test_missing_and_unknown_keys_are_401_in_the_envelope(self, qb: QualifyBaseClinic) -> None:
        for headers in ({"Authorization": ""}, {"Authorization": "Bearer qbk_live_" + "x" * 40}):
            response = await qb.client.get("/me", headers=headers)
            assert response.status_code == 401
            assert response.json()["error"] == "unauthorized"

    async def test_a_key_in_the_query_string_is_refused(self, qb: QualifyBaseClinic) -> None:
        async with httpx.AsyncClient(transport=qb.client._transport, base_url=BASE_URL) as anonymous:
            response = await anonymous.get(f"/me?api_key={qb.key}")
        assert response.status_code == 401
        assert "Authorization" in response.json()["message"]
        # Even with a valid header, a key in the URL is refused.
        assert (await qb.client.get(f"/leads?token={qb.key}")).status_code == 401

    async def test_other_kinds_of_keys_are_not_qualifybase_keys(self, qb: QualifyBaseClinic) -> None:
        from clinicore.core.models import ApiKeyKind
        from tests.factories import create_key

        native = await create_key(qb.runtime, qb.arranged.clinic, ApiKeyKind.native)
        assert (await qb.client.get("/me", headers={"Authorization": f"Bearer {native}"})).status_code == 401


class TestRateLimit:
    async def test_the_121st_request_in_a_minute_is_429_with_retry_after(self, qb: QualifyBaseClinic) -> None:
        for number in range(1, 121):
            response = await qb.client.get("/me")
            assert response.status_code == 200, number
            assert response.headers["ratelimit-limit"] == "120"
            assert response.headers["ratelimit-remaining"] == str(120 - number)
        limited = await qb.client.get("/me")
        assert limited.status_code == 429
        assert limited.json()["error"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.headers["ratelimit-remaining"] == "0"

    async def test_the_limit_is_per_key(self, qb: QualifyBaseClinic, other_qb: QualifyBaseClinic) -> None:
        for _ in range(121):
            await qb.client.get("/me")
        assert (await other_qb.client.get("/me")).status_code == 200

    async def test_error_answers_carry_the_headers_too(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.get("/appointments/00000000-0000-4000-8000-000000000000")
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": "appointment not found"}
        assert response.headers["ratelimit-limit"] == "120"
