"""Migration 0012 adds staff roles, assistants, the practitioners' staff identity, client ownership and
the clinics' switches. Clinics that exist keep booking and forms on; practitioners that exist become
Administrators; down to 0011 and up again leaves exactly the schema the models describe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_practitioner
from tests.migrations.conftest import (
    migrate,
    migrated_runtime,
    schema_differences,
    table_columns,
    table_names,
)

CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = await migrated_runtime(database_url, tmp_path, CLOCK)
    yield opened
    await opened.close()


async def test_existing_clinics_and_practitioners_get_defaults_and_the_schema_matches(
    runtime: Runtime, database_url: str
) -> None:
    await migrate(database_url, "0011", down=True)
    async with runtime.engine.connect() as connection:
        assert "staff_roles" not in await connection.run_sync(table_names)
        assert "booking_enabled" not in await connection.run_sync(table_columns, "clinics")
    await runtime.engine.dispose()
    await migrate(database_url, "head")

    clinic = (await create_clinic(runtime)).clinic
    practitioner = await create_practitioner(runtime, clinic)
    await runtime.engine.dispose()
    await migrate(database_url, "0011", down=True)
    await migrate(database_url, "head")
    async with runtime.engine.connect() as connection:
        assert await connection.run_sync(schema_differences) == []
        switches = (
            await connection.execute(
                text("SELECT forms_enabled, booking_enabled, deleted_at FROM clinics WHERE id = :id"),
                {"id": clinic.id.hex if database_url.startswith("sqlite") else clinic.id},
            )
        ).one()
        staff = (
            await connection.execute(
                text("SELECT role_name, is_main, external_id FROM practitioners WHERE id = :id"),
                {"id": practitioner.id.hex if database_url.startswith("sqlite") else practitioner.id},
            )
        ).one()
    assert (bool(switches[0]), bool(switches[1]), switches[2]) == (True, True, None)
    assert (staff[0], bool(staff[1]), staff[2]) == ("Administrator", False, None)
