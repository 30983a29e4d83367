"""Migration 0020 adds the clinics' booking widget settings; down to 0019 and up again leaves the table as
the model describes it, and the settings work on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from clinicore.core.scheduling import client_booking
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.factories import create_clinic
from tests.migrations.conftest import migrate, migrated_runtime, schema_differences, table_names

CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))
MINE = "booking_widget_settings"


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = await migrated_runtime(database_url, tmp_path, CLOCK)
    yield opened
    await opened.close()


def touches_mine(difference: Any) -> bool:
    """A difference about this migration's table (other migrations may be in flight)."""
    return MINE in repr(difference)


async def test_down_and_up_again_matches_the_model(runtime: Runtime, database_url: str) -> None:
    await migrate(database_url, "0019", down=True)
    async with runtime.engine.connect() as connection:
        assert MINE not in await connection.run_sync(table_names)
    await runtime.engine.dispose()
    await migrate(database_url, "head")
    async with runtime.engine.connect() as connection:
        assert MINE in await connection.run_sync(table_names)
        assert [d for d in await connection.run_sync(schema_differences) if touches_mine(d)] == []

    made = await create_clinic(runtime)
    async with runtime.sessions() as session, session.begin():
        await client_booking.update_widget_settings(
            session,
            clinic_id=made.clinic.id,
            requires_confirmation=True,
            client_change_notice_hours=48,
            clock=CLOCK,
        )
    async with runtime.sessions() as session:
        settings = await client_booking.get_widget_settings(session, clinic_id=made.clinic.id, clock=CLOCK)
    assert (settings.requires_confirmation, settings.client_change_notice_hours) == (True, 48)
