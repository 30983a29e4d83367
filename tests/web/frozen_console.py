"""The app seen through a clock that stands still (Monday 2031-03-03, 08:00 in New York), for pages whose
content depends on "now": the current week, minimum notice, calendar feed windows."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx

from clinicore.app import create_app
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime

MONDAY_8AM_NEW_YORK = datetime(2031, 3, 3, 13, 0, tzinfo=UTC)


@dataclasses.dataclass
class FrozenApp:
    runtime: Runtime
    clock: FrozenClock
    client: httpx.AsyncClient
    transport: httpx.ASGITransport

    def new_client(self) -> httpx.AsyncClient:
        """Another browser (no cookies) on the same app, e.g. a calendar app fetching a feed."""
        return httpx.AsyncClient(transport=self.transport, base_url="http://testserver")


@asynccontextmanager
async def frozen_app(runtime: Runtime, at: datetime = MONDAY_8AM_NEW_YORK) -> AsyncIterator[FrozenApp]:
    clock = FrozenClock(at)
    frozen = dataclasses.replace(runtime, clock=clock)
    # Each test's client has its own loopback address, so per-IP sign-in throttling stays per test.
    address = f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
    transport = httpx.ASGITransport(app=create_app(frozen), client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield FrozenApp(runtime=frozen, clock=clock, client=client, transport=transport)
