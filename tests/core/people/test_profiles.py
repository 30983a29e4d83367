"""Client profiles: saving without a number finds the client as everywhere (external id, then email, a
phone only without email) and only completes its identity; saving with a number replaces what is given;
an email or external id another client holds is refused; the list's filters and bounds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest

from clinicore.core.audit.service import CLI
from clinicore.core.models import Clinic, Practitioner
from clinicore.core.people import profiles
from clinicore.core.people import service as people_service
from clinicore.core.people.profiles import ClientDetails, ClientProfile, ClientQuery
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_practitioner


async def save(runtime: Runtime, clinic: Clinic, number: int | None = None, **details: Any) -> ClientProfile:
    async with runtime.sessions() as session, session.begin():
        return await profiles.save_client(
            session,
            clinic_id=clinic.id,
            number=number,
            details=ClientDetails(**details),
            actor=CLI,
            clock=runtime.clock,
        )


async def listed(runtime: Runtime, clinic: Clinic, **query: Any) -> list[int]:
    async with runtime.sessions() as session:
        found = await profiles.list_clients(
            session, clinic=clinic, query=ClientQuery(**query), with_profiles=True
        )
    return [profile.client.number for profile in found]


class TestSaveWithoutNumber:
    async def test_a_new_client_needs_both_names_not_a_contact(self, runtime: Runtime) -> None:
        clinic = (await create_clinic(runtime)).clinic
        made = await save(runtime, clinic, full_name="Solo Person")
        assert (made.client.first_name, made.client.last_name, made.client.email) == ("Solo", "Person", None)
        for details in ({"full_name": "Solo"}, {"first_name": "A"}, {"email": "x@example.com"}):
            with pytest.raises(InvalidInput) as raised:
                await save(runtime, clinic, **details)
            assert raised.value.field in ("first_name", "last_name")

    async def test_a_known_email_completes_that_client_and_never_renames_it(self, runtime: Runtime) -> None:
        clinic = (await create_clinic(runtime)).clinic
        async with runtime.sessions() as session, session.begin():
            known = await people_service.client_for_contact(
                session, clinic_id=clinic.id, full_name="Rita Bennett", email="rita@example.com", phone=None
            )
        again = await save(
            runtime,
            clinic,
            first_name="Other",
            last_name="Name",
            email="RITA@example.com",
            phone="2125550100",
            date_of_birth=date(1980, 1, 2),
            city="Troy",
            external_client_id="crm-9",
            tags=["a"],
        )
        client = again.client
        assert client.number == known.number
        assert (client.first_name, client.last_name) == ("Rita", "Bennett")
        assert (client.phone, client.date_of_birth, client.city) == ("+12125550100", date(1980, 1, 2), "Troy")
        assert client.external_client_id == "crm-9" and again.tags == ["a"]

    async def test_the_external_id_is_tried_before_the_email(self, runtime: Runtime) -> None:
        clinic = (await create_clinic(runtime)).clinic
        first = await save(runtime, clinic, full_name="First One", external_client_id="e-1")
        await save(runtime, clinic, full_name="Second One", email="second@example.com")
        found = await save(runtime, clinic, full_name="Who Ever", external_client_id="e-1", tags=["t"])
        assert found.client.number == first.client.number and found.tags == ["t"]
        with pytest.raises(InvalidInput) as raised:  # e-1's client cannot take another client's email
            await save(
                runtime, clinic, full_name="Who Ever", external_client_id="e-1", email="second@example.com"
            )
        assert raised.value.field == "email"


class TestSaveWithNumber:
    async def test_given_details_replace_and_null_clears(self, runtime: Runtime) -> None:
        clinic = (await create_clinic(runtime)).clinic
        made = await save(
            runtime, clinic, full_name="Tom Hanks", email="tom@example.com", city="Boston", gender=1
        )
        updated = await save(
            runtime, clinic, made.client.number, last_name="Holland", city=None, gender=None, tags=["x"]
        )
        assert (updated.client.first_name, updated.client.last_name) == ("Tom", "Holland")
        assert updated.client.city is None and updated.client.gender is None
        assert updated.client.email == "tom@example.com" and updated.tags == ["x"]

    async def test_refusals(self, runtime: Runtime) -> None:
        clinic = (await create_clinic(runtime)).clinic
        other = (await create_clinic(runtime)).clinic
        one = await save(
            runtime, clinic, full_name="One Client", email="one@example.com", external_client_id="e1"
        )
        two = await save(runtime, clinic, full_name="Two Client")
        number = two.client.number
        cases: list[tuple[dict[str, Any], str]] = [
            ({"email": "ONE@example.com"}, "email"),
            ({"external_client_id": "e1"}, "external_client_id"),
            ({"first_name": " "}, "first_name"),
            ({"date_of_birth": date(2999, 1, 1)}, "date_of_birth"),
            ({"date_of_birth": date(1800, 1, 1)}, "date_of_birth"),
            ({"gender": 0}, "gender"),
            ({"state": "N1"}, "state"),
            ({"city": "x" * 101}, "city"),
            ({"external_client_id": "x" * 201}, "external_client_id"),
            ({"practitioner": "nobody"}, "practitioner_id"),
            ({"phone": "12"}, "phone"),
        ]
        for details, field in cases:
            with pytest.raises(InvalidInput) as raised:
                await save(runtime, clinic, number, **details)
            assert (raised.value.field, raised.value.subject) == (field, "client"), details
        with pytest.raises(NotFound):
            await save(runtime, other, one.client.number, city="X")

    async def test_the_practitioner_by_id_or_external_id_and_never_a_disabled_one(
        self, runtime: Runtime
    ) -> None:
        clinic = (await create_clinic(runtime)).clinic
        practitioner: Practitioner = await create_practitioner(runtime, clinic)
        made = await save(runtime, clinic, full_name="Owned Client", practitioner=practitioner.id.hex)
        assert made.client.practitioner_id == practitioner.id
        cleared = await save(runtime, clinic, made.client.number, practitioner=None)
        assert cleared.client.practitioner_id is None
        async with runtime.sessions() as session, session.begin():
            (await session.get(Practitioner, practitioner.id)).is_active = False  # type: ignore[union-attr]
        with pytest.raises(InvalidInput, match="disabled"):
            await save(runtime, clinic, made.client.number, practitioner=str(practitioner.id))


class TestList:
    async def test_created_days_are_the_clinics_local_days(self, runtime: Runtime) -> None:
        clinic = (await create_clinic(runtime, time_zone="America/New_York")).clinic
        late = dataclasses.replace(runtime, clock=FrozenClock(datetime(2031, 3, 4, 3, 0, tzinfo=UTC)))
        number = (await save(late, clinic, full_name="Late Night")).client.number
        assert await listed(
            runtime, clinic, created_start=date(2031, 3, 3), created_end=date(2031, 3, 3)
        ) == [number]
        assert (
            await listed(runtime, clinic, created_start=date(2031, 3, 4), created_end=date(2031, 3, 4)) == []
        )

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"page": 0}, "page"),
            ({"page": profiles.MAX_PAGE + 1}, "page"),
            ({"text": "x" * 201}, "search"),
            ({"text": " ".join("w" * 11)}, "search"),
            ({"created_start": date(2031, 3, 4), "created_end": date(2031, 3, 3)}, "created_end"),
            ({"field_values": {f"k{n}": "v" for n in range(11)}}, "custom"),
            ({"field_values": {"unknown": "v"}}, "custom"),
            ({"external_client_id": "x" * 201}, "external_client_id"),
        ],
    )
    async def test_bounds(self, runtime: Runtime, query: dict[str, Any], field: str) -> None:
        clinic = (await create_clinic(runtime)).clinic
        with pytest.raises(InvalidInput) as raised:
            await listed(runtime, clinic, **query)
        assert raised.value.field == field

    async def test_without_profiles_no_tags_are_read(self, runtime: Runtime) -> None:
        clinic = (await create_clinic(runtime)).clinic
        await save(runtime, clinic, full_name="Tagged One", tags=["t"])
        async with runtime.sessions() as session:
            bare = await profiles.list_clients(
                session, clinic=clinic, query=ClientQuery(), with_profiles=False
            )
        assert [profile.tags for profile in bare] == [[]]
