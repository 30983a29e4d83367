"""Clients: normalised email and phone, found by email then phone within one clinic, numbered per
clinic with no number handed out twice, even to concurrent transactions."""

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
from tests.factories import create_clinic

NOW = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)


class TestNormalise:
    @pytest.mark.parametrize(
        ("raw", "e164"),
        [
            ("+15552223232", "+15552223232"),
            ("1234567890", "+11234567890"),
            ("(212) 555-0100", "+12125550100"),
            ("1-212-555-0100", "+12125550100"),
        ],
    )
    def test_phones_become_e164(self, raw: str, e164: str) -> None:
        assert people_service.normalise_phone(raw) == e164

    @pytest.mark.parametrize("raw", ["12345", "phone", "", "+1 212"])
    def test_impossible_phones_are_refused_naming_the_field(self, raw: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            people_service.normalise_phone(raw, field="phone_number")
        assert caught.value.message.startswith("phone_number: ")

    def test_emails_keep_the_local_part_and_lower_case_the_domain(self) -> None:
        assert (
            people_service.normalise_email(" Jane.Doe@Patients.Example.COM ")
            == "Jane.Doe@patients.example.com"
        )

    @pytest.mark.parametrize("raw", ["jane", "jane@", "@example.com", "jane doe@example.com"])
    def test_invalid_emails_are_refused(self, raw: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            people_service.normalise_email(raw)
        assert caught.value.message.startswith("email: ")


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
    async def test_found_by_email_without_case_then_by_phone(self, runtime: Runtime) -> None:
        clocked = dataclasses.replace(runtime, clock=FrozenClock(NOW))
        clinic = (await create_clinic(clocked)).clinic
        created = await find_or_create(clocked, clinic.id, dob=date(1990, 6, 30), city="Albany")
        by_email = await find_or_create(
            clocked, clinic.id, email="JANE@patients.example.com", phone="2125550199"
        )
        assert by_email.id == created.id and by_email.phone == "+12125550199"
        by_phone = await find_or_create(
            clocked, clinic.id, email="new@patients.example.com", phone="+12125550199"
        )
        assert by_phone.id == created.id and by_phone.email == "new@patients.example.com"
        assert (
            by_phone.date_of_birth == date(1990, 6, 30) and by_phone.city == "Albany"
        )  # kept when not given
        assert by_phone.number == 1 and by_phone.created_at == NOW

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
