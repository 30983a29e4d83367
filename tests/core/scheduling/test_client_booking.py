"""The booking widget's own rules in the core (``core/scheduling/client_booking.py``): reading what a
visitor types, the practice's change notice, and a day's slots in the client's zone across a DST change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from clinicore.core.models import Appointment, AppointmentStatus, BookingWidgetSettings
from clinicore.core.scheduling import catalog, client_booking
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.scheduling.schemas import ServiceInput
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_practitioner, set_booking_rules

NOW = datetime(2031, 3, 3, 13, 0, tzinfo=UTC)  # Monday 08:00 in New York


class TestReading:
    @pytest.mark.parametrize("raw", ["", "1234567", "123456789", "GHIJKLMN", "1234 567", "１２３４５６７８"])
    def test_a_practice_id_is_eight_hex_digits(self, raw: str) -> None:
        with pytest.raises(NotFound):
            client_booking.read_practice_id(raw)

    def test_a_practice_id_reads_in_upper_case(self) -> None:
        assert client_booking.read_practice_id("54dc9e8f") == "54DC9E8F"

    def test_details_are_normalised(self) -> None:
        details = client_booking.read_details(
            full_name="  Ana   Lima ", email="Ana@Example.COM", phone="(212) 555-0100"
        )

        assert (details.full_name, details.email, details.phone) == (
            "Ana Lima",
            "Ana@example.com",
            "+12125550100",
        )

    @pytest.mark.parametrize(
        ("name", "email", "phone", "field"),
        [
            ("", "a@example.com", "", "name"),
            ("x" * 101, "a@example.com", "", "name"),
            ("Ana", "", "", "email"),
            ("Ana", "ana@", "", "email"),
            ("Ana", "a@example.com", "5" * 41, "phone"),
            ("Ana", "a@example.com", "12", "phone"),
        ],
    )
    def test_bad_details_name_their_field(self, name: str, email: str, phone: str, field: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            client_booking.read_details(full_name=name, email=email, phone=phone)

        assert refused.value.field == field

    @pytest.mark.parametrize("raw", ["", "Mars/Olympus", "x" * 65, "../etc/passwd"])
    def test_a_time_zone_is_an_iana_name(self, raw: str) -> None:
        with pytest.raises(InvalidInput):
            client_booking.read_time_zone(raw)


def appointment(status: AppointmentStatus, starts_at: datetime) -> Appointment:
    return Appointment(status=status, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30))


class TestChangeNotice:
    SETTINGS = BookingWidgetSettings(requires_confirmation=False, client_change_notice_hours=24)

    def test_a_client_may_change_until_the_notice_and_not_after(self) -> None:
        starts_at = NOW + timedelta(hours=24)

        assert (
            client_booking.change_refusal(
                self.SETTINGS, appointment(AppointmentStatus.confirmed, starts_at), now=NOW
            )
            is None
        )
        later = NOW + timedelta(seconds=1)
        refusal = client_booking.change_refusal(
            self.SETTINGS, appointment(AppointmentStatus.confirmed, starts_at), now=later
        )
        assert refusal is not None and "24 hours" in refusal

    @pytest.mark.parametrize(
        "status",
        [
            AppointmentStatus.cancelled,
            AppointmentStatus.declined,
            AppointmentStatus.missed,
            AppointmentStatus.completed,
        ],
    )
    def test_only_a_waiting_or_confirmed_appointment_may_change(self, status: AppointmentStatus) -> None:
        far = NOW + timedelta(days=10)

        assert client_booking.change_refusal(self.SETTINGS, appointment(status, far), now=NOW) is not None
        assert (
            client_booking.change_refusal(
                self.SETTINGS, appointment(AppointmentStatus.waiting_confirmation, far), now=NOW
            )
            is None
        )

    async def test_the_notice_is_bounded(self, runtime: Runtime) -> None:
        made = await create_clinic(runtime)
        async with runtime.sessions() as session:
            with pytest.raises(InvalidInput) as refused:
                await client_booking.update_widget_settings(
                    session,
                    clinic_id=made.clinic.id,
                    requires_confirmation=False,
                    client_change_notice_hours=721,
                )

        assert refused.value.field == "client_change_notice_hours"


class TestDaySlots:
    async def test_a_day_of_the_client_s_zone_across_the_spring_forward_change(
        self, runtime: Runtime
    ) -> None:
        """Sunday 2031-03-09 is New York's spring-forward day; the practitioner works 00:00-06:00 there."""
        made = await create_clinic(runtime, time_zone="America/New_York")
        await set_booking_rules(runtime, made.clinic, horizon_days=30)
        practitioner = await create_practitioner(
            runtime, made.clinic, weekly={6: (LocalRange(time(0), time(6)),)}
        )
        async with runtime.sessions() as session, session.begin():
            service = await catalog.create_service(
                session,
                clinic_id=made.clinic.id,
                data=ServiceInput(name="Visit", duration_minutes=60, price=Decimal("10")),
            )
        clock = FrozenClock(NOW)

        async with runtime.sessions() as session:
            new_york = await client_booking.service_slots(
                session,
                clinic=made.clinic,
                service_id=service.id,
                practitioner_id=practitioner.id,
                day=date(2031, 3, 9),
                time_zone="America/New_York",
                clock=clock,
            )
            # Saturday in Los Angeles (PST) ends at 08:00 UTC, Sunday 04:00 EDT: three of the five hours.
            los_angeles = await client_booking.service_slots(
                session,
                clinic=made.clinic,
                service_id=service.id,
                practitioner_id=None,
                day=date(2031, 3, 8),
                time_zone="America/Los_Angeles",
                clock=clock,
            )

        assert [slot.start.hour for slot in new_york] == [5, 6, 7, 8, 9]  # UTC: 00, 01 EST; 03, 04, 05 EDT
        assert [slot.start for slot in los_angeles] == [slot.start for slot in new_york[:3]]
