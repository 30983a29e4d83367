"""With Redis, the 120 requests a minute of one key hold across server processes."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

REDIS_URL = os.environ.get("CLINICORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_two_server_processes_share_one_keys_limit(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    if not redis_answers(REDIS_URL):
        if os.environ.get("CLINICORE_REQUIRE_POSTGRES"):
            pytest.fail(f"Redis is required in CI but {REDIS_URL} does not answer")
        pytest.skip("Redis is not running")
    env = clinicore_env(tmp_path / "data", subprocess_database_url, CLINICORE_REDIS_URL=REDIS_URL)
    key = remember_secret(json.loads(run_clinicore("demo", "--json", env=env).stdout)["qualifybase_api_key"])
    headers = {"Authorization": f"Bearer {key}"}
    first, second = ServerProcess(env), ServerProcess(env)
    try:
        first.wait_ready()
        second.wait_ready()
        with httpx.Client(headers=headers, timeout=30) as client:
            for number in range(120):
                server = first if number % 2 == 0 else second
                response = client.get(f"{server.base_url}/qualifybase/api/v1/me")
                assert response.status_code == 200, number
            assert response.headers["ratelimit-remaining"] == "0"
            for server in (first, second):
                limited = client.get(f"{server.base_url}/qualifybase/api/v1/me")
                assert limited.status_code == 429
                assert 1 <= int(limited.headers["retry-after"]) <= 60
    finally:
        first.stop()
        second.stop()
