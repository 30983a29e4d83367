"""The clinic's service catalog and locations: what a service needs (a name, a length of 5 minutes to a
day, a price that is never negative), names unique per clinic, locations numbered per clinic, and another
clinic's service or location answering exactly like a missing one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from clinicore.core.models import Clinic, Location, Service
from clinicore.core.scheduling import catalog
from clinicore.core.scheduling.schemas import LocationInput, ServiceInput
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import create_clinic

CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))


async def a_clinic(runtime: Runtime) -> Clinic:
    return (await create_clinic(runtime)).clinic


async def create_service(runtime: Runtime, clinic: Clinic, **fields: object) -> Service:
    values: dict[str, object] = {"name": "Initial Consultation", "duration_minutes": 90} | fields
    async with runtime.sessions() as session, session.begin():
        return await catalog.create_service(
            session,
            clinic_id=clinic.id,
            data=ServiceInput(**values),  # type: ignore[arg-type]
            clock=CLOCK,
        )


async def update_service(runtime: Runtime, clinic: Clinic, service: Service, **fields: object) -> Service:
    async with runtime.sessions() as session, session.begin():
        return await catalog.update_service(
            session,
            clinic_id=clinic.id,
            service_id=service.id,
            data=ServiceInput(**fields),  # type: ignore[arg-type]
            clock=CLOCK,
        )


async def services_of(runtime: Runtime, clinic: Clinic, *, include_inactive: bool = False) -> list[str]:
    async with runtime.sessions() as session:
        services = await catalog.list_services(
            session, clinic_id=clinic.id, include_inactive=include_inactive
        )
    return [service.name for service in services]


async def create_location(runtime: Runtime, clinic: Clinic, **fields: object) -> Location:
    values: dict[str, object] = {"name": "Manhattan Office"} | fields
    async with runtime.sessions() as session, session.begin():
        return await catalog.create_location(
            session,
            clinic_id=clinic.id,
            data=LocationInput(**values),  # type: ignore[arg-type]
            clock=CLOCK,
        )


async def update_location(runtime: Runtime, clinic: Clinic, location: Location, **fields: object) -> Location:
    async with runtime.sessions() as session, session.begin():
        return await catalog.update_location(
            session,
            clinic_id=clinic.id,
            location_id=location.id,
            data=LocationInput(**fields),  # type: ignore[arg-type]
            clock=CLOCK,
        )


class TestServices:
    async def test_a_service_has_a_name_a_length_and_a_price(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        created = await create_service(
            runtime, clinic, name="  Follow Up ", duration_minutes=60, price=Decimal("100"), description=" "
        )
        async with runtime.sessions() as session:
            stored = await catalog.get_service(session, clinic_id=clinic.id, service_id=created.id)
        assert (stored.name, stored.duration_minutes, stored.price) == ("Follow Up", 60, Decimal("100.00"))
        assert stored.description is None and stored.is_active
        assert stored.created_at == stored.updated_at == CLOCK.now()

    async def test_a_price_is_optional(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        created = await create_service(runtime, clinic)
        assert created.price is None

    @pytest.mark.parametrize("name", ["", "   "])
    async def test_a_service_needs_a_name(self, runtime: Runtime, name: str) -> None:
        clinic = await a_clinic(runtime)
        with pytest.raises(InvalidInput) as refused:
            await create_service(runtime, clinic, name=name)
        assert (refused.value.field, refused.value.message) == ("name", "name: must not be empty")

    async def test_a_name_is_at_most_200_characters(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        assert len((await create_service(runtime, clinic, name="x" * 200)).name) == 200
        with pytest.raises(InvalidInput, match="name: at most 200 characters"):
            await create_service(runtime, clinic, name="y" * 201)

    async def test_a_service_needs_a_length(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput) as refused:
                await catalog.create_service(session, clinic_id=clinic.id, data=ServiceInput(name="Botox"))
        assert refused.value.field == "duration_minutes"

    @pytest.mark.parametrize("minutes", [5, 1440])
    async def test_a_length_of_5_minutes_to_a_day_is_accepted(self, runtime: Runtime, minutes: int) -> None:
        clinic = await a_clinic(runtime)
        assert (await create_service(runtime, clinic, duration_minutes=minutes)).duration_minutes == minutes

    @pytest.mark.parametrize("minutes", [0, 4, 1441])
    async def test_a_length_outside_5_minutes_to_a_day_is_refused(
        self, runtime: Runtime, minutes: int
    ) -> None:
        clinic = await a_clinic(runtime)
        with pytest.raises(InvalidInput) as refused:
            await create_service(runtime, clinic, duration_minutes=minutes)
        assert refused.value.message == "duration_minutes: must be between 5 and 1440"
        assert (refused.value.field, refused.value.subject) == ("duration_minutes", "service")

    async def test_a_free_service_costs_zero(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        assert (await create_service(runtime, clinic, price=Decimal("0"))).price == Decimal("0.00")

    @pytest.mark.parametrize(
        ("price", "message"),
        [
            (Decimal("-0.01"), "price: must not be negative"),
            (Decimal("12.345"), "price: at most two decimals"),
            (Decimal("NaN"), "price: must be an amount"),
            (Decimal("100000000"), "price: at most 99999999.99"),
        ],
    )
    async def test_a_price_is_an_amount_of_money_never_negative(
        self, runtime: Runtime, price: Decimal, message: str
    ) -> None:
        clinic = await a_clinic(runtime)
        with pytest.raises(InvalidInput) as refused:
            await create_service(runtime, clinic, price=price)
        assert (refused.value.field, refused.value.message) == ("price", message)

    async def test_two_services_of_a_clinic_cannot_share_a_name_whatever_its_case(
        self, runtime: Runtime
    ) -> None:
        clinic = await a_clinic(runtime)
        await create_service(runtime, clinic, name="Follow Up")
        with pytest.raises(Conflict) as refused:
            await create_service(runtime, clinic, name="follow up")
        assert refused.value.field == "name"
        assert await services_of(runtime, clinic) == ["Follow Up"]

    async def test_another_clinic_may_use_the_same_name(self, runtime: Runtime) -> None:
        ours, theirs = await a_clinic(runtime), await a_clinic(runtime)
        await create_service(runtime, ours, name="Follow Up")
        await create_service(runtime, theirs, name="Follow Up")
        assert await services_of(runtime, theirs) == ["Follow Up"]

    async def test_an_update_writes_only_the_fields_given(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        created = await create_service(runtime, clinic, price=Decimal("200"), description="First visit")
        updated = await update_service(runtime, clinic, created, duration_minutes=60, price=None)
        assert (updated.name, updated.duration_minutes, updated.price) == ("Initial Consultation", 60, None)
        assert updated.description == "First visit"

    async def test_renaming_onto_another_services_name_is_a_conflict(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        await create_service(runtime, clinic, name="Follow Up")
        other = await create_service(runtime, clinic, name="Botox")
        with pytest.raises(Conflict):
            await update_service(runtime, clinic, other, name="FOLLOW UP")
        assert (await update_service(runtime, clinic, other, name="botox")).name == "botox"

    async def test_an_update_is_checked_like_a_create(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        created = await create_service(runtime, clinic)
        with pytest.raises(InvalidInput, match="duration_minutes"):
            await update_service(runtime, clinic, created, duration_minutes=2)
        with pytest.raises(InvalidInput, match="name: must not be empty"):
            await update_service(runtime, clinic, created, name=" ")

    async def test_an_inactive_service_is_listed_only_when_asked_for(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        await create_service(runtime, clinic, name="Follow Up")
        retired = await create_service(runtime, clinic, name="Botox")
        await update_service(runtime, clinic, retired, is_active=False)
        assert await services_of(runtime, clinic) == ["Follow Up"]
        assert await services_of(runtime, clinic, include_inactive=True) == ["Botox", "Follow Up"]

    async def test_another_clinics_service_reads_as_missing(self, runtime: Runtime) -> None:
        ours, theirs = await a_clinic(runtime), await a_clinic(runtime)
        their_service = await create_service(runtime, theirs)
        async with runtime.sessions() as session:
            with pytest.raises(NotFound) as missing:
                await catalog.get_service(session, clinic_id=ours.id, service_id=their_service.id)
            with pytest.raises(NotFound) as unknown:
                await catalog.get_service(session, clinic_id=ours.id, service_id=uuid.uuid4())
        assert missing.value.message == unknown.value.message == "service not found"
        with pytest.raises(NotFound):
            await update_service(runtime, ours, their_service, name="Ours now")
        assert await services_of(runtime, ours) == []


class TestLocations:
    async def test_locations_are_numbered_per_clinic_from_one(self, runtime: Runtime) -> None:
        ours, theirs = await a_clinic(runtime), await a_clinic(runtime)
        first = await create_location(runtime, ours, name="Main Office")
        second = await create_location(runtime, ours, name="Brooklyn")
        elsewhere = await create_location(runtime, theirs, name="Main Office")
        assert (first.number, second.number, elsewhere.number) == (1, 2, 1)

    async def test_a_location_has_an_address_read_on_one_line(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        created = await create_location(
            runtime,
            clinic,
            address_line_1=" 123 Main Street ",
            address_line_2="",
            city="Springfield",
            state="IL",
            zip_code="62701",
        )
        assert (created.address_line_1, created.address_line_2) == ("123 Main Street", None)
        assert catalog.location_address(created) == "123 Main Street, Springfield, IL 62701"
        assert catalog.location_address(await create_location(runtime, clinic, name="Online")) == ""

    async def test_a_location_may_have_its_own_time_zone(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        created = await create_location(runtime, clinic, time_zone="America/Chicago")
        assert created.time_zone == "America/Chicago"
        assert (await create_location(runtime, clinic, name="Home")).time_zone is None  # the clinic's
        with pytest.raises(InvalidInput) as refused:
            await create_location(runtime, clinic, name="Mars", time_zone="Mars/Olympus")
        assert refused.value.field == "time_zone"

    async def test_a_location_needs_a_name_unique_in_the_clinic(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        with pytest.raises(InvalidInput, match="name: must not be empty"):
            await create_location(runtime, clinic, name=" ")
        await create_location(runtime, clinic, name="Main Office")
        with pytest.raises(Conflict):
            await create_location(runtime, clinic, name="MAIN OFFICE")

    async def test_an_address_field_is_bounded(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        with pytest.raises(InvalidInput) as refused:
            await create_location(runtime, clinic, zip_code="1" * 21)
        assert (refused.value.field, refused.value.message) == ("zip_code", "zip_code: at most 20 characters")

    async def test_an_update_keeps_the_number_and_clears_what_is_given_as_none(
        self, runtime: Runtime
    ) -> None:
        clinic = await a_clinic(runtime)
        created = await create_location(runtime, clinic, city="Albany", time_zone="America/Chicago")
        updated = await update_location(runtime, clinic, created, name="Albany Office", time_zone=None)
        assert (updated.number, updated.name, updated.city, updated.time_zone) == (
            1,
            "Albany Office",
            "Albany",
            None,
        )

    async def test_an_inactive_location_is_listed_only_when_asked_for(self, runtime: Runtime) -> None:
        clinic = await a_clinic(runtime)
        closed = await create_location(runtime, clinic, name="Old Office")
        await create_location(runtime, clinic, name="New Office")
        await update_location(runtime, clinic, closed, is_active=False)
        async with runtime.sessions() as session:
            active = await catalog.list_locations(session, clinic_id=clinic.id)
            every = await catalog.list_locations(session, clinic_id=clinic.id, include_inactive=True)
        assert [location.name for location in active] == ["New Office"]
        assert [location.number for location in every] == [1, 2]

    async def test_another_clinics_location_reads_as_missing(self, runtime: Runtime) -> None:
        ours, theirs = await a_clinic(runtime), await a_clinic(runtime)
        their_location = await create_location(runtime, theirs)
        async with runtime.sessions() as session:
            with pytest.raises(NotFound, match="location not found"):
                await catalog.get_location(session, clinic_id=ours.id, location_id=their_location.id)
            with pytest.raises(NotFound, match="location not found"):
                await catalog.get_location_by_number(session, clinic_id=ours.id, number=their_location.number)
            found = await catalog.get_location_by_number(session, clinic_id=theirs.id, number=1)
        assert found.id == their_location.id
        with pytest.raises(NotFound):
            await update_location(runtime, ours, their_location, name="Ours now")
