"""Booking rules in the core, whatever surface or page books: no double booking (concurrent requests
included), appointment lengths, practitioners given in the input, aware times only, and every status
write through the appointment status table."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import pytest

from clinicore.core.models import Appointment, AppointmentStatus, Clinic, Practitioner
from clinicore.core.scheduling import blocks as block_service
from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling.schemas import AppointmentChanges, BookingRequest
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_practitioner, set_booking_rules

# Monday 2031-03-03, 08:00 in New York (UTC-5); practitioners work 09:00-17:00 on weekdays.
CLOCK = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))
TUESDAY_10AM = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)
CONCURRENT = 8


async def bookable_clinic(runtime: Runtime, practitioners: int = 1) -> tuple[Clinic, list[Practitioner]]:
    arranged = await create_clinic(runtime, time_zone="America/New_York")
    await set_booking_rules(runtime, arranged.clinic)
    staff = [
        await create_practitioner(runtime, arranged.clinic, name=f"Dr. {number}")
        for number in range(practitioners)
    ]
    return arranged.clinic, staff


async def book(
    runtime: Runtime,
    clinic: Clinic,
    *,
    starts_at: datetime = TUESDAY_10AM,
    length: timedelta = timedelta(minutes=30),
    **fields: object,
) -> Appointment:
    request = BookingRequest(starts_at=starts_at, ends_at=starts_at + length, title="Consultation", **fields)  # type: ignore[arg-type]
    async with runtime.sessions() as session, session.begin():
        return await booking_service.book_appointment(
            session, clinic_id=clinic.id, request=request, source="test", clock=CLOCK
        )


async def update(runtime: Runtime, appointment: Appointment, **changes: object) -> Appointment:
    async with runtime.sessions() as session, session.begin():
        return await booking_service.update_appointment(
            session,
            clinic_id=appointment.clinic_id,
            appointment_id=appointment.id,
            changes=AppointmentChanges(**changes),  # type: ignore[arg-type]
            clock=CLOCK,
        )


async def cancel(runtime: Runtime, appointment: Appointment) -> Appointment:
    async with runtime.sessions() as session, session.begin():
        return await booking_service.cancel_appointment(
            session, clinic_id=appointment.clinic_id, appointment_id=appointment.id, clock=CLOCK
        )


async def outcome(booking: Awaitable[Appointment]) -> str:
    try:
        await booking
    except Conflict:
        return "conflict"
    return "booked"


class TestNoDoubleBooking:
    async def test_the_same_time_with_the_same_practitioner_is_a_conflict(self, runtime: Runtime) -> None:
        clinic, [practitioner] = await bookable_clinic(runtime)
        await book(runtime, clinic, practitioner_id=practitioner.id)
        with pytest.raises(Conflict, match="the slot is already booked"):
            await book(runtime, clinic, practitioner_id=practitioner.id)

    async def test_an_overlapping_time_is_a_conflict(self, runtime: Runtime) -> None:
        clinic, [practitioner] = await bookable_clinic(runtime)
        await book(runtime, clinic, practitioner_id=practitioner.id)
        with pytest.raises(Conflict):
            await book(
                runtime,
                clinic,
                starts_at=TUESDAY_10AM + timedelta(minutes=15),
                practitioner_id=practitioner.id,
            )

    async def test_without_a_practitioner_the_next_free_one_is_given_then_it_is_a_conflict(
        self, runtime: Runtime
    ) -> None:
        clinic, staff = await bookable_clinic(runtime, practitioners=2)
        first = await book(runtime, clinic)
        second = await book(runtime, clinic)
        assert {first.practitioner_id, second.practitioner_id} == {p.id for p in staff}
        with pytest.raises(Conflict):
            await book(runtime, clinic)

    async def test_concurrent_bookings_of_one_practitioners_slot_make_one_appointment(
        self, runtime: Runtime
    ) -> None:
        clinic, [practitioner] = await bookable_clinic(runtime)
        results = await asyncio.gather(
            *(outcome(book(runtime, clinic, practitioner_id=practitioner.id)) for _ in range(CONCURRENT))
        )
        assert sorted(results) == ["booked"] + ["conflict"] * (CONCURRENT - 1)
        assert len(await appointments_of(runtime, clinic)) == 1

    async def test_concurrent_bookings_of_a_clinic_slot_give_each_practitioner_one(
        self, runtime: Runtime
    ) -> None:
        clinic, staff = await bookable_clinic(runtime, practitioners=2)
        results = await asyncio.gather(*(outcome(book(runtime, clinic)) for _ in range(CONCURRENT)))
        assert sorted(results) == ["booked"] * 2 + ["conflict"] * (CONCURRENT - 2)
        booked = await appointments_of(runtime, clinic)
        assert sorted(str(a.practitioner_id) for a in booked) == sorted(str(p.id) for p in staff)

    async def test_rescheduling_onto_another_appointment_is_a_conflict(self, runtime: Runtime) -> None:
        clinic, [practitioner] = await bookable_clinic(runtime)
        await book(runtime, clinic, practitioner_id=practitioner.id)
        later = await book(
            runtime, clinic, starts_at=TUESDAY_10AM + timedelta(hours=1), practitioner_id=practitioner.id
        )
        with pytest.raises(Conflict):
            await update(runtime, later, starts_at=TUESDAY_10AM + timedelta(minutes=20))

    async def test_a_cancelled_appointment_frees_its_time(self, runtime: Runtime) -> None:
        clinic, [practitioner] = await bookable_clinic(runtime)
        await cancel(runtime, await book(runtime, clinic, practitioner_id=practitioner.id))
        again = await book(runtime, clinic, practitioner_id=practitioner.id)
        assert again.status == AppointmentStatus.confirmed


async def appointments_of(runtime: Runtime, clinic: Clinic) -> list[Appointment]:
    async with runtime.sessions() as session:
        return list(await booking_service.list_appointments(session, clinic_id=clinic.id))


class TestLength:
    @pytest.mark.parametrize("minutes", [1, 4])
    async def test_an_appointment_shorter_than_five_minutes_is_refused(
        self, runtime: Runtime, minutes: int
    ) -> None:
        clinic, _ = await bookable_clinic(runtime)
        with pytest.raises(InvalidInput) as refused:
            await book(runtime, clinic, length=timedelta(minutes=minutes))
        assert refused.value.message == "ends_at: an appointment lasts at least 5 minutes"
        assert (refused.value.field, refused.value.subject) == ("ends_at", "appointment")
        assert await appointments_of(runtime, clinic) == []

    async def test_five_minutes_is_long_enough(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        booked = await book(runtime, clinic, length=timedelta(minutes=5))
        assert booked.ends_at - booked.starts_at == timedelta(minutes=5)

    async def test_more_than_a_day_is_refused(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        with pytest.raises(InvalidInput, match="ends_at: an appointment lasts at most 24 hours"):
            await book(runtime, clinic, length=timedelta(hours=24, minutes=1))

    async def test_an_end_before_the_start_is_refused(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        with pytest.raises(InvalidInput, match="ends_at: must be after starts_at"):
            await book(runtime, clinic, length=timedelta(minutes=-30))

    async def test_rescheduling_to_a_one_minute_appointment_is_refused(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        booked = await book(runtime, clinic)
        with pytest.raises(InvalidInput, match="at least 5 minutes"):
            await update(runtime, booked, ends_at=booked.starts_at + timedelta(minutes=1))


class TestPractitionerGiven:
    async def test_an_unknown_practitioner_is_not_found_naming_the_field(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        with pytest.raises(NotFound) as refused:
            await book(runtime, clinic, practitioner_id=uuid.uuid4())
        assert refused.value.message == "practitioner_id: no such practitioner in this clinic"
        assert refused.value.field == "practitioner_id"

    async def test_another_clinics_practitioner_reads_as_unknown(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        _, [theirs] = await bookable_clinic(runtime)
        with pytest.raises(NotFound) as refused:
            await book(runtime, clinic, practitioner_id=theirs.id)
        assert refused.value.field == "practitioner_id"

    async def test_an_unknown_lead_is_not_found_naming_the_field(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        with pytest.raises(NotFound) as refused:
            await book(runtime, clinic, lead_id=uuid.uuid4())
        assert refused.value.field == "lead_id"

    async def test_a_clinic_without_bookable_practitioners_cannot_book_unassigned(
        self, runtime: Runtime
    ) -> None:
        clinic, _ = await bookable_clinic(runtime, practitioners=0)
        with pytest.raises(InvalidInput, match="practitioner_id: the clinic has no bookable practitioner"):
            await book(runtime, clinic)

    async def test_a_block_for_an_unknown_practitioner_is_not_found_naming_the_field(
        self, runtime: Runtime
    ) -> None:
        clinic, _ = await bookable_clinic(runtime)
        with pytest.raises(NotFound) as refused:
            await upsert_block(runtime, clinic, practitioner_id=uuid.uuid4())
        assert refused.value.field == "practitioner_id"


async def upsert_block(runtime: Runtime, clinic: Clinic, **fields: object) -> object:
    values: dict[str, object] = {
        "external_source": "google_calendar",
        "external_id": f"evt_{uuid.uuid4().hex[:8]}",
        "starts_at": TUESDAY_10AM,
        "ends_at": TUESDAY_10AM + timedelta(hours=1),
    } | fields
    async with runtime.sessions() as session, session.begin():
        return await block_service.upsert_block(session, clinic_id=clinic.id, clock=CLOCK, **values)  # type: ignore[arg-type]


NAIVE_TUESDAY_10AM = datetime(2031, 3, 4, 10, 0)


class TestTimeZones:
    async def test_a_naive_start_is_refused_naming_the_field(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        with pytest.raises(InvalidInput) as refused:
            await book(runtime, clinic, starts_at=NAIVE_TUESDAY_10AM)
        assert refused.value.message == "starts_at: must include a time zone (use Z for UTC)"
        assert (refused.value.field, refused.value.subject) == ("starts_at", "appointment")

    async def test_a_naive_end_is_refused_naming_the_end(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        with pytest.raises(InvalidInput) as refused:
            async with runtime.sessions() as session, session.begin():
                await booking_service.book_appointment(
                    session,
                    clinic_id=clinic.id,
                    request=BookingRequest(
                        starts_at=TUESDAY_10AM, ends_at=NAIVE_TUESDAY_10AM + timedelta(minutes=30), title="x"
                    ),
                    source="test",
                    clock=CLOCK,
                )
        assert refused.value.field == "ends_at"

    async def test_rescheduling_to_a_naive_time_is_refused(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        booked = await book(runtime, clinic)
        with pytest.raises(InvalidInput) as refused:
            await update(runtime, booked, starts_at=NAIVE_TUESDAY_10AM + timedelta(hours=1))
        assert refused.value.field == "starts_at"

    @pytest.mark.parametrize("field", ["starts_at", "ends_at"])
    async def test_a_naive_block_is_invalid_input_not_a_server_error(
        self, runtime: Runtime, field: str
    ) -> None:
        clinic, _ = await bookable_clinic(runtime)
        naive = {"starts_at": NAIVE_TUESDAY_10AM, "ends_at": NAIVE_TUESDAY_10AM + timedelta(hours=1)}
        with pytest.raises(InvalidInput) as refused:
            await upsert_block(runtime, clinic, **{field: naive[field]})
        assert refused.value.message == f"{field}: must include a time zone (use Z for UTC)"
        assert (refused.value.field, refused.value.subject) == (field, "block")


class TestStatusWrites:
    @pytest.mark.parametrize("status", [AppointmentStatus.declined, AppointmentStatus.completed])
    async def test_booking_starts_a_request_or_a_confirmed_appointment_only(
        self, runtime: Runtime, status: AppointmentStatus
    ) -> None:
        clinic, _ = await bookable_clinic(runtime)
        with pytest.raises(InvalidInput, match="status: a new appointment is"):
            await book(runtime, clinic, status=status)

    async def test_a_request_is_confirmed_then_completed(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        requested = await book(runtime, clinic, status=AppointmentStatus.waiting_confirmation)
        confirmed = await update(runtime, requested, status=AppointmentStatus.confirmed)
        completed = await update(runtime, confirmed, status=AppointmentStatus.completed)
        assert (completed.status, completed.version) == (AppointmentStatus.completed, 3)

    async def test_an_illegal_move_is_refused_and_changes_nothing(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        completed = await update(runtime, await book(runtime, clinic), status=AppointmentStatus.completed)
        with pytest.raises(InvalidInput, match="status: cannot change from completed to confirmed"):
            await update(runtime, completed, status=AppointmentStatus.confirmed, title="Changed")
        [unchanged] = await appointments_of(runtime, clinic)
        assert (unchanged.status, unchanged.title, unchanged.version) == ("completed", "Consultation", 2)

    async def test_an_update_does_not_cancel(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        with pytest.raises(InvalidInput, match="cancelled by cancelling it"):
            await update(runtime, await book(runtime, clinic), status=AppointmentStatus.cancelled)

    async def test_a_cancelled_appointment_no_longer_changes(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        cancelled = await cancel(runtime, await book(runtime, clinic))
        with pytest.raises(Conflict, match="the appointment is cancelled and can no longer change"):
            await update(runtime, cancelled, title="Again")

    async def test_cancelling_twice_changes_nothing_the_second_time(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        once = await cancel(runtime, await book(runtime, clinic))
        twice = await cancel(runtime, once)
        assert (twice.status, twice.version, twice.cancelled_at) == ("cancelled", 2, once.cancelled_at)

    async def test_cancelling_a_completed_appointment_is_a_conflict(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        completed = await update(runtime, await book(runtime, clinic), status=AppointmentStatus.completed)
        with pytest.raises(Conflict, match="the appointment is completed and cannot be cancelled"):
            await cancel(runtime, completed)

    async def test_a_missed_appointment_may_still_be_cancelled(self, runtime: Runtime) -> None:
        clinic, _ = await bookable_clinic(runtime)
        missed = await update(runtime, await book(runtime, clinic), status=AppointmentStatus.missed)
        assert (await cancel(runtime, missed)).status == AppointmentStatus.cancelled
