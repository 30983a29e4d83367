"""Migration 0024 indexes patient exams by client; down to 0022 and up again leaves the index as the models
describe it, and the question an invite of a known client asks (has it exams?) reads the index."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.migrations.conftest import migrate, migrated_runtime, schema_differences

CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))
INDEX = "ix_patient_exams_client_id"


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = await migrated_runtime(database_url, tmp_path, CLOCK)
    yield opened
    await opened.close()


def patient_exam_indexes(connection: Connection) -> dict[str, list[str | None]]:
    return {
        index["name"]: index["column_names"] for index in inspect(connection).get_indexes("patient_exams")
    }


def touches_mine(difference: Any) -> bool:
    return INDEX in repr(difference)


async def test_down_and_up_again_matches_the_models(runtime: Runtime, database_url: str) -> None:
    async with runtime.engine.connect() as connection:
        assert (await connection.run_sync(patient_exam_indexes))[INDEX] == ["client_id"]
    await runtime.engine.dispose()

    await migrate(database_url, "0022", down=True)
    async with runtime.engine.connect() as connection:
        assert INDEX not in await connection.run_sync(patient_exam_indexes)
    await runtime.engine.dispose()
    await migrate(database_url, "head")
    async with runtime.engine.connect() as connection:
        assert (await connection.run_sync(patient_exam_indexes))[INDEX] == ["client_id"]
        assert [d for d in await connection.run_sync(schema_differences) if touches_mine(d)] == []


async def test_whether_a_client_has_exams_reads_the_index(runtime: Runtime) -> None:
    query = (
        "SELECT EXISTS (SELECT * FROM patient_exams WHERE client_id = '00000000-0000-0000-0000-000000000001')"
    )
    async with runtime.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1]) for row in await connection.execute(text(f"EXPLAIN QUERY PLAN {query}"))
            )
            assert INDEX in plan, plan
        else:
            # The planner may prefer a scan of a tiny table; asked not to scan, it has the index to use.
            await connection.execute(text("SET enable_seqscan = off"))
            plan = " ".join(row[0] for row in await connection.execute(text(f"EXPLAIN {query}")))
            assert INDEX in plan, plan
