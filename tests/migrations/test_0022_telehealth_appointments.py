"""Migration 0022 adds the services' telehealth flag and the appointments' video rooms: up from 0021,
down to 0021 and up again leave both as the models describe them (moving between 0021 and 0022 only, so
that later migrations in flight do not decide this test); a service that existed before is seen in
person; at head a telehealth booking gets its room."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from clinicore.core.models import Service
from clinicore.core.scheduling import booking, video_rooms
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.scheduling.schemas import BookingRequest
from clinicore.kit.clock import FrozenClock
from clinicore.kit.db import UTCDateTime
from tests.factories import create_clinic, create_practitioner, set_booking_rules
from tests.migrations.conftest import (
    migrate,
    migrated_runtime,
    schema_differences,
    table_columns,
    table_names,
)

CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))
# The services table as 0021 left it: no telehealth column (its server default fills it).
OLD_SERVICES = sa.table(
    "services",
    sa.column("id", sa.Uuid()),
    sa.column("clinic_id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("duration_minutes", sa.Integer()),
    sa.column("is_active", sa.Boolean()),
    sa.column("created_at", UTCDateTime(timezone=True)),
    sa.column("updated_at", UTCDateTime(timezone=True)),
)


def touches_mine(difference: Any) -> bool:
    text_of = repr(difference)
    return "appointment_rooms" in text_of or "'telehealth'" in text_of


async def test_up_down_and_up_again_match_the_models(database_url: str, tmp_path: Path) -> None:
    await migrate(database_url, "0021")
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert "appointment_rooms" not in await connection.run_sync(table_names)
        await migrate(database_url, "0022")
        async with engine.connect() as connection:
            assert "telehealth" in await connection.run_sync(table_columns, "services")
            assert [d for d in await connection.run_sync(schema_differences) if touches_mine(d)] == []
        await engine.dispose()
        await migrate(database_url, "0021", down=True)
        async with engine.connect() as connection:
            assert "appointment_rooms" not in await connection.run_sync(table_names)
            assert "telehealth" not in await connection.run_sync(table_columns, "services")
        await engine.dispose()
        await migrate(database_url, "0022")
        async with engine.connect() as connection:
            assert "appointment_rooms" in await connection.run_sync(table_names)
            assert [d for d in await connection.run_sync(schema_differences) if touches_mine(d)] == []
    finally:
        await engine.dispose()


async def test_an_existing_service_is_seen_in_person_and_a_video_booking_gets_a_room_at_head(
    database_url: str, tmp_path: Path
) -> None:
    await migrate(database_url, "0021")
    runtime = await migrated_runtime(database_url, tmp_path, CLOCK)  # 0021 -> head
    try:
        made = await create_clinic(runtime)
        await create_practitioner(
            runtime, made.clinic, weekly={day: [LocalRange(time(8), time(20))] for day in range(7)}
        )
        await set_booking_rules(runtime, made.clinic)
        service_id = uuid.uuid4()
        async with runtime.engine.begin() as connection:  # a row written as before the flag existed
            await connection.execute(
                OLD_SERVICES.insert().values(
                    id=service_id,
                    clinic_id=made.clinic.id,
                    name="Follow Up",
                    duration_minutes=30,
                    is_active=True,
                    created_at=CLOCK.now(),
                    updated_at=CLOCK.now(),
                )
            )
        async with runtime.sessions() as session, session.begin():
            found = await session.get(Service, service_id)
            assert found is not None and found.telehealth is False
            found.telehealth = True
            appointment = await booking.book_appointment(
                session,
                clinic_id=made.clinic.id,
                request=BookingRequest(
                    starts_at=datetime(2031, 3, 4, 15, 0, tzinfo=UTC), service_id=service_id
                ),
                source="console",
                clock=CLOCK,
            )
            assert await video_rooms.room_of(session, appointment_id=appointment.id) is not None
    finally:
        await runtime.close()
