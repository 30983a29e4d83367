"""Each migration test gets a database of its own, made empty (a SQLite file, or a new PostgreSQL
database in a PostgreSQL run), so that it can move the schema up and down without touching the suite's."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from clinicore.config import load_settings
from clinicore.core.models import Base
from clinicore.kit.clock import Clock
from clinicore.migrations import alembic_config, upgrade_database
from clinicore.runtime import Runtime
from tests.conftest import POSTGRES_URL


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migration.db'}"
        return
    server = make_url(POSTGRES_URL.replace("postgresql://", "postgresql+asyncpg://", 1))
    admin_url = server.render_as_string(hide_password=False)
    name = f"clinicore_migration_{secrets.token_hex(4)}"
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


async def migrated_runtime(database_url: str, data_dir: Path, clock: Clock) -> Runtime:
    """A runtime on ``database_url`` brought to head."""
    await asyncio.to_thread(upgrade_database, database_url)
    settings = load_settings(
        env="development",
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secrets.token_urlsafe(40),
        base_url="http://testserver",
        redis_url=None,
    )
    return Runtime.from_settings(settings, clock=clock)


async def migrate(url: str, revision: str, *, down: bool = False) -> None:
    step = command.downgrade if down else command.upgrade
    await asyncio.to_thread(step, alembic_config(url), revision)


def schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def table_columns(connection: Connection, table: str) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns(table)}


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())
