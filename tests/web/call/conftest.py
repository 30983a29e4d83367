from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

REDIS_URL = os.environ.get("CLINICORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """The Redis the suite runs beside (required in CI, as for the rate limits across processes)."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except Exception:
        if os.environ.get("CLINICORE_REQUIRE_POSTGRES"):
            pytest.fail(f"Redis is required in CI but {REDIS_URL} does not answer")
        pytest.skip("Redis is not running")
    finally:
        await client.aclose()
    yield REDIS_URL
