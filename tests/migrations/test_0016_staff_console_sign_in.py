"""Migration 0016 lets staff have console users without a password and adds the sign-on tokens; down to
0015 and up again leaves exactly the schema the models describe, keeps password users, and an email is
unique among the users who have a password only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clinicore.core.models import ClinicUser
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.factories import create_clinic
from tests.migrations.conftest import migrate, migrated_runtime, schema_differences, table_names

CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = await migrated_runtime(database_url, tmp_path, CLOCK)
    yield opened
    await opened.close()


def _user(clinic_id: uuid.UUID, email: str, password_hash: str | None) -> ClinicUser:
    return ClinicUser(
        clinic_id=clinic_id, email=email, name="Someone", password_hash=password_hash, created_at=CLOCK.now()
    )


async def test_down_and_up_again_matches_the_models_and_keeps_password_users(
    runtime: Runtime, database_url: str
) -> None:
    made = await create_clinic(runtime)
    await runtime.engine.dispose()
    await migrate(database_url, "0015", down=True)
    async with runtime.engine.connect() as connection:
        assert "console_sign_in_tokens" not in await connection.run_sync(table_names)
    await runtime.engine.dispose()
    await migrate(database_url, "head")
    async with runtime.engine.connect() as connection:
        assert "console_sign_in_tokens" in await connection.run_sync(table_names)
        assert await connection.run_sync(schema_differences) == []

    async with runtime.sessions() as session:
        kept = (await session.scalars(select(ClinicUser.email))).all()
    assert made.user.email in kept

    async with runtime.sessions() as session, session.begin():
        session.add(_user(made.clinic.id, made.user.email, None))
        session.add(_user(made.clinic.id, made.user.email, None))
    with pytest.raises(IntegrityError):
        async with runtime.sessions() as session, session.begin():
            session.add(_user(made.clinic.id, made.user.email, "another-hash"))
