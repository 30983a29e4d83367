"""Migration 0019 adds who booked an appointment, its reminder channel, the clinic's reminder lead time,
the reminders table and email attachments; down to 0018 and up again keeps appointments and leaves what
it touches as the models describe it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from clinicore.core.models import Appointment, BookingSettings
from clinicore.core.scheduling import booking
from clinicore.core.scheduling.schemas import BookingRequest
from clinicore.core.scheduling.settings import get_booking_settings
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
MINE = {"appointment_reminders", "appointments", "booking_settings", "outbound_emails"}


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = await migrated_runtime(database_url, tmp_path, CLOCK)
    yield opened
    await opened.close()


def touches_mine(difference: Any) -> bool:
    """A difference about one of the tables this migration changes (other migrations may be in flight)."""
    text = repr(difference)
    return any(f"'{table}'" in text or f"table_name='{table}'" in text for table in MINE) or any(
        f"{table}." in text for table in MINE
    )


async def test_down_and_up_again_keeps_appointments_and_matches_the_models(
    runtime: Runtime, database_url: str
) -> None:
    made = await create_clinic(runtime)
    practitioner = await create_practitioner(runtime, made.clinic)
    async with runtime.sessions() as session, session.begin():
        await get_booking_settings(session, clinic_id=made.clinic.id, clock=CLOCK)
        appointment = await booking.book_appointment(
            session,
            clinic_id=made.clinic.id,
            request=BookingRequest(
                starts_at=CLOCK.now() + timedelta(days=1, hours=2),
                title="Visit",
                practitioner_id=practitioner.id,
            ),
            source="console",
            clock=CLOCK,
        )
    await runtime.engine.dispose()
    await migrate(database_url, "0018", down=True)
    async with runtime.engine.connect() as connection:
        assert "appointment_reminders" not in await connection.run_sync(table_names)
        assert "booked_by_client" not in await connection.run_sync(table_columns, "appointments")
    await runtime.engine.dispose()
    await migrate(database_url, "head")
    async with runtime.engine.connect() as connection:
        assert "appointment_reminders" in await connection.run_sync(table_names)
        assert [d for d in await connection.run_sync(schema_differences) if touches_mine(d)] == []

    async with runtime.sessions() as session:
        kept = await session.scalar(select(Appointment).where(Appointment.id == appointment.id))
        settings = await session.get(BookingSettings, made.clinic.id)
    assert kept is not None and kept.booked_by_client is False and kept.created_by is None
    assert settings is not None and settings.reminder_lead_minutes == 24 * 60
