"""``/metrics`` is guarded (loopback callers only, or a bearer token when one is set) and
``X-Forwarded-For`` is believed only from the configured proxies (none by default), issue 15 item 8."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from clinicore.app import create_app
from clinicore.runtime import Runtime
from tests.support import ServerProcess, clinicore_env

TOKEN = "metrics-token-0123456789abcdef"
FORGED = {"X-Forwarded-For": "203.0.113.9"}


def client_of(runtime: Runtime, peer: str, **settings: object) -> httpx.AsyncClient:
    changed = dataclasses.replace(runtime, settings=runtime.settings.model_copy(update=settings))
    transport = httpx.ASGITransport(app=create_app(changed), client=(peer, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def remote(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(runtime, "198.51.100.7") as client:
        yield client


class TestMetrics:
    async def test_a_loopback_caller_reads_them(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/metrics")
        assert response.status_code == 200
        assert "clinicore_http_requests_total" in response.text

    async def test_any_other_caller_is_refused(self, remote: httpx.AsyncClient) -> None:
        response = await remote.get("/metrics")
        assert response.status_code == 403
        assert "clinicore_http_requests_total" not in response.text

    async def test_with_a_token_only_the_token_reads_them(self, runtime: Runtime) -> None:
        async with client_of(runtime, "127.0.0.1", metrics_token=TOKEN) as loopback:
            assert (await loopback.get("/metrics")).status_code == 403
            wrong = await loopback.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
            assert wrong.status_code == 403
        async with client_of(runtime, "198.51.100.7", metrics_token=TOKEN) as far:
            assert (
                await far.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            ).status_code == 200


class TestForwardedFor:
    async def test_without_trusted_proxies_the_header_is_ignored(self, runtime: Runtime) -> None:
        async with client_of(runtime, "198.51.100.7") as far:
            assert (await far.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})).status_code == 403
        async with client_of(runtime, "127.0.0.1") as near:
            assert (await near.get("/metrics", headers=FORGED)).status_code == 200

    async def test_a_trusted_proxys_header_names_the_client(self, runtime: Runtime) -> None:
        async with client_of(runtime, "10.0.0.5", trusted_proxies="10.0.0.0/24") as behind_proxy:
            assert (await behind_proxy.get("/metrics", headers=FORGED)).status_code == 403
            local = await behind_proxy.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
            assert local.status_code == 200


def test_the_served_app_does_not_believe_a_loopback_peers_header(tmp_path: Path) -> None:
    """``clinicore serve`` turns uvicorn's own proxy handling (which trusts 127.0.0.1) off."""
    server = ServerProcess(clinicore_env(tmp_path / "data", None))
    try:
        server.wait_ready()
        assert httpx.get(f"{server.base_url}/metrics", headers=FORGED, timeout=10).status_code == 200
    finally:
        server.stop()
