"""Clients: normalised email and phone, matched by email within one clinic (never merged by a shared
phone), numbered per clinic with no number handed out twice, even to concurrent transactions."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from clinicore.core.models import Client
from clinicore.core.people import service as people_service
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import InvalidInput
from clinicore.runtime import Runtime
from tests.factories import create_catalog, create_clinic, create_meeting

NOW = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)


async def find_or_create(runtime: Runtime, clinic_id: uuid.UUID, **details: Any) -> Client:
    values: dict[str, Any] = {
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane@patients.example.com",
        "phone": "2125550100",
    }
    values.update(details)
    async with runtime.sessions() as session, session.begin():
        return await people_service.find_or_create_client(
            session,
            clinic_id=clinic_id,
            clock=runtime.clock,
            **values,
        )


class TestFindOrCreate:
    async def test_found_by_email_without_case_and_a_client_without_exams_takes_the_details(
        self, runtime: Runtime
    ) -> None:
        clocked = dataclasses.replace(runtime, clock=FrozenClock(NOW))
        clinic = (await create_clinic(clocked)).clinic
        created = await find_or_create(clocked, clinic.id, dob=date(1990, 6, 30), city="Albany")
        by_email = await find_or_create(
            clocked, clinic.id, email="JANE@patients.example.com", phone="2125550199", last_name="Roe"
        )
        assert by_email.id == created.id
        assert (by_email.phone, by_email.last_name) == ("+12125550199", "Roe")
        assert by_email.date_of_birth == date(1990, 6, 30) and by_email.city == "Albany"  # kept: not given
        assert by_email.number == 1 and by_email.created_at == NOW


class TestPatientsAreNeverMergedByPhone:
    """A patient is matched by email; a phone alone is no identity (families and integrations share
    phones), and the identity of a client who has exams is never rewritten."""

    async def test_a_phone_shared_with_another_email_is_another_patient(self, runtime: Runtime) -> None:
        clinic = (await create_clinic(runtime)).clinic
        jane = await find_or_create(runtime, clinic.id, phone="+15552223232")
        john = await find_or_create(
            runtime, clinic.id, first_name="John", email="john@patients.example.com", phone="5552223232"
        )
        assert john.id != jane.id and (jane.number, john.number) == (1, 2)
        assert (john.first_name, john.email) == ("John", "john@patients.example.com")
        async with runtime.sessions() as session:
            reread = await people_service.get_client(session, clinic_id=clinic.id, client_id=jane.id)
        assert reread is not None and (reread.first_name, reread.email) == (
            "Jane",
            "jane@patients.example.com",
        )

    async def test_a_phone_matches_a_client_who_has_no_email_and_gives_them_one(
        self, runtime: Runtime
    ) -> None:
        clinic = (await create_clinic(runtime)).clinic
        async with runtime.sessions() as session, session.begin():
            session.add(
                Client(
                    clinic_id=clinic.id,
                    number=1,
                    first_name="Jane",
                    last_name="Doe",
                    email=None,
                    phone="+12125550100",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        found = await find_or_create(runtime, clinic.id, phone="(212) 555-0100")
        assert found.number == 1 and found.email == "jane@patients.example.com"

    async def test_a_client_with_exams_keeps_their_identity_and_only_gains_blanks(
        self, runtime: Runtime
    ) -> None:
        clinic = (await create_clinic(runtime)).clinic
        catalog = await create_catalog(runtime, clinic)
        arranged = await create_meeting(
            runtime, clinic, [catalog.botox], first_name="Jane", email="jane@patients.example.com"
        )
        async with runtime.sessions() as session, session.begin():
            client = await session.get(Client, arranged.client.id)
            assert client is not None
            client.gender = None
        again = await find_or_create(
            runtime,
            clinic.id,
            first_name="Janet",
            last_name="Smith",
            email="Jane@Patients.Example.com",
            phone="2125550123",
            dob=date(1985, 1, 2),
            gender=2,
            city="Boston",
        )
        assert again.id == arranged.client.id
        assert (again.first_name, again.last_name, again.email, again.phone) == (
            arranged.client.first_name,
            arranged.client.last_name,
            arranged.client.email,
            arranged.client.phone,
        )
        assert again.date_of_birth == arranged.client.date_of_birth
        assert again.gender == 2  # a blank filled
        assert again.city == "Boston"  # an address is no identity: it follows the latest invite

    async def test_another_clinics_client_is_never_found(self, runtime: Runtime) -> None:
        first = (await create_clinic(runtime)).clinic
        second = (await create_clinic(runtime)).clinic
        mine = await find_or_create(runtime, first.id)
        theirs = await find_or_create(runtime, second.id)
        assert mine.id != theirs.id and (mine.number, theirs.number) == (1, 1)

    async def test_gender_must_be_1_2_or_3(self, runtime: Runtime) -> None:
        clinic = (await create_clinic(runtime)).clinic
        with pytest.raises(InvalidInput, match=r"^gender: "):
            await find_or_create(runtime, clinic.id, gender=5)

    async def test_concurrent_creations_get_distinct_numbers(self, runtime: Runtime) -> None:
        clinic = (await create_clinic(runtime)).clinic
        clients = await asyncio.gather(
            *(
                find_or_create(
                    runtime, clinic.id, email=f"p{index}@patients.example.com", phone=f"21255501{index:02d}"
                )
                for index in range(8)
            )
        )
        assert sorted(client.number for client in clients) == list(range(1, 9))
