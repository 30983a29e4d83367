"""The console's scheduling pages through HTTP, as a signed-in clinic user: the week calendar, booking and
cancelling, booking rules, practitioners' weekly hours and date overrides, blocks and calendar feed links."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from clinicore.core.models import Appointment, AppointmentStatus, Clinic, Practitioner
from clinicore.core.scheduling import blocks as block_service
from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling import feeds as feed_service
from clinicore.core.scheduling import hours as hours_service
from clinicore.core.scheduling import settings as settings_service
from clinicore.core.scheduling import slots as slot_service
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.scheduling.schemas import BookingRequest
from clinicore.runtime import Runtime
from tests.factories import ClinicFixture, create_clinic, create_practitioner, set_booking_rules
from tests.support import remember_secret
from tests.web.console.pages import csrf_token, page_csrf, sign_in
from tests.web.console.statements import reading, statements_run
from tests.web.frozen_console import FrozenApp, frozen_app

# The frozen clock says Monday 2031-03-03, 08:00 in New York (UTC-5 until 9 March).
MONDAY = date(2031, 3, 3)
TUESDAY = date(2031, 3, 4)


NEW_YORK = ZoneInfo("America/New_York")


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    """New York wall time as UTC; hour 24 is the next midnight."""
    wall = datetime.combine(day, time(0), tzinfo=NEW_YORK) + timedelta(hours=hour, minutes=minute)
    return wall.astimezone(UTC)


@pytest.fixture
async def frozen(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


async def signed_in_clinic(frozen: FrozenApp, **rules: int | None) -> ClinicFixture:
    arranged = await create_clinic(frozen.runtime, time_zone="America/New_York")
    await set_booking_rules(frozen.runtime, arranged.clinic, **rules)
    response = await sign_in(frozen.client, arranged.email, arranged.password)
    assert response.status_code == 303
    return arranged


async def book(
    frozen: FrozenApp,
    clinic: Clinic,
    practitioner: Practitioner,
    starts_at: datetime,
    *,
    minutes: int = 30,
    title: str = "Consultation",
) -> Appointment:
    async with frozen.runtime.sessions() as session, session.begin():
        return await booking_service.book_appointment(
            session,
            clinic_id=clinic.id,
            request=BookingRequest(
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                title=title,
                practitioner_id=practitioner.id,
            ),
            source="console",
            clock=frozen.clock,
        )


async def appointment_status(frozen: FrozenApp, clinic: Clinic, appointment: Appointment) -> str:
    async with frozen.runtime.sessions() as session:
        found = await booking_service.get_appointment(
            session, clinic_id=clinic.id, appointment_id=appointment.id
        )
        return found.status


def calendar_columns(html: str) -> list[str]:
    return re.findall(r'<th scope="col" data-practitioner-id="([^"]+)"', html)


def calendar_grid(html: str) -> dict[str, list[list[str]]]:
    """Local day -> one list of appointment ids per practitioner column."""
    grid = {}
    for day, row in re.findall(r'<tr data-day="([\d-]+)"[^>]*>(.*?)</tr>', html, re.S):
        grid[day] = [re.findall(r'data-appointment-id="([^"]+)"', cell) for cell in row.split("<td>")[1:]]
    return grid


class TestWeekCalendar:
    async def test_each_practitioner_has_a_column_and_appointments_sit_on_their_local_day(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen)
        evenings = {day: (LocalRange(time(9), time(17)), LocalRange(time(20), time(2))) for day in range(5)}
        rivera = await create_practitioner(
            frozen.runtime, arranged.clinic, name="Dr. Rivera", weekly=evenings
        )
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        morning = await book(frozen, arranged.clinic, rivera, utc(MONDAY, 9))
        # 22:30 on Monday in New York is already Tuesday in UTC: it belongs on Monday's row.
        late = await book(frozen, arranged.clinic, rivera, utc(MONDAY, 22, 30))
        wednesday = await book(frozen, arranged.clinic, chen, utc(MONDAY + timedelta(days=2), 14))

        page = await frozen.client.get("/console/calendar")

        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert calendar_columns(page.text) == [str(chen.id), str(rivera.id)]  # by name
        grid = calendar_grid(page.text)
        assert list(grid) == [(MONDAY + timedelta(days=n)).isoformat() for n in range(7)]
        assert grid["2031-03-03"] == [[], [str(morning.id), str(late.id)]]
        assert grid["2031-03-04"] == [[], []]
        assert grid["2031-03-05"] == [[str(wednesday.id)], []]
        assert "09:00–09:30" in page.text and "22:30–23:00" in page.text  # clinic-local times

    async def test_previous_and_next_week_links_move_by_seven_days(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        following = await book(frozen, arranged.clinic, practitioner, utc(MONDAY + timedelta(days=8), 10))

        this_week = await frozen.client.get("/console/calendar?week=2031-03-05")
        assert 'href="/console/calendar?week=2031-02-24"' in this_week.text
        assert 'href="/console/calendar?week=2031-03-10"' in this_week.text
        assert str(following.id) not in this_week.text

        next_week = await frozen.client.get("/console/calendar?week=2031-03-10")
        grid = calendar_grid(next_week.text)
        assert next(iter(grid)) == "2031-03-10"
        assert grid["2031-03-11"] == [[str(following.id)]]
        # 10:00 EDT: New York moved its clocks forward on 9 March, the page still shows local time.
        assert "10:00–10:30" in next_week.text

    async def test_a_week_that_is_not_a_date_is_a_clear_error(self, frozen: FrozenApp) -> None:
        await signed_in_clinic(frozen)
        response = await frozen.client.get("/console/calendar?week=next")
        assert response.status_code == 400
        assert "week: enter a date as YYYY-MM-DD" in response.text

    async def test_signed_out_visitors_are_sent_to_sign_in(self, frozen: FrozenApp) -> None:
        response = await frozen.client.get("/console/calendar")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/console/calendar"


class TestBookingFromTheCalendar:
    async def test_a_booking_in_working_hours_lands_on_the_calendar(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        response = await frozen.client.post(
            "/console/calendar/appointments",
            data={
                "practitioner_id": str(practitioner.id),
                "day": "2031-03-04",
                "start": "10:00",
                "length": "45",
                "title": "Botox consult",
                "csrf_token": await page_csrf(frozen.client, "/console/calendar"),
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/console/calendar?week=2031-03-04"
        async with frozen.runtime.sessions() as session:
            [booked] = await booking_service.list_appointments(session, clinic_id=arranged.clinic.id)
        assert (booked.starts_at, booked.ends_at) == (utc(TUESDAY, 10), utc(TUESDAY, 10, 45))
        assert (booked.title, booked.source, booked.practitioner_id) == (
            "Botox consult",
            "console",
            practitioner.id,
        )
        page = await frozen.client.get(response.headers["location"])
        assert calendar_grid(page.text)["2031-03-04"] == [[str(booked.id)]]

    async def test_outside_working_hours_is_refused_naming_the_rule(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        await create_practitioner(frozen.runtime, arranged.clinic)
        response = await frozen.client.post(
            "/console/calendar/appointments",
            data={
                "day": "2031-03-04",
                "start": "18:00",
                "length": "30",
                "title": "Late",
                "csrf_token": await page_csrf(frozen.client, "/console/calendar"),
            },
        )
        assert response.status_code == 400
        assert "outside the practitioner&#39;s working hours" in response.text
        assert 'value="18:00"' in response.text  # the form keeps what was typed

    async def test_a_taken_slot_is_a_conflict(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        await book(frozen, arranged.clinic, practitioner, utc(MONDAY, 10))
        response = await frozen.client.post(
            "/console/calendar/appointments",
            data={
                "practitioner_id": str(practitioner.id),
                "day": "2031-03-03",
                "start": "10:15",
                "length": "30",
                "title": "Overlap",
                "csrf_token": await page_csrf(frozen.client, "/console/calendar"),
            },
        )
        assert response.status_code == 409
        assert "the slot is already booked" in response.text

    async def test_another_clinics_practitioner_cannot_be_booked(self, frozen: FrozenApp) -> None:
        await signed_in_clinic(frozen)
        other = await create_clinic(frozen.runtime)
        theirs = await create_practitioner(frozen.runtime, other.clinic)
        response = await frozen.client.post(
            "/console/calendar/appointments",
            data={
                "practitioner_id": str(theirs.id),
                "day": "2031-03-04",
                "start": "10:00",
                "length": "30",
                "title": "Sneaky",
                "csrf_token": await page_csrf(frozen.client, "/console/calendar"),
            },
        )
        assert response.status_code == 404
        async with frozen.runtime.sessions() as session:
            assert await booking_service.list_appointments(session, clinic_id=other.clinic.id) == []


class TestCancelAppointment:
    async def test_cancelling_hides_the_appointment_unless_cancelled_ones_are_shown(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        appointment = await book(frozen, arranged.clinic, practitioner, utc(MONDAY, 11))
        response = await frozen.client.post(
            f"/console/calendar/appointments/{appointment.id}/cancel",
            data={"csrf_token": await page_csrf(frozen.client, "/console/calendar")},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/console/calendar?week=2031-03-03"
        assert await appointment_status(frozen, arranged.clinic, appointment) == AppointmentStatus.cancelled
        assert str(appointment.id) not in (await frozen.client.get("/console/calendar")).text
        shown = await frozen.client.get("/console/calendar?show=all")
        assert f'class="appointment cancelled" data-appointment-id="{appointment.id}"' in shown.text

    async def test_a_cancel_without_the_pages_token_is_refused(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        appointment = await book(frozen, arranged.clinic, practitioner, utc(MONDAY, 11))
        for data in ({}, {"csrf_token": "forged"}):
            response = await frozen.client.post(
                f"/console/calendar/appointments/{appointment.id}/cancel", data=data
            )
            assert response.status_code == 403
            assert "Form expired" in response.text
        assert await appointment_status(frozen, arranged.clinic, appointment) == AppointmentStatus.confirmed

    async def test_another_clinics_appointment_is_not_found(self, frozen: FrozenApp) -> None:
        await signed_in_clinic(frozen)
        other = await create_clinic(frozen.runtime)
        await set_booking_rules(frozen.runtime, other.clinic)
        theirs = await create_practitioner(frozen.runtime, other.clinic)
        appointment = await book(frozen, other.clinic, theirs, utc(MONDAY, 11))
        response = await frozen.client.post(
            f"/console/calendar/appointments/{appointment.id}/cancel",
            data={"csrf_token": await page_csrf(frozen.client, "/console/calendar")},
        )
        assert response.status_code == 404
        assert await appointment_status(frozen, other.clinic, appointment) == AppointmentStatus.confirmed
        assert str(appointment.id) not in (await frozen.client.get("/console/calendar")).text


class TestBookingRules:
    async def test_saving_the_rules_changes_them_for_every_booking(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        response = await frozen.client.post(
            "/console/availability/rules",
            data={
                "buffer_before_minutes": "10",
                "buffer_after_minutes": "15",
                "minimum_notice_minutes": "120",
                "horizon_days": "30",
                "default_length_minutes": "45",
                "slot_interval_minutes": "15",
                "csrf_token": await page_csrf(frozen.client, "/console/availability"),
            },
        )
        assert response.status_code == 303
        async with frozen.runtime.sessions() as session:
            settings = await settings_service.get_booking_settings(session, clinic_id=arranged.clinic.id)
            saved = (
                settings.buffer_before_minutes,
                settings.buffer_after_minutes,
                settings.minimum_notice_minutes,
                settings.horizon_days,
                settings.default_length_minutes,
                settings.slot_interval_minutes,
            )
        assert saved == (10, 15, 120, 30, 45, 15)
        page = await frozen.client.get("/console/availability")
        assert 'name="default_length_minutes" min="5" max="1440" required value="45"' in page.text

    async def test_a_value_out_of_range_is_refused_and_nothing_changes(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen, horizon_days=60)
        response = await frozen.client.post(
            "/console/availability/rules",
            data={
                "buffer_before_minutes": "0",
                "buffer_after_minutes": "0",
                "minimum_notice_minutes": "0",
                "horizon_days": "1000",
                "default_length_minutes": "30",
                "csrf_token": await page_csrf(frozen.client, "/console/availability"),
            },
        )
        assert response.status_code == 400
        assert "horizon_days: must be between 0 and 730" in response.text
        async with frozen.runtime.sessions() as session:
            settings = await settings_service.get_booking_settings(session, clinic_id=arranged.clinic.id)
            assert settings.horizon_days == 60

    async def test_the_rules_form_needs_the_pages_token(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen, default_length_minutes=30)
        response = await frozen.client.post(
            "/console/availability/rules",
            data={
                "buffer_before_minutes": "0",
                "buffer_after_minutes": "0",
                "minimum_notice_minutes": "0",
                "horizon_days": "60",
                "default_length_minutes": "90",
                "csrf_token": "not-the-token",
            },
        )
        assert response.status_code == 403
        async with frozen.runtime.sessions() as session:
            settings = await settings_service.get_booking_settings(session, clinic_id=arranged.clinic.id)
            assert settings.default_length_minutes == 30


class TestPractitioners:
    async def test_a_new_practitioner_opens_their_page_and_is_listed(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        response = await frozen.client.post(
            "/console/practitioners",
            data={
                "name": "Dr. Okafor",
                "email": "okafor@clinic.example",
                "time_zone": "",
                "bookable": "1",
                "csrf_token": await page_csrf(frozen.client, "/console/availability"),
            },
        )
        assert response.status_code == 303
        async with frozen.runtime.sessions() as session:
            [created] = await hours_service.list_practitioners(session, clinic_id=arranged.clinic.id)
        assert response.headers["location"] == f"/console/practitioners/{created.id}"
        assert (created.name, created.time_zone, created.is_bookable) == (
            "Dr. Okafor",
            "America/New_York",
            True,
        )
        listing = await frozen.client.get("/console/availability")
        assert f'<a href="/console/practitioners/{created.id}">Dr. Okafor</a>' in listing.text
        assert "no hours yet" in listing.text

    async def test_an_unknown_time_zone_is_refused(self, frozen: FrozenApp) -> None:
        await signed_in_clinic(frozen)
        response = await frozen.client.post(
            "/console/practitioners",
            data={
                "name": "Dr. Nowhere",
                "time_zone": "Mars/Olympus",
                "csrf_token": await page_csrf(frozen.client, "/console/availability"),
            },
        )
        assert response.status_code == 400
        assert "is not an IANA time zone" in response.text

    async def test_another_clinics_practitioner_is_not_found(self, frozen: FrozenApp) -> None:
        await signed_in_clinic(frozen)
        other = await create_clinic(frozen.runtime)
        theirs = await create_practitioner(frozen.runtime, other.clinic)
        token = await page_csrf(frozen.client, "/console/availability")
        assert (await frozen.client.get(f"/console/practitioners/{theirs.id}")).status_code == 404
        edit = await frozen.client.post(
            f"/console/practitioners/{theirs.id}/hours", data={"day0": "", "csrf_token": token}
        )
        assert edit.status_code == 404
        close = await frozen.client.post(
            f"/console/practitioners/{theirs.id}/overrides",
            data={"day": "2031-03-04", "kind": "closed", "csrf_token": token},
        )
        assert close.status_code == 404
        rotate = await frozen.client.post(
            f"/console/practitioners/{theirs.id}/calendar-feed", data={"csrf_token": token}
        )
        assert rotate.status_code == 404
        async with frozen.runtime.sessions() as session:
            hours = await hours_service.working_hours_of(
                session,
                clinic_id=other.clinic.id,
                practitioner_id=theirs.id,
                first_day=MONDAY,
                last_day=MONDAY + timedelta(days=7),
            )
            assert hours.weekly[0] == [LocalRange(time(9), time(17))]
            assert hours.overrides == {}
            assert (
                await feed_service.calendar_token(
                    session, box=frozen.runtime.box, clinic_id=other.clinic.id, practitioner_id=theirs.id
                )
                is None
            )


class TestWeeklyHours:
    async def test_the_editor_saves_split_and_overnight_ranges(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        path = f"/console/practitioners/{practitioner.id}"
        response = await frozen.client.post(
            f"{path}/hours",
            data={
                "day0": "09:00-12:00, 13:00-17:00",
                "day1": "",
                "day4": "22:00-02:00",
                "day5": "9:30 – 13:00",
                "csrf_token": await page_csrf(frozen.client, path),
            },
        )
        assert response.status_code == 303
        async with frozen.runtime.sessions() as session:
            hours = await hours_service.working_hours_of(
                session,
                clinic_id=arranged.clinic.id,
                practitioner_id=practitioner.id,
                first_day=MONDAY,
                last_day=MONDAY,
            )
        assert hours.weekly == {
            0: [LocalRange(time(9), time(12)), LocalRange(time(13), time(17))],
            4: [LocalRange(time(22), time(2))],
            5: [LocalRange(time(9, 30), time(13))],
        }
        page = await frozen.client.get(path)
        assert 'name="day0" value="09:00-12:00, 13:00-17:00"' in page.text
        assert 'name="day1" value=""' in page.text
        assert 'name="day4" value="22:00-02:00"' in page.text
        listing = await frozen.client.get("/console/availability")
        assert "Fri 22:00-02:00" in listing.text

    async def test_hours_that_do_not_parse_change_nothing(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        path = f"/console/practitioners/{practitioner.id}"
        response = await frozen.client.post(
            f"{path}/hours",
            data={"day0": "", "day2": "nine to five", "csrf_token": await page_csrf(frozen.client, path)},
        )
        assert response.status_code == 400
        assert "Wednesday: write hours like 09:00-12:00, 13:00-17:00" in response.text
        assert 'name="day2" value="nine to five"' in response.text
        async with frozen.runtime.sessions() as session:
            hours = await hours_service.working_hours_of(
                session,
                clinic_id=arranged.clinic.id,
                practitioner_id=practitioner.id,
                first_day=MONDAY,
                last_day=MONDAY,
            )
        assert hours.weekly == {day: [LocalRange(time(9), time(17))] for day in range(5)}


async def slot_starts(frozen: FrozenApp, clinic: Clinic, from_day: date, limit: int = 100) -> list[datetime]:
    async with frozen.runtime.sessions() as session, session.begin():
        slots = await slot_service.find_slots(
            session, clinic_id=clinic.id, from_day=from_day, limit=limit, clock=frozen.clock
        )
    return [slot.start for slot in slots]


class TestDateOverrides:
    async def test_closing_a_day_removes_its_slots_and_removing_the_override_restores_them(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        path = f"/console/practitioners/{practitioner.id}"
        response = await frozen.client.post(
            f"{path}/overrides",
            data={"day": "2031-03-04", "kind": "closed", "csrf_token": await page_csrf(frozen.client, path)},
        )
        assert response.status_code == 303
        page = await frozen.client.get(path)
        assert re.search(
            r'data-override="2031-03-04">\s*<td>Tue 04 Mar 2031</td>\s*<td>Closed</td>', page.text
        )
        assert (await slot_starts(frozen, arranged.clinic, TUESDAY, limit=1)) == [
            utc(TUESDAY + timedelta(days=1), 9)
        ]

        cleared = await frozen.client.post(
            f"{path}/overrides/clear", data={"day": "2031-03-04", "csrf_token": csrf_token(page.text)}
        )
        assert cleared.status_code == 303
        assert 'data-override="2031-03-04"' not in (await frozen.client.get(path)).text
        assert (await slot_starts(frozen, arranged.clinic, TUESDAY, limit=1)) == [utc(TUESDAY, 9)]

    async def test_opening_a_day_off_with_an_overnight_range(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        path = f"/console/practitioners/{practitioner.id}"
        saturday = MONDAY + timedelta(days=5)
        response = await frozen.client.post(
            f"{path}/overrides",
            data={
                "day": saturday.isoformat(),
                "kind": "open",
                "hours": "23:00-01:00",
                "csrf_token": await page_csrf(frozen.client, path),
            },
        )
        assert response.status_code == 303
        assert "<td>23:00-01:00</td>" in (await frozen.client.get(path)).text
        starts = await slot_starts(frozen, arranged.clinic, saturday, limit=4)
        # Saturday 23:00 to Sunday 01:00 local, then Monday's 09:00.
        assert starts == [utc(saturday, 23), utc(saturday, 23, 30), utc(saturday, 24), utc(saturday, 24, 30)]

    async def test_opening_a_day_needs_its_hours(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        path = f"/console/practitioners/{practitioner.id}"
        response = await frozen.client.post(
            f"{path}/overrides",
            data={
                "day": "2031-03-08",
                "kind": "open",
                "hours": "",
                "csrf_token": await page_csrf(frozen.client, path),
            },
        )
        assert response.status_code == 400
        assert "hours: give the hours the day opens, or choose closed" in response.text
        async with frozen.runtime.sessions() as session:
            hours = await hours_service.working_hours_of(
                session,
                clinic_id=arranged.clinic.id,
                practitioner_id=practitioner.id,
                first_day=MONDAY,
                last_day=MONDAY + timedelta(days=7),
            )
        assert hours.overrides == {}


class TestBlocks:
    async def test_blocks_are_listed_in_clinic_time_with_who_they_block(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Blocked")
        other = await create_clinic(frozen.runtime)
        async with frozen.runtime.sessions() as session, session.begin():
            await block_service.upsert_block(
                session,
                clinic_id=arranged.clinic.id,
                external_source="google_calendar",
                external_id="evt_1",
                starts_at=utc(MONDAY, 12),
                ends_at=utc(MONDAY, 13),
                title="Lunch meeting",
                practitioner_id=practitioner.id,
                clock=frozen.clock,
            )
            await block_service.upsert_block(
                session,
                clinic_id=arranged.clinic.id,
                external_source="google_calendar",
                external_id="evt_2",
                starts_at=utc(MONDAY, 15),
                ends_at=utc(MONDAY, 16),
                title="Staff training",
                clock=frozen.clock,
            )
            await block_service.upsert_block(
                session,
                clinic_id=other.clinic.id,
                external_source="google_calendar",
                external_id="evt_3",
                starts_at=utc(MONDAY, 15),
                ends_at=utc(MONDAY, 16),
                title="Their private block",
                clock=frozen.clock,
            )
        page = await frozen.client.get("/console/availability")
        blocks = re.findall(r'<tr data-block-id="[^"]+">(.*?)</tr>', page.text, re.S)
        assert len(blocks) == 2
        assert (
            "Mon 03 Mar 2031, 12:00" in blocks[0]
            and "Lunch meeting" in blocks[0]
            and "Dr. Blocked" in blocks[0]
        )
        assert "Mon 03 Mar 2031, 15:00" in blocks[1] and "Whole clinic" in blocks[1]
        assert "Their private block" not in page.text


class TestCalendarFeedLinks:
    async def test_practitioner_feed_link_is_created_then_rotated(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        path = f"/console/practitioners/{practitioner.id}"
        assert "No feed yet." in (await frozen.client.get(path)).text
        created = await frozen.client.post(
            f"{path}/calendar-feed", data={"csrf_token": await page_csrf(frozen.client, path)}
        )
        assert created.status_code == 303
        first = feed_link(await frozen.client.get(path), "practitioner-feed-url")
        rotated = await frozen.client.post(
            f"{path}/calendar-feed", data={"csrf_token": await page_csrf(frozen.client, path)}
        )
        assert rotated.status_code == 303
        second = feed_link(await frozen.client.get(path), "practitioner-feed-url")
        assert first != second

    async def test_clinic_feed_link_is_created_on_the_availability_page(self, frozen: FrozenApp) -> None:
        await signed_in_clinic(frozen)
        created = await frozen.client.post(
            "/console/availability/calendar-feed",
            data={"csrf_token": await page_csrf(frozen.client, "/console/availability")},
        )
        assert created.status_code == 303
        feed_link(await frozen.client.get("/console/availability"), "clinic-feed-url")


def feed_link(page: httpx.Response, testid: str) -> str:
    match = re.search(
        rf'data-testid="{testid}">http://testserver/calendars/([A-Za-z0-9_-]{{32}})\.ics<', page.text
    )
    assert match, f"no {testid} on the page"
    return remember_secret(match.group(1))


class TestAvailabilityQueries:
    async def test_the_page_runs_the_same_queries_for_six_practitioners_as_for_one(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen)
        first = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Adams")
        await close_a_day(frozen, arranged.clinic, first)
        assert (await frozen.client.get("/console/availability")).status_code == 200  # settings exist now
        with statements_run(frozen.runtime.engine) as for_one:
            assert (await frozen.client.get("/console/availability")).status_code == 200

        for name in ("Dr. Baker", "Dr. Chen", "Dr. Diaz", "Dr. Evans"):
            await close_a_day(
                frozen, arranged.clinic, await create_practitioner(frozen.runtime, arranged.clinic, name=name)
            )
        await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Fox", weekly={})
        with statements_run(frozen.runtime.engine) as for_six:
            page = await frozen.client.get("/console/availability")

        assert page.status_code == 200
        assert page.text.count("Mon 09:00-17:00") == 5 and "no hours yet" in page.text
        assert len(for_six) == len(for_one)
        assert len(reading("working_hours", for_six)) == 1
        assert len(reading("practitioners", for_six)) == 1


async def close_a_day(frozen: FrozenApp, clinic: Clinic, practitioner: Practitioner) -> None:
    async with frozen.runtime.sessions() as session, session.begin():
        await hours_service.set_date_override(
            session, clinic_id=clinic.id, practitioner_id=practitioner.id, day=TUESDAY, ranges=[]
        )
