"""An appointment is for a client. A lead that books becomes (or links to) a client of its clinic, found by
the one email and phone rule (email first; a phone alone only for a client without email), and keeps it;
a booking may name the clinic's client itself (IntakeQ books clients). A service gives the appointment its
length and price, a location is stored with it, and neither may be another clinic's."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from clinicore.core.models import Appointment, Client, Clinic, Event, Lead, Location, Service
from clinicore.core.people import service as people_service
from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling import catalog
from clinicore.core.scheduling.schemas import BookingRequest, LocationInput, ServiceInput
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_lead, create_practitioner, set_booking_rules

# Monday 2031-03-03, 08:00 in New York; practitioners work 09:00-17:00 on weekdays.
CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))
TUESDAY_10AM = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)
SHARED_PHONE = "+12125550100"


async def bookable_clinic(runtime: Runtime) -> Clinic:
    clinic = (await create_clinic(runtime, time_zone="America/New_York")).clinic
    await set_booking_rules(runtime, clinic)
    await create_practitioner(runtime, clinic, name="Dr. Rivera")
    await create_practitioner(runtime, clinic, name="Dr. Chen")
    return clinic


async def book(
    runtime: Runtime, clinic: Clinic, *, starts_at: datetime = TUESDAY_10AM, **fields: object
) -> Appointment:
    values: dict[str, object] = {"ends_at": starts_at + timedelta(minutes=30), "title": "Consultation"}
    request = BookingRequest(starts_at=starts_at, **(values | fields))  # type: ignore[arg-type]
    async with runtime.sessions() as session, session.begin():
        return await booking_service.book_appointment(
            session, clinic_id=clinic.id, request=request, source="test", clock=CLOCK
        )


async def client_of(runtime: Runtime, appointment: Appointment) -> Client:
    assert appointment.client_id is not None
    async with runtime.sessions() as session:
        client = await session.get(Client, appointment.client_id)
    assert client is not None
    return client


async def clients_of(runtime: Runtime, clinic: Clinic) -> list[Client]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(Client).where(Client.clinic_id == clinic.id)))


async def reload_lead(runtime: Runtime, lead: Lead) -> Lead:
    async with runtime.sessions() as session:
        stored = await session.get(Lead, lead.id)
    assert stored is not None
    return stored


async def create_client(runtime: Runtime, clinic: Clinic, *, email: str, phone: str) -> Client:
    async with runtime.sessions() as session, session.begin():
        return await people_service.find_or_create_client(
            session, clinic_id=clinic.id, first_name="Jane", last_name="Doe", email=email, phone=phone
        )


async def create_service(runtime: Runtime, clinic: Clinic, **fields: object) -> Service:
    values: dict[str, object] = {"name": "Initial Consultation", "duration_minutes": 90} | fields
    async with runtime.sessions() as session, session.begin():
        return await catalog.create_service(
            session,
            clinic_id=clinic.id,
            data=ServiceInput(**values),  # type: ignore[arg-type]
        )


async def create_location(runtime: Runtime, clinic: Clinic, name: str = "Manhattan Office") -> Location:
    async with runtime.sessions() as session, session.begin():
        return await catalog.create_location(session, clinic_id=clinic.id, data=LocationInput(name=name))


class TestALeadThatBooksBecomesAClient:
    async def test_the_lead_becomes_the_clinics_next_client(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        lead = await create_lead(
            runtime, clinic, full_name="Ana María Cruz", email="Ana@Example.com", phone="(212) 555-0100"
        )
        booked = await book(runtime, clinic, lead_id=lead.id)
        client = await client_of(runtime, booked)
        assert (client.clinic_id, client.number) == (clinic.id, 1)
        assert (client.first_name, client.last_name) == ("Ana", "María Cruz")
        assert (client.email, client.phone) == ("ana@example.com", SHARED_PHONE)
        assert (await reload_lead(runtime, lead)).client_id == client.id

    async def test_a_second_booking_by_the_same_lead_names_the_same_client(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        lead = await create_lead(runtime, clinic)
        first = await book(runtime, clinic, lead_id=lead.id)
        second = await book(runtime, clinic, lead_id=lead.id, starts_at=TUESDAY_10AM + timedelta(hours=2))
        assert first.client_id is not None and second.client_id == first.client_id
        assert len(await clients_of(runtime, clinic)) == 1

    async def test_concurrent_bookings_of_one_new_lead_make_one_client(self, runtime: Runtime) -> None:
        # The lead is not linked yet: each booking locks it to link it, so they all name one client.
        clinic = await bookable_clinic(runtime)
        lead = await create_lead(runtime, clinic)
        starts = [TUESDAY_10AM + timedelta(hours=hour) for hour in range(4)]
        booked = await asyncio.gather(
            *(book(runtime, clinic, lead_id=lead.id, starts_at=at) for at in starts)
        )
        assert len({appointment.client_id for appointment in booked}) == 1
        [client] = await clients_of(runtime, clinic)
        assert booked[0].client_id == client.id == (await reload_lead(runtime, lead)).client_id

    async def test_bookings_of_a_linked_lead_name_its_client_without_relinking(
        self, runtime: Runtime
    ) -> None:
        clinic = await bookable_clinic(runtime)
        lead = await create_lead(runtime, clinic)
        first = await book(runtime, clinic, lead_id=lead.id)
        later = [TUESDAY_10AM + timedelta(hours=hour) for hour in range(1, 4)]
        booked = await asyncio.gather(*(book(runtime, clinic, lead_id=lead.id, starts_at=at) for at in later))
        assert {appointment.client_id for appointment in booked} == {first.client_id}
        stored = await reload_lead(runtime, lead)
        assert (stored.client_id, stored.version, stored.updated_at) == (
            first.client_id,
            lead.version,
            lead.updated_at,
        )

    async def test_two_leads_sharing_a_phone_with_different_emails_are_two_clients(
        self, runtime: Runtime
    ) -> None:
        clinic = await bookable_clinic(runtime)
        mother = await create_lead(runtime, clinic, email="mother@family.example", phone=SHARED_PHONE)
        son = await create_lead(runtime, clinic, email="son@family.example", phone=SHARED_PHONE)
        first = await client_of(runtime, await book(runtime, clinic, lead_id=mother.id))
        second = await client_of(
            runtime, await book(runtime, clinic, lead_id=son.id, starts_at=TUESDAY_10AM + timedelta(hours=1))
        )
        assert first.id != second.id
        assert [(first.number, first.email), (second.number, second.email)] == [
            (1, "mother@family.example"),
            (2, "son@family.example"),
        ]

    async def test_a_lead_with_a_known_clients_email_links_to_that_client_and_fills_only_its_blanks(
        self, runtime: Runtime
    ) -> None:
        clinic = await bookable_clinic(runtime)
        known = await create_client(runtime, clinic, email="jane@patients.example.com", phone=SHARED_PHONE)
        lead = await create_lead(
            runtime, clinic, full_name="Janet Roe", email="JANE@patients.example.com", phone="2125550199"
        )
        client = await client_of(runtime, await book(runtime, clinic, lead_id=lead.id))
        assert client.id == known.id
        assert (client.first_name, client.last_name, client.phone) == ("Jane", "Doe", SHARED_PHONE)

    async def test_a_lead_with_only_a_phone_links_to_a_client_without_email_and_gives_it_none_else(
        self, runtime: Runtime
    ) -> None:
        clinic = await bookable_clinic(runtime)
        with_email = await create_client(
            runtime, clinic, email="jane@patients.example.com", phone=SHARED_PHONE
        )
        lead = await create_lead(runtime, clinic, full_name="Sam", email=None, phone=SHARED_PHONE)
        client = await client_of(runtime, await book(runtime, clinic, lead_id=lead.id))
        assert client.id != with_email.id  # a phone alone is no identity when the client has an email
        assert (client.number, client.first_name, client.last_name, client.email) == (2, "Sam", "", None)

    async def test_linking_the_lead_leaves_its_version_and_update_time_alone(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        lead = await create_lead(runtime, clinic)
        await book(runtime, clinic, lead_id=lead.id)
        stored = await reload_lead(runtime, lead)
        assert (stored.version, stored.updated_at) == (lead.version, lead.updated_at)

    async def test_a_booking_without_lead_or_client_is_for_nobody(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        assert (await book(runtime, clinic)).client_id is None
        assert await clients_of(runtime, clinic) == []


class TestABookingNamesItsClient:
    async def test_a_booking_for_a_client_stores_that_client(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        client = await create_client(runtime, clinic, email="jane@patients.example.com", phone=SHARED_PHONE)
        booked = await book(runtime, clinic, client_id=client.id)
        assert booked.client_id == client.id and booked.lead_id is None

    async def test_another_clinics_client_reads_as_unknown(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        other = await bookable_clinic(runtime)
        theirs = await create_client(runtime, other, email="jane@patients.example.com", phone=SHARED_PHONE)
        for client_id in (theirs.id, uuid.uuid4()):
            with pytest.raises(NotFound) as refused:
                await book(runtime, clinic, client_id=client_id)
            assert (refused.value.field, refused.value.message) == (
                "client_id",
                "client_id: no such client in this clinic",
            )

    async def test_a_lead_booked_for_a_client_is_linked_to_it(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        client = await create_client(runtime, clinic, email="jane@patients.example.com", phone=SHARED_PHONE)
        lead = await create_lead(runtime, clinic)
        booked = await book(runtime, clinic, lead_id=lead.id, client_id=client.id)
        assert booked.client_id == client.id
        assert (await reload_lead(runtime, lead)).client_id == client.id
        assert len(await clients_of(runtime, clinic)) == 1

    async def test_a_lead_cannot_be_booked_for_another_client_than_its_own(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        lead = await create_lead(runtime, clinic)
        await book(runtime, clinic, lead_id=lead.id)
        stranger = await create_client(runtime, clinic, email="jane@patients.example.com", phone=SHARED_PHONE)
        with pytest.raises(InvalidInput) as refused:
            await book(
                runtime,
                clinic,
                lead_id=lead.id,
                client_id=stranger.id,
                starts_at=TUESDAY_10AM + timedelta(hours=1),
            )
        assert refused.value.field == "client_id"


class TestService:
    async def test_the_services_duration_gives_the_length_when_no_end_is_given(
        self, runtime: Runtime
    ) -> None:
        clinic = await bookable_clinic(runtime)
        service = await create_service(runtime, clinic, duration_minutes=90, price=Decimal("200"))
        booked = await book(runtime, clinic, service_id=service.id, ends_at=None, title="")
        assert booked.ends_at - booked.starts_at == timedelta(minutes=90)
        assert (booked.service_id, booked.price, booked.title) == (
            service.id,
            Decimal("200.00"),
            "Initial Consultation",
        )

    async def test_an_end_given_wins_over_the_services_duration(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        service = await create_service(runtime, clinic, duration_minutes=90)
        booked = await book(runtime, clinic, service_id=service.id)
        assert booked.ends_at - booked.starts_at == timedelta(minutes=30)
        assert booked.title == "Consultation"

    async def test_without_an_end_or_a_service_the_clinics_default_length_applies(
        self, runtime: Runtime
    ) -> None:
        clinic = await bookable_clinic(runtime)
        await set_booking_rules(runtime, clinic, default_length_minutes=45)
        booked = await book(runtime, clinic, ends_at=None)
        assert booked.ends_at - booked.starts_at == timedelta(minutes=45)
        assert (booked.service_id, booked.price) == (None, None)

    async def test_the_service_length_is_checked_against_the_practitioners_hours(
        self, runtime: Runtime
    ) -> None:
        clinic = await bookable_clinic(runtime)
        day_long = await create_service(runtime, clinic, name="Retreat", duration_minutes=600)
        with pytest.raises(InvalidInput, match="working_hours"):
            await book(runtime, clinic, service_id=day_long.id, ends_at=None)

    async def test_a_booking_keeps_the_price_it_was_sold_at(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        service = await create_service(runtime, clinic, price=Decimal("100"))
        booked = await book(runtime, clinic, service_id=service.id)
        async with runtime.sessions() as session, session.begin():
            await catalog.update_service(
                session, clinic_id=clinic.id, service_id=service.id, data=ServiceInput(price=Decimal("150"))
            )
        async with runtime.sessions() as session:
            stored = await booking_service.get_appointment(
                session, clinic_id=clinic.id, appointment_id=booked.id
            )
        assert stored.price == Decimal("100.00")

    async def test_an_inactive_service_cannot_be_booked(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        service = await create_service(runtime, clinic)
        async with runtime.sessions() as session, session.begin():
            await catalog.update_service(
                session, clinic_id=clinic.id, service_id=service.id, data=ServiceInput(is_active=False)
            )
        with pytest.raises(InvalidInput) as refused:
            await book(runtime, clinic, service_id=service.id)
        assert refused.value.field == "service_id"

    async def test_another_clinics_service_reads_as_unknown(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        theirs = await create_service(runtime, await bookable_clinic(runtime))
        for service_id in (theirs.id, uuid.uuid4()):
            with pytest.raises(NotFound) as refused:
                await book(runtime, clinic, service_id=service_id)
            assert (refused.value.field, refused.value.message) == (
                "service_id",
                "service_id: no such service in this clinic",
            )


class TestLocation:
    async def test_the_location_is_stored_with_the_appointment(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        location = await create_location(runtime, clinic)
        booked = await book(runtime, clinic, location_id=location.id)
        assert booked.location_id == location.id

    async def test_another_clinics_location_reads_as_unknown(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        theirs = await create_location(runtime, await bookable_clinic(runtime))
        with pytest.raises(NotFound) as refused:
            await book(runtime, clinic, location_id=theirs.id)
        assert refused.value.field == "location_id"

    async def test_a_closed_location_cannot_be_booked(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        location = await create_location(runtime, clinic)
        async with runtime.sessions() as session, session.begin():
            await catalog.update_location(
                session, clinic_id=clinic.id, location_id=location.id, data=LocationInput(is_active=False)
            )
        with pytest.raises(InvalidInput) as refused:
            await book(runtime, clinic, location_id=location.id)
        assert refused.value.field == "location_id"


class TestTheEventNamesThem:
    async def test_the_created_event_carries_the_client_service_location_and_price(
        self, runtime: Runtime
    ) -> None:
        clinic = await bookable_clinic(runtime)
        lead = await create_lead(runtime, clinic)
        service = await create_service(runtime, clinic, price=Decimal("99.5"))
        location = await create_location(runtime, clinic)
        booked = await book(runtime, clinic, lead_id=lead.id, service_id=service.id, location_id=location.id)
        async with runtime.sessions() as session:
            event = await session.scalar(
                select(Event).where(Event.clinic_id == clinic.id, Event.aggregate_id == str(booked.id))
            )
        assert event is not None
        snapshot = event.payload["appointment"]
        assert (
            snapshot["client_id"],
            snapshot["service_id"],
            snapshot["location_id"],
            snapshot["price"],
        ) == (
            str(booked.client_id),
            str(service.id),
            str(location.id),
            "99.50",
        )


class TestListingByClient:
    async def test_only_the_clients_appointments_are_listed(self, runtime: Runtime) -> None:
        clinic = await bookable_clinic(runtime)
        lead = await create_lead(runtime, clinic)
        mine = await book(runtime, clinic, lead_id=lead.id)
        await book(runtime, clinic, lead_id=(await create_lead(runtime, clinic)).id)
        async with runtime.sessions() as session:
            listed = await booking_service.list_appointments(
                session, clinic_id=clinic.id, client_id=mine.client_id
            )
        assert [appointment.id for appointment in listed] == [mine.id]
