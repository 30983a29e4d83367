"""Routes that only read run in a reader's transaction (no write lock on SQLite, READ ONLY on PostgreSQL):
the key's last-used time is still written, by a writer of its own, at most once a minute; a revoked key is
refused on the very next request; a write inside a reader is refused on both databases."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from clinicore.app import create_app
from clinicore.core.models import ApiKey, ApiKeyKind, Partner
from clinicore.kit.clock import FrozenClock
from clinicore.kit.db import WriteInReadTransaction, transaction
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_key

NOON = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def stored_last_used(runtime: Runtime, prefix: str) -> datetime | None:
    async with transaction(runtime.sessions) as session:
        return await session.scalar(select(ApiKey.last_used_at).where(ApiKey.prefix == prefix))


async def test_a_read_route_records_the_key_use_at_most_once_a_minute(runtime: Runtime) -> None:
    clock = FrozenClock(NOON)
    frozen = dataclasses.replace(runtime, clock=clock)
    arranged = await create_clinic(runtime)
    secret = await create_key(runtime, arranged.clinic, ApiKeyKind.native)
    transport = httpx.ASGITransport(app=create_app(frozen))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        first = await client.get("/api/me", headers=bearer(secret))
        assert first.status_code == 200
        assert first.json()["key"]["last_used_at"] is not None
        assert await stored_last_used(runtime, secret[:11]) == NOON

        clock.advance(timedelta(seconds=30))
        assert (await client.get("/api/me", headers=bearer(secret))).status_code == 200
        assert await stored_last_used(runtime, secret[:11]) == NOON  # within the minute: not rewritten

        clock.advance(timedelta(seconds=31))
        again = await client.get("/api/me", headers=bearer(secret))
        assert again.status_code == 200
        assert await stored_last_used(runtime, secret[:11]) == NOON + timedelta(seconds=61)


async def test_a_revoked_key_is_refused_on_the_next_read(client: httpx.AsyncClient, runtime: Runtime) -> None:
    arranged = await create_clinic(runtime)
    secret = await create_key(runtime, arranged.clinic, ApiKeyKind.native)
    assert (await client.get("/api/me", headers=bearer(secret))).status_code == 200
    other = await create_key(runtime, arranged.clinic, ApiKeyKind.native)
    listed = await client.get("/api/keys", headers=bearer(other))
    key_id = next(key["id"] for key in listed.json() if key["prefix"] == secret[:11])
    assert (await client.delete(f"/api/keys/{key_id}", headers=bearer(other))).status_code == 200
    assert (await client.get("/api/me", headers=bearer(secret))).status_code == 401
    assert (await client.get("/api/keys", headers=bearer(secret))).status_code == 401


async def test_a_reader_refuses_to_write(runtime: Runtime) -> None:
    with pytest.raises(WriteInReadTransaction):
        async with transaction(runtime.read_sessions) as session:
            session.add(Partner(name=f"never {uuid.uuid4()}", created_at=NOON))
            await session.flush()
    with pytest.raises(WriteInReadTransaction):
        async with transaction(runtime.read_sessions) as session:
            await session.execute(ApiKey.__table__.update().values(name="never"))


async def test_a_read_does_not_wait_for_the_sqlite_write_lock(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    url = make_url(runtime.settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        pytest.skip("SQLite's single write lock")
    arranged = await create_clinic(runtime)
    secret = await create_key(runtime, arranged.clinic, ApiKeyKind.native)
    assert (await client.get("/api/me", headers=bearer(secret))).status_code == 200  # the key's touch is done
    writer = sqlite3.connect(url.database, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        # A writer's transaction would wait for the lock (busy timeout: 30 s); a reader's does not wait.
        # The bound only keeps a regression from hanging the suite.
        response = await asyncio.wait_for(client.get("/api/me", headers=bearer(secret)), timeout=20)
        assert response.status_code == 200
        listed = await asyncio.wait_for(client.get("/api/keys", headers=bearer(secret)), timeout=20)
        assert listed.status_code == 200
    finally:
        writer.rollback()
        writer.close()
