"""A clinic with a QualifyBase key, seen through an app whose clock stands still (Monday 08:00 New York)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from clinicore.app import create_app
from clinicore.core.models import ApiKeyKind
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.factories import ClinicFixture, create_clinic, create_key

MONDAY_8AM_NEW_YORK = datetime(2031, 3, 3, 13, 0, tzinfo=UTC)
BASE_URL = "http://testserver/qualifybase/api/v1"


@dataclasses.dataclass
class QualifyBaseClinic:
    arranged: ClinicFixture
    key: str
    client: httpx.AsyncClient
    clock: FrozenClock
    runtime: Runtime

    @property
    def clinic_id(self) -> str:
        return str(self.arranged.clinic.id)


async def open_qualifybase_clinic(runtime: Runtime) -> AsyncIterator[QualifyBaseClinic]:
    clock = FrozenClock(MONDAY_8AM_NEW_YORK)
    frozen = dataclasses.replace(runtime, clock=clock)
    arranged = await create_clinic(frozen, time_zone="America/New_York")
    key = await create_key(frozen, arranged.clinic, ApiKeyKind.qualifybase)
    transport = httpx.ASGITransport(app=create_app(frozen))
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield QualifyBaseClinic(arranged=arranged, key=key, client=client, clock=clock, runtime=frozen)


@pytest.fixture
async def qb(runtime: Runtime) -> AsyncIterator[QualifyBaseClinic]:
    async for opened in open_qualifybase_clinic(runtime):
        yield opened


@pytest.fixture
async def other_qb(runtime: Runtime) -> AsyncIterator[QualifyBaseClinic]:
    async for opened in open_qualifybase_clinic(runtime):
        yield opened
