"""Lead upsert in the core: a typed ``LeadInput`` whose fields are written only when given, identified by
``(external_source, external_id)``, with one lead however many identical requests race."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from clinicore.core.crm import service as crm_service
from clinicore.core.crm.schemas import LeadInput
from clinicore.core.models import AgentDirection, Clinic, Lead, LeadSource
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import InvalidInput
from clinicore.kit.inputs import NOT_GIVEN
from clinicore.runtime import Runtime
from tests.factories import create_agent, create_clinic

NOW = datetime(2031, 3, 3, 13, 0, tzinfo=UTC)
FROM_FACEBOOK = {"external_source": "make_facebook_lead_ads", "external_id": "fb_lead_987654321"}


async def upsert(
    runtime: Runtime, clinic: Clinic, data: LeadInput, clock: FrozenClock | None = None
) -> tuple[Lead, bool]:
    async with runtime.sessions() as session, session.begin():
        return await crm_service.upsert_lead(
            session, clinic_id=clinic.id, data=data, clock=clock or FrozenClock(NOW)
        )


async def a_clinic(runtime: Runtime) -> Clinic:
    return (await create_clinic(runtime)).clinic


class TestLeadInput:
    def test_fields_left_out_are_not_given_and_none_is_given(self) -> None:
        data = LeadInput(email="alex@example.com", city=None, **FROM_FACEBOOK)
        assert data.phone is NOT_GIVEN
        assert data.given() == {"email": "alex@example.com", "city": None}

    def test_the_identifying_pair_is_not_a_written_field(self) -> None:
        assert LeadInput(**FROM_FACEBOOK).given() == {}


class TestCreate:
    async def test_a_new_lead_has_the_given_fields_normalised_and_nothing_else(
        self, runtime: Runtime
    ) -> None:
        clinic = await a_clinic(runtime)
        lead, created = await upsert(
            runtime,
            clinic,
            LeadInput(
                full_name="  Alex Smith ",
                phone="(415) 555-1212",
                email="Alex@Example.COM",
                country="us",
                source=LeadSource.paid_ads,
            ),
        )
        assert created
        assert (lead.full_name, lead.phone, lead.email, lead.country, lead.source) == (
            "Alex Smith",
            "+14155551212",
            "alex@example.com",
            "US",
            "paid_ads",
        )
        assert (lead.city, lead.notes, lead.agent_id, lead.version) == (None, None, None, 1)

    async def test_a_new_lead_needs_a_phone_or_an_email(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        with pytest.raises(InvalidInput, match="phone or email: at least one is required"):
            await upsert(runtime, clinic, LeadInput(full_name="Nobody"))

    async def test_the_external_pair_comes_together(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        with pytest.raises(InvalidInput) as refused:
            await upsert(runtime, clinic, LeadInput(email="a@example.com", external_source="crm"))
        assert refused.value.field == "external_id"

    async def test_without_external_ids_every_call_creates(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        first, _ = await upsert(runtime, clinic, LeadInput(email="same@example.com"))
        second, created = await upsert(runtime, clinic, LeadInput(email="same@example.com"))
        assert created and first.id != second.id

    async def test_an_inbound_or_unknown_agent_is_refused(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        inbound = await create_agent(runtime, clinic, direction=AgentDirection.inbound)
        for agent_id in (inbound.id, uuid.uuid4()):
            with pytest.raises(InvalidInput) as refused:
                await upsert(runtime, clinic, LeadInput(email="a@example.com", agent_id=agent_id))
            assert refused.value.field == "agent_id"

    async def test_metadata_over_four_kilobytes_is_refused(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        with pytest.raises(InvalidInput, match="external_metadata: must be at most 4 KB"):
            await upsert(
                runtime, clinic, LeadInput(email="a@example.com", external_metadata={"blob": "x" * 5000})
            )


class TestUpdate:
    async def test_the_same_external_pair_updates_only_the_given_fields(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        created, _ = await upsert(
            runtime,
            clinic,
            LeadInput(email="alex@example.com", city="San Francisco", notes="new", **FROM_FACEBOOK),
        )
        later = FrozenClock(NOW + timedelta(minutes=5))
        updated, was_created = await upsert(
            runtime, clinic, LeadInput(city="Oakland", **FROM_FACEBOOK), later
        )
        assert not was_created and updated.id == created.id
        assert (updated.city, updated.email, updated.notes) == ("Oakland", "alex@example.com", "new")
        assert (updated.version, updated.updated_at) == (2, later.now())

    async def test_none_given_clears_a_field(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        await upsert(
            runtime, clinic, LeadInput(email="alex@example.com", notes="call after 5", **FROM_FACEBOOK)
        )
        updated, _ = await upsert(runtime, clinic, LeadInput(notes=None, **FROM_FACEBOOK))
        assert updated.notes is None

    async def test_an_update_that_changes_nothing_keeps_the_version(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        await upsert(runtime, clinic, LeadInput(email="alex@example.com", **FROM_FACEBOOK))
        same, _ = await upsert(runtime, clinic, LeadInput(email="alex@example.com", **FROM_FACEBOOK))
        assert same.version == 1

    async def test_an_update_may_not_leave_neither_phone_nor_email(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        await upsert(runtime, clinic, LeadInput(email="alex@example.com", **FROM_FACEBOOK))
        with pytest.raises(InvalidInput, match="phone or email"):
            await upsert(runtime, clinic, LeadInput(email=None, **FROM_FACEBOOK))

    async def test_another_clinics_pair_is_another_lead(self, runtime: Runtime) -> None:
        ours, theirs = await a_clinic(runtime), await a_clinic(runtime)
        mine, _ = await upsert(runtime, ours, LeadInput(email="a@example.com", **FROM_FACEBOOK))
        other, created = await upsert(runtime, theirs, LeadInput(email="b@example.com", **FROM_FACEBOOK))
        assert created and other.id != mine.id


class TestConcurrentUpserts:
    async def test_identical_upserts_racing_make_one_lead(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        data = LeadInput(email="race@example.com", external_source="crm", external_id="race-1")
        results = await asyncio.gather(*(upsert(runtime, clinic, data) for _ in range(8)))
        assert sorted(created for _, created in results) == [False] * 7 + [True]
        assert len({lead.id for lead, _ in results}) == 1
