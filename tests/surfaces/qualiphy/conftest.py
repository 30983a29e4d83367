"""A clinic with a Qualiphy api_key and a small exam catalog, seen through an app with a frozen clock."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from clinicore.app import create_app
from clinicore.core.models import ApiKeyKind
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.factories import Catalog, ClinicFixture, create_catalog, create_clinic, create_key

NOW = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)
BASE_URL = "http://testserver/qualiphy/api"


@dataclasses.dataclass
class QualiphyClinic:
    arranged: ClinicFixture
    api_key: str
    client: httpx.AsyncClient
    clock: FrozenClock
    runtime: Runtime
    catalog: Catalog

    async def post(self, name: str, **body: Any) -> httpx.Response:
        """``POST /qualiphy/api/<name>`` with ``api_key`` in the JSON body."""
        return await self.client.post(f"/{name}", json={"api_key": self.api_key, **body})


async def open_qualiphy_clinic(runtime: Runtime) -> AsyncIterator[QualiphyClinic]:
    clock = FrozenClock(NOW)
    frozen = dataclasses.replace(runtime, clock=clock)
    arranged = await create_clinic(frozen, name="Glow Medspa")
    api_key = await create_key(frozen, arranged.clinic, ApiKeyKind.qualiphy)
    catalog = await create_catalog(frozen, arranged.clinic)
    transport = httpx.ASGITransport(app=create_app(frozen))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield QualiphyClinic(
            arranged=arranged, api_key=api_key, client=client, clock=clock, runtime=frozen, catalog=catalog
        )


@pytest.fixture
async def qp(runtime: Runtime) -> AsyncIterator[QualiphyClinic]:
    async for opened in open_qualiphy_clinic(runtime):
        yield opened


@pytest.fixture
async def other_qp(runtime: Runtime) -> AsyncIterator[QualiphyClinic]:
    async for opened in open_qualiphy_clinic(runtime):
        yield opened
