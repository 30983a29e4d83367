"""Migration 0007 only adds tables and nullable columns: down to 0006 and up again keeps every appointment
and leaves exactly the schema the models describe, on SQLite (where batch mode rebuilds the tables) and on
PostgreSQL (where the overlap exclusion constraint must survive)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling import catalog
from clinicore.core.scheduling.schemas import BookingRequest, LocationInput, ServiceInput
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_lead, create_practitioner, set_booking_rules
from tests.migrations.conftest import (
    migrate,
    migrated_runtime,
    schema_differences,
    table_columns,
    table_names,
)

CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))
TUESDAY_10AM = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = await migrated_runtime(database_url, tmp_path, CLOCK)
    yield opened
    await opened.close()


async def test_down_to_0006_and_up_again_keeps_the_appointments_and_the_schema(
    runtime: Runtime, database_url: str
) -> None:
    clinic = (await create_clinic(runtime)).clinic
    await set_booking_rules(runtime, clinic)
    await create_practitioner(runtime, clinic)
    lead = await create_lead(runtime, clinic)
    async with runtime.sessions() as session, session.begin():
        service = await catalog.create_service(
            session, clinic_id=clinic.id, data=ServiceInput(name="Follow Up", duration_minutes=60)
        )
        location = await catalog.create_location(
            session, clinic_id=clinic.id, data=LocationInput(name="Main")
        )
        booked = await booking_service.book_appointment(
            session,
            clinic_id=clinic.id,
            request=BookingRequest(
                starts_at=TUESDAY_10AM, lead_id=lead.id, service_id=service.id, location_id=location.id
            ),
            source="test",
            clock=CLOCK,
        )
    await runtime.engine.dispose()

    await migrate(database_url, "0006", down=True)
    async with runtime.engine.connect() as connection:
        assert {"services", "locations"}.isdisjoint(await connection.run_sync(table_names))
        columns = await connection.run_sync(table_columns, "appointments")
        assert {"client_id", "service_id", "location_id", "price"}.isdisjoint(columns)
        assert "client_id" not in await connection.run_sync(table_columns, "leads")
        rows = (await connection.execute(text("SELECT title, ends_at FROM appointments"))).all()
    assert [row[0] for row in rows] == ["Follow Up"]
    await runtime.engine.dispose()

    await migrate(database_url, "head")
    async with runtime.engine.connect() as connection:
        assert await connection.run_sync(schema_differences) == []
        if connection.dialect.name == "postgresql":
            overlap = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_constraint"
                    " WHERE conname = 'ex_appointments_practitioner_overlap'"
                )
            )
            assert overlap == 1
    async with runtime.sessions() as session:
        again = await booking_service.get_appointment(session, clinic_id=clinic.id, appointment_id=booked.id)
    assert (again.title, again.ends_at - again.starts_at) == ("Follow Up", timedelta(minutes=60))
    assert (again.client_id, again.service_id, again.location_id) == (None, None, None)
