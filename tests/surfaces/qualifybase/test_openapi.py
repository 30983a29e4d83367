"""The OpenAPI document of the QualifyBase surface: complete, accurate, and true of the running server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore
from tests.surfaces.qualifybase.conftest import QualifyBaseClinic

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# Every row of the doc's "Endpoint Reference" table.
DOC_ENDPOINTS = {
    ("get", "/me"),
    ("get", "/leads"),
    ("post", "/leads"),
    ("get", "/agents"),
    ("get", "/availability"),
    ("post", "/appointments"),
    ("get", "/appointments"),
    ("get", "/appointments/{appointment_id}"),
    ("patch", "/appointments/{appointment_id}"),
    ("delete", "/appointments/{appointment_id}"),
    ("get", "/campaigns"),
    ("post", "/campaigns/{campaign_id}/contacts"),
    ("get", "/campaigns/contacts"),
    ("get", "/webhooks"),
    ("post", "/webhooks"),
    ("delete", "/webhooks/{webhook_id}"),
    ("post", "/availability/blocks"),
    ("delete", "/availability/blocks"),
}


class TestDocument:
    async def test_it_is_openapi_3_1_with_every_documented_endpoint(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.get("/openapi.json", headers={"Authorization": ""})
        assert response.status_code == 200
        document = response.json()
        assert document["openapi"].startswith("3.1")
        operations = {(method, path) for path, item in document["paths"].items() for method in item}
        assert operations == DOC_ENDPOINTS
        assert document["components"]["securitySchemes"]["bearerAuth"] == {
            "type": "http",
            "scheme": "bearer",
            "description": "qbk_live_… API key",
        }
        assert document["security"] == [{"bearerAuth": []}]

    async def test_operations_document_their_bodies_and_errors(self, qb: QualifyBaseClinic) -> None:
        document = (await qb.client.get("/openapi.json")).json()
        create_lead = document["paths"]["/leads"]["post"]
        assert "requestBody" in create_lead
        assert {"200", "201", "400", "401", "429"} <= set(create_lead["responses"])
        slot = document["components"]["schemas"]["Slot"]
        assert set(slot["required"]) == {"starts_at", "ends_at", "assigned_to"}


def test_schemathesis_finds_no_server_error_and_no_response_outside_the_schema(tmp_path: Path) -> None:
    """Fuzz the running server from its own OpenAPI document (schemathesis CLI, bounded examples).

    One schemathesis worker: with several threads CPython 3.11 can fail inside schemathesis itself
    ("AST constructor recursion depth mismatch"), which says nothing about our API.
    """
    env = clinicore_env(tmp_path / "data", None, CLINICORE_QUALIFYBASE_RATE_LIMIT="100000/minute")
    demo = json.loads(run_clinicore("demo", "--json", env=env).stdout)
    key = remember_secret(demo["qualifybase_api_key"])
    server = ServerProcess(env)
    try:
        server.wait_ready()
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"{server.base_url}/qualifybase/api/v1/openapi.json",
                "--url",
                f"{server.base_url}/qualifybase/api/v1",
                "--header",
                f"Authorization: Bearer {key}",
                "--checks",
                ",".join(CHECKS),
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                "20",
                "--seed",
                "1",
                "--workers",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        server.stop()
    report = result.stdout.replace(key, "[key]")
    assert result.returncode == 0, report[-6000:]
