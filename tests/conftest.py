"""Every test runs on the database the run was started for: SQLite (default) or PostgreSQL
(``CLINICORE_TEST_POSTGRES_URL``, a server URL; each xdist worker gets a fresh database).

Tests do not share state: each creates its own clinic, users and keys with the factories.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from clinicore.app import create_app
from clinicore.config import Settings, load_settings
from clinicore.kit.observability import configure_logging
from clinicore.migrations import upgrade_database
from clinicore.runtime import Runtime
from tests.support import ARTIFACTS, WORKER

POSTGRES_URL = os.environ.get("CLINICORE_TEST_POSTGRES_URL")
# Speed is measured in bench/, never asserted: a loaded CI machine must not fail a property on time.
hypothesis_settings.register_profile("clinicore", deadline=None)
hypothesis_settings.load_profile("clinicore")


def pytest_configure(config: pytest.Config) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_stream = (ARTIFACTS / f"app-{WORKER}-{os.getpid()}.log").open("a", buffering=1)
    configure_logging("INFO", stream=log_stream)


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not POSTGRES_URL:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'clinicore.db'}"
        upgrade_database(url)
        yield url
        return
    server = make_url(POSTGRES_URL.replace("postgresql://", "postgresql+asyncpg://", 1))
    name = f"clinicore_test_{secrets.token_hex(4)}_{WORKER}"
    asyncio.run(_admin(server.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade_database(url)
    yield url
    asyncio.run(
        _admin(server.render_as_string(hide_password=False), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    )


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def settings(database_url: str, data_dir: Path) -> Settings:
    return load_settings(
        env="development",
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secrets.token_urlsafe(40),
        base_url="http://testserver",
        redis_url=None,
    )


@pytest.fixture(scope="session")
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = Runtime.from_settings(settings)
    yield runtime
    await runtime.close()


@pytest.fixture(scope="session")
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # Each test's client has its own loopback address, so per-IP sign-in throttling stays per test.
    address = f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def subprocess_database_url(database_url: str) -> str | None:
    """The database URL a ``clinicore`` subprocess should use in a PostgreSQL run (None: its own SQLite)."""
    return database_url if POSTGRES_URL else None
