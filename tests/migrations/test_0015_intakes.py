"""Migration 0015 adds the intake tables; down to 0014 and up again leaves exactly the schema the models
describe for them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.migrations.conftest import migrate, migrated_runtime, schema_differences, table_names

CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))
INTAKE_TABLES = {"intakes", "intake_files", "intake_tokens"}


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = await migrated_runtime(database_url, tmp_path, CLOCK)
    yield opened
    await opened.close()


def _names_a_table(difference: Any, tables: set[str]) -> bool:
    """Whether one of alembic's differences (a tuple, or a list of tuples for column changes) is about
    one of ``tables``."""
    text = repr(difference)
    return any(f"'{table}'" in text or f"table {table}" in text.lower() for table in tables)


async def test_down_and_up_again_matches_the_models(runtime: Runtime, database_url: str) -> None:
    await migrate(database_url, "0014", down=True)
    async with runtime.engine.connect() as connection:
        assert not INTAKE_TABLES & await connection.run_sync(table_names)
    await runtime.engine.dispose()
    await migrate(database_url, "head")
    async with runtime.engine.connect() as connection:
        assert await connection.run_sync(table_names) >= INTAKE_TABLES
        differences = await connection.run_sync(schema_differences)
    assert [d for d in differences if _names_a_table(d, INTAKE_TABLES)] == []
