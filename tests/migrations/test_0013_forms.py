"""Migration 0013 adds the form tables; down to 0012 and up again leaves exactly the schema the models
describe, and the tables take a master form and its practice copy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinicore.cli.demo_forms import seed_demo_forms
from clinicore.core.forms import service as form_service
from clinicore.core.forms.schemas import FormOwner
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.factories import create_clinic
from tests.migrations.conftest import migrate, migrated_runtime, schema_differences, table_names

CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))
FORM_TABLES = {"form_templates", "form_sections", "form_questions", "form_consent_documents"}


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = await migrated_runtime(database_url, tmp_path, CLOCK)
    yield opened
    await opened.close()


async def test_down_and_up_again_matches_the_models_and_stores_forms(
    runtime: Runtime, database_url: str
) -> None:
    await migrate(database_url, "0012", down=True)
    async with runtime.engine.connect() as connection:
        assert not FORM_TABLES & await connection.run_sync(table_names)
    await runtime.engine.dispose()
    await migrate(database_url, "head")
    async with runtime.engine.connect() as connection:
        assert await connection.run_sync(table_names) >= FORM_TABLES
        assert await connection.run_sync(schema_differences) == []

    clinic = (await create_clinic(runtime)).clinic
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name="Forms partner")
        (await tenancy_service.get_clinic(session, clinic.id)).partner_id = partner.id
        await session.flush()
        seeded = await seed_demo_forms(session, partner.id, clinic.id, clock=CLOCK)
    async with runtime.sessions() as session:
        copy = await form_service.get_form(
            session, owner=FormOwner.clinic(clinic.id), form_id=seeded.clinic_questionnaire.id
        )
    assert len(copy.sections) == 3 and len(copy.consent_documents) == 1
