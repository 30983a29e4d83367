"""The access log line of every request, as the real ``clinicore serve`` writes it: one JSON object with
the request id the response carries, the route template, status and latency, nothing from the request."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support import ServerProcess, clinicore_env


@pytest.fixture
def env(tmp_path: Path, subprocess_database_url: str | None) -> dict[str, str]:
    return clinicore_env(tmp_path / "data", subprocess_database_url)


def request_lines(log: Path) -> list[dict[str, object]]:
    lines = []
    for text in log.read_text().splitlines():
        if text.startswith("{"):
            line = json.loads(text)
            if line.get("event") == "request":
                lines.append(line)
    return lines


def test_each_request_is_one_json_line_with_its_request_id(env: dict[str, str]) -> None:
    server = ServerProcess(env)
    try:
        server.wait_ready()
        mine = httpx.get(f"{server.base_url}/healthz?secret=hidden", headers={"X-Request-Id": "bench-0001"})
        generated = httpx.get(f"{server.base_url}/api/me", headers={"Authorization": "Bearer ck_nope"})
        refused_id = httpx.get(f"{server.base_url}/healthz", headers={"X-Request-Id": "bad id!"})
    finally:
        server.stop()
    assert mine.headers["x-request-id"] == "bench-0001"
    generated_id = generated.headers["x-request-id"]
    assert refused_id.headers["x-request-id"] not in ("bad id!", generated_id)
    lines = request_lines(server.log_path)
    by_id = {line["request_id"]: line for line in lines}
    healthz = by_id["bench-0001"]
    assert set(healthz) == {
        "event",
        "level",
        "timestamp",
        "request_id",
        "method",
        "route",
        "status",
        "latency_ms",
        "clinic_id",
    }
    assert (healthz["method"], healthz["route"], healthz["status"], healthz["level"]) == (
        "GET",
        "/healthz",
        200,
        "info",
    )
    assert str(healthz["timestamp"]).endswith("Z")
    assert isinstance(healthz["latency_ms"], float | int)
    assert by_id[generated_id]["route"] == "/api/me"
    assert by_id[generated_id]["status"] == 401
    assert refused_id.headers["x-request-id"] in by_id
    assert "hidden" not in server.log_path.read_text()
