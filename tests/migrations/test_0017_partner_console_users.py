"""Migration 0017 adds the partner console's users and sessions; down to 0016 and up again leaves
exactly the schema the models describe, and a partner user signs in on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinicore.core.partners import service as partner_service
from clinicore.core.partners.service import SignInThrottle
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import FrozenClock
from clinicore.kit.rate_limit import RateLimiter
from clinicore.runtime import Runtime
from tests.migrations.conftest import migrate, migrated_runtime, schema_differences, table_names
from tests.support import remember_secret

CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))
TABLES = {"partner_users", "partner_console_sessions"}


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = await migrated_runtime(database_url, tmp_path, CLOCK)
    yield opened
    await opened.close()


async def test_down_and_up_again_matches_the_models_and_signs_a_partner_user_in(
    runtime: Runtime, database_url: str
) -> None:
    await migrate(database_url, "0016", down=True)
    async with runtime.engine.connect() as connection:
        assert not TABLES & await connection.run_sync(table_names)
    await runtime.engine.dispose()
    await migrate(database_url, "head")
    async with runtime.engine.connect() as connection:
        assert await connection.run_sync(table_names) >= TABLES
        assert await connection.run_sync(schema_differences) == []

    password = remember_secret("migration-partner-password")
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name="Migrated partner", clock=CLOCK)
        await partner_service.create_user(
            session,
            partner_id=partner.id,
            email="p@migrated.example",
            name="",
            password=password,
            clock=CLOCK,
        )
    async with runtime.sessions() as session, session.begin():
        opened = await partner_service.sign_in(
            session,
            email="p@migrated.example",
            password=password,
            client_address="10.0.0.1",
            throttle=SignInThrottle(RateLimiter(), 5, 900),
            clock=CLOCK,
        )
    async with runtime.sessions() as session:
        signed_in = await partner_service.signed_in(session, token=opened.token, clock=CLOCK)
    assert signed_in is not None and signed_in.partner.name == "Migrated partner"
