"""Migration 0009 adds the exams' timeline. Exams that existed before it get the lines that can be known
(created; moved on to the present status), said to be the system's; down and up again leaves exactly the
schema the models describe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from clinicore.core.audit.service import SYSTEM
from clinicore.core.models import PatientExamStatus
from clinicore.core.telehealth import lifecycle
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.factories import create_catalog, create_clinic, create_meeting
from tests.migrations.conftest import migrate, migrated_runtime, schema_differences, table_names

CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = await migrated_runtime(database_url, tmp_path, CLOCK)
    yield opened
    await opened.close()


async def test_existing_exams_get_their_known_lines_and_the_schema_matches(
    runtime: Runtime, database_url: str
) -> None:
    clinic = (await create_clinic(runtime)).clinic
    catalog = await create_catalog(runtime, clinic)
    pending = await create_meeting(runtime, clinic, [catalog.botox])
    cancelled = await create_meeting(runtime, clinic, [catalog.botox])
    async with runtime.sessions() as session, session.begin():
        record = await lifecycle.load(session, patient_exam_id=cancelled.patient_exam.id)
        lifecycle.move(session, record.patient_exam, PatientExamStatus.cancelled, at=CLOCK.now(), by=SYSTEM)
    await runtime.engine.dispose()

    await migrate(database_url, "0008", down=True)
    async with runtime.engine.connect() as connection:
        assert "exam_status_changes" not in await connection.run_sync(table_names)
    await runtime.engine.dispose()

    await migrate(database_url, "head")
    async with runtime.engine.connect() as connection:
        assert await connection.run_sync(schema_differences) == []
        rows = (
            await connection.execute(
                text(
                    "SELECT patient_exam_id, from_status, to_status, actor_type FROM exam_status_changes"
                    " ORDER BY id"
                )
            )
        ).all()
    assert {tuple(row) for row in rows} == {
        (pending.patient_exam.id, None, "pending", "system"),
        (cancelled.patient_exam.id, None, "pending", "system"),
        (cancelled.patient_exam.id, "pending", "cancelled", "system"),
    }
