"""The client booking widget through HTTP, as a visitor's browser would use it: the page and its choices,
slots in the visitor's zone, booking, every refusal, the signed link to cancel or reschedule, throttling."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from clinicore.core.models import AppointmentStatus, Client, Clinic
from clinicore.core.tenancy import service as tenancy_service
from clinicore.runtime import Runtime
from tests.support import remember_secret
from tests.web.book.practice import (
    TUESDAY,
    Practice,
    appointments_of,
    booking_form,
    create_practice,
    emails_to,
    event_payloads,
    event_types,
    manage_link,
    show_times,
    slot_values,
)
from tests.web.console.pages import page_csrf, sign_in
from tests.web.frozen_console import FrozenApp, frozen_app


@pytest.fixture
async def frozen(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


async def clients_of(runtime: Runtime, clinic: Clinic) -> list[Client]:
    async with runtime.sessions() as session:
        return list((await session.scalars(select(Client).where(Client.clinic_id == clinic.id))).all())


async def book_first_slot(frozen: FrozenApp, practice: Practice, **changes: str) -> str:
    """Book Tuesday's first slot; the confirmation email's signed link."""
    page = await show_times(frozen.client, practice)
    response = await frozen.client.post(
        f"{practice.page}/appointments", data=booking_form(practice, slot_values(page.text)[0], **changes)
    )
    assert response.status_code == 200, response.text
    email = changes.get("email", practice.email)
    return manage_link((await emails_to(frozen.runtime, email))[-1])


class TestThePage:
    async def test_it_offers_the_services_location_and_practitioners_and_may_be_framed_anywhere(
        self, frozen: FrozenApp
    ) -> None:
        practice = await create_practice(frozen.runtime)

        page = await frozen.client.get(practice.page)

        assert page.status_code == 200
        for name in ("Initial Consultation · 60 min · 120.00", "Follow Up · 30 min · 60.00", "Main Office"):
            assert name in page.text
        assert "Dr. Chen" in page.text and "Dr. Ortega" in page.text and "Any practitioner" in page.text
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors *" in policy and "script-src 'self'" in policy
        assert "x-frame-options" not in page.headers
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "set-cookie" not in page.headers

    async def test_the_practice_id_reads_in_any_case(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)

        page = await frozen.client.get(f"/book/{practice.clinic.practice_id.lower()}")

        assert page.status_code == 200
        assert "Initial Consultation" in page.text

    @pytest.mark.parametrize("practice_id", ["00000000", "not-a-practice", "ABCDEF012", "%00"])
    async def test_an_unknown_practice_is_a_404(self, frozen: FrozenApp, practice_id: str) -> None:
        page = await frozen.client.get(f"/book/{practice_id}")

        assert page.status_code == 404
        assert "There is no practice here." in page.text

    async def test_a_practice_without_online_booking_says_so_and_takes_no_booking(
        self, frozen: FrozenApp
    ) -> None:
        practice = await create_practice(frozen.runtime)
        slot = slot_values((await show_times(frozen.client, practice)).text)[0]
        async with frozen.runtime.sessions() as session, session.begin():
            clinic = await session.get(Clinic, practice.clinic.id)
            assert clinic is not None
            clinic.booking_enabled = False

        page = await frozen.client.get(practice.page)
        posted = await frozen.client.post(f"{practice.page}/appointments", data=booking_form(practice, slot))

        assert "Online booking is not available" in page.text
        assert "Online booking is not available" in posted.text
        assert await appointments_of(frozen.runtime, practice.clinic) == []


class TestSlots:
    async def test_the_day_s_open_times_are_shown_in_the_visitor_s_zone(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)

        new_york = await show_times(frozen.client, practice)
        lisbon = await show_times(frozen.client, practice, tz="Europe/Lisbon")

        labels = re.findall(r'data-testid="slot"> ([^<]+)</label>', new_york.text)
        assert labels == [
            f"{hour}:00 {'AM' if hour in (9, 10, 11) else 'PM'} EST" for hour in (9, 10, 11, 12, 1, 2, 3, 4)
        ]
        # Tuesday in Lisbon (UTC+0) holds New York's Monday 19:00 to Tuesday 19:00: Tuesday 14:00-21:00 there.
        lisbon_labels = re.findall(r'data-testid="slot"> ([^<]+)</label>', lisbon.text)
        assert lisbon_labels[0] == "2:00 PM WET" and lisbon_labels[-1] == "9:00 PM WET"
        assert slot_values(lisbon.text) == slot_values(new_york.text)

    async def test_a_booked_time_is_no_longer_offered_by_a_chosen_practitioner(
        self, frozen: FrozenApp
    ) -> None:
        practice = await create_practice(frozen.runtime)
        first = slot_values((await show_times(frozen.client, practice)).text)[0]
        await frozen.client.post(
            f"{practice.page}/appointments",
            data=booking_form(practice, first, practitioner=str(practice.chen.id)),
        )

        chen = await show_times(frozen.client, practice, practitioner=str(practice.chen.id))
        anyone = await show_times(frozen.client, practice)

        assert first not in slot_values(chen.text)
        assert first in slot_values(anyone.text)  # Dr. Ortega is still free then

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"day": "tuesday"}, "day: enter a date as YYYY-MM-DD"),
            ({"tz": "Mars/Olympus_Mons"}, "is not an IANA time zone"),
            ({"tz": "x" * 5000}, "time_zone: at most 64 characters"),
            ({"service": "not-a-uuid"}, "service: not one of the choices"),
            ({"day": "9999-01-01"}, "day: enter a date between the years"),
        ],
    )
    async def test_bad_choices_are_a_400_that_names_them(
        self, frozen: FrozenApp, params: dict[str, str], message: str
    ) -> None:
        practice = await create_practice(frozen.runtime)

        page = await show_times(frozen.client, practice, **params)

        assert page.status_code == 400
        assert message in page.text

    async def test_another_practice_s_service_shows_no_times(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)
        other = await create_practice(frozen.runtime)

        page = await show_times(frozen.client, practice, service=str(other.consultation.id))

        assert slot_values(page.text) == []
        assert "no such service" in page.text.lower()

    async def test_a_past_day_has_no_times(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)

        page = await show_times(frozen.client, practice, day=(TUESDAY - timedelta(days=7)).isoformat())

        assert page.status_code == 200
        assert slot_values(page.text) == []
        assert "No open times on this day" in page.text


class TestBooking:
    async def test_a_client_books_a_confirmed_appointment_and_gets_an_email_in_the_practice_s_time(
        self, frozen: FrozenApp
    ) -> None:
        practice = await create_practice(frozen.runtime)
        slot = slot_values((await show_times(frozen.client, practice, tz="Europe/Lisbon")).text)[0]

        response = await frozen.client.post(
            f"{practice.page}/appointments",
            data=booking_form(practice, slot, tz="Europe/Lisbon", phone="(212) 555-0100"),
        )

        assert response.status_code == 200
        assert "You are booked" in response.text
        assert "Tuesday, March 4, 2031 at 2:00 PM WET" in response.text
        [appointment] = await appointments_of(frozen.runtime, practice.clinic)
        assert appointment.status == AppointmentStatus.confirmed
        assert appointment.booked_by_client is True
        assert appointment.source == "booking"
        assert appointment.service_id == practice.consultation.id
        assert appointment.location_id == practice.office.id
        assert appointment.ends_at - appointment.starts_at == timedelta(minutes=60)
        [client] = await clients_of(frozen.runtime, practice.clinic)
        assert (client.first_name, client.last_name) == ("Ana", "Lima")
        assert (client.email, client.phone) == (practice.email, "+12125550100")
        assert appointment.client_id == client.id
        assert await event_types(frozen.runtime, practice.clinic) == ["appointment.created"]
        [email] = await emails_to(frozen.runtime, practice.email)
        assert "Tuesday, March 4, 2031 at 9:00 AM EST" in email.subject
        assert "When: Tuesday, March 4, 2031 at 9:00 AM EST" in email.body
        assert "Where: Main Office, 1 Main St" in email.body
        assert "Your appointment is confirmed." in email.body
        assert f"/book/{practice.clinic.practice_id}/appointments/{appointment.id}?expires=" in email.body
        assert email.attachment_name == "appointment.ics"
        assert (
            email.attachment_content is not None and b"DTSTART:20310304T140000Z" in email.attachment_content
        )
        [created] = await event_payloads(frozen.runtime, practice.clinic)
        assert created["by_client"] is True
        assert created["appointment"]["booked_by_client"] is True

    async def test_a_practice_that_confirms_bookings_gets_a_request(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime, requires_confirmation=True)
        slot = slot_values((await show_times(frozen.client, practice)).text)[0]

        response = await frozen.client.post(
            f"{practice.page}/appointments", data=booking_form(practice, slot)
        )

        assert "Request sent" in response.text
        [appointment] = await appointments_of(frozen.runtime, practice.clinic)
        assert appointment.status == AppointmentStatus.waiting_confirmation
        [email] = await emails_to(frozen.runtime, practice.email)
        assert email.subject.startswith("Your appointment request at")
        assert "will confirm your request" in email.body

    async def test_a_known_client_is_found_by_email_and_keeps_their_name(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)
        slots = slot_values((await show_times(frozen.client, practice)).text)

        for slot, name in ((slots[0], "Ana Lima"), (slots[1], "Someone Else")):
            response = await frozen.client.post(
                f"{practice.page}/appointments",
                data=booking_form(practice, slot, name=name, email=practice.email.upper()),
            )
            assert response.status_code == 200

        [client] = await clients_of(frozen.runtime, practice.clinic)
        assert client.first_name == "Ana"
        assert len(await appointments_of(frozen.runtime, practice.clinic)) == 2

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"name": ""}, "name: enter your name"),
            ({"name": "x" * 101}, "name: at most 100 characters"),
            ({"email": ""}, "email: enter your email address"),
            ({"email": "not-an-email"}, "email: "),
            ({"phone": "12"}, "phone"),
            ({"slot": ""}, "slot: choose a time"),
            ({"slot": "2031-03-04T14:00:00"}, "slot: choose a time"),
            ({"service": ""}, "service: choose a service"),
            ({"name": "Ana\x00Lima"}, "name: "),
        ],
    )
    async def test_a_refused_booking_is_a_400_that_keeps_what_was_typed_and_makes_nothing(
        self, frozen: FrozenApp, changes: dict[str, str], message: str
    ) -> None:
        practice = await create_practice(frozen.runtime)
        slot = slot_values((await show_times(frozen.client, practice)).text)[0]

        response = await frozen.client.post(
            f"{practice.page}/appointments", data=booking_form(practice, slot, **changes)
        )

        assert response.status_code == 400
        assert message in response.text
        assert await appointments_of(frozen.runtime, practice.clinic) == []
        assert await clients_of(frozen.runtime, practice.clinic) == []
        assert await emails_to(frozen.runtime, practice.email) == []

    async def test_a_time_outside_the_rules_is_refused_by_the_core(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)

        response = await frozen.client.post(
            f"{practice.page}/appointments", data=booking_form(practice, "2031-03-04T03:00:00+00:00")
        )

        assert response.status_code == 400
        assert "working hours" in response.text
        assert await clients_of(frozen.runtime, practice.clinic) == []

    async def test_a_slot_taken_meanwhile_is_a_409(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)
        slot = slot_values((await show_times(frozen.client, practice)).text)[0]
        chen = {"practitioner": str(practice.chen.id)}
        first = await frozen.client.post(
            f"{practice.page}/appointments", data=booking_form(practice, slot, **chen)
        )

        second = await frozen.client.post(
            f"{practice.page}/appointments",
            data=booking_form(practice, slot, email=f"other.{practice.email}", **chen),
        )

        assert first.status_code == 200
        assert second.status_code == 409
        assert "already booked" in second.text
        assert len(await appointments_of(frozen.runtime, practice.clinic)) == 1

    @pytest.mark.parametrize("field", ["service", "location", "practitioner"])
    async def test_another_practice_s_ids_are_refused(self, frozen: FrozenApp, field: str) -> None:
        practice = await create_practice(frozen.runtime)
        other = await create_practice(frozen.runtime)
        slot = slot_values((await show_times(frozen.client, practice)).text)[0]
        foreign = {
            "service": other.consultation.id,
            "location": other.office.id,
            "practitioner": other.chen.id,
        }

        response = await frozen.client.post(
            f"{practice.page}/appointments", data=booking_form(practice, slot, **{field: str(foreign[field])})
        )

        assert response.status_code == 400
        assert "no such" in response.text.lower()
        assert await appointments_of(frozen.runtime, practice.clinic) == []
        assert await appointments_of(frozen.runtime, other.clinic) == []

    async def test_bookings_are_throttled_per_client_address(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)

        answers = [
            (await frozen.client.post(f"{practice.page}/appointments", data={"name": ""})).status_code
            for _ in range(11)
        ]
        other_address = frozen.new_client()
        async with other_address:
            # new_client shares the transport, hence the address: throttled as well.
            throttled_too = await other_address.post(f"{practice.page}/appointments", data={"name": ""})

        assert answers == [400] * 10 + [429]
        assert throttled_too.status_code == 429
        assert "Too many bookings" in throttled_too.text
        assert int(throttled_too.headers["retry-after"]) > 0


class TestTheClientsLink:
    async def test_the_link_shows_the_appointment_and_cancels_it(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)
        link = await book_first_slot(frozen, practice)

        page = await frozen.client.get(link)
        path, query = link.split("?")
        cancelled = await frozen.client.post(f"{path}/cancel?{query}")

        assert page.status_code == 200
        assert "Tuesday, March 4, 2031 at 9:00 AM EST" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        assert cancelled.status_code == 200
        assert "Your appointment is cancelled." in cancelled.text
        [appointment] = await appointments_of(frozen.runtime, practice.clinic)
        assert appointment.status == AppointmentStatus.cancelled
        assert await event_types(frozen.runtime, practice.clinic) == [
            "appointment.created",
            "appointment.cancelled",
        ]
        assert [
            payload["by_client"] for payload in await event_payloads(frozen.runtime, practice.clinic)
        ] == [
            True,
            True,
        ]

    async def test_the_link_moves_the_appointment_to_another_open_time(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)
        link = await book_first_slot(frozen, practice)
        path, query = link.split("?")

        page = await frozen.client.get(f"{link}&day={TUESDAY.isoformat()}&tz=America/New_York")
        times = slot_values(page.text)
        moved = await frozen.client.post(f"{path}/reschedule?{query}", data={"slot": times[-1]})

        assert moved.status_code == 200, moved.text
        assert "Tuesday, March 4, 2031 at 4:00 PM EST" in moved.text
        [appointment] = await appointments_of(frozen.runtime, practice.clinic)
        assert appointment.starts_at.isoformat() == times[-1].replace("Z", "+00:00")
        assert await event_types(frozen.runtime, practice.clinic) == [
            "appointment.created",
            "appointment.updated",
        ]
        emails = await emails_to(frozen.runtime, practice.email)
        # The clock is frozen, so both emails carry the same time: find the notice by its subject.
        [notice] = [email for email in emails if "was moved" in email.subject]
        assert len(emails) == 2
        assert "When: Tuesday, March 4, 2031 at 4:00 PM EST" in notice.body

    async def test_changes_close_the_practice_s_notice_before_the_start(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime, notice_hours=24)
        link = await book_first_slot(frozen, practice)  # Tuesday 09:00, 25 hours ahead
        path, query = link.split("?")
        frozen.clock.advance(timedelta(hours=1, minutes=1))

        page = await frozen.client.get(link)
        refused = await frozen.client.post(f"{path}/cancel?{query}")

        assert "Online changes close 24 hours before the appointment" in page.text
        assert "Cancel my appointment" not in page.text
        assert refused.status_code == 409
        [appointment] = await appointments_of(frozen.runtime, practice.clinic)
        assert appointment.status == AppointmentStatus.confirmed

    async def test_a_forged_or_foreign_link_is_a_404_and_an_old_one_a_410(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)
        other = await create_practice(frozen.runtime)
        link = await book_first_slot(frozen, practice)
        forged = re.sub(r"signature=\w+", "signature=" + "0" * 32, link)
        foreign = link.replace(practice.clinic.practice_id, other.clinic.practice_id)
        longer = re.sub(r"expires=(\d+)", lambda m: f"expires={int(m.group(1)) + 86400}", link)

        answers = [(await frozen.client.get(url)).status_code for url in (forged, foreign, longer)]
        forged_cancel = await frozen.client.post(forged.replace("?", "/cancel?"))
        frozen.clock.advance(timedelta(days=3))
        expired = await frozen.client.get(link)

        assert answers == [404, 404, 404]
        assert forged_cancel.status_code == 404
        assert expired.status_code == 410
        [appointment] = await appointments_of(frozen.runtime, practice.clinic)
        assert appointment.status == AppointmentStatus.confirmed

    async def test_an_appointment_staff_booked_has_no_client_link(self, frozen: FrozenApp) -> None:
        practice = await create_practice(frozen.runtime)
        link = await book_first_slot(frozen, practice)
        async with frozen.runtime.sessions() as session, session.begin():
            [appointment] = await appointments_of(frozen.runtime, practice.clinic)
            stored = await session.get(type(appointment), appointment.id)
            assert stored is not None
            stored.booked_by_client = False

        page = await frozen.client.get(link)

        assert page.status_code == 404

    async def test_moving_to_a_taken_or_unreadable_time_is_refused_and_changes_nothing(
        self, frozen: FrozenApp
    ) -> None:
        practice = await create_practice(frozen.runtime)
        link = await book_first_slot(frozen, practice)
        path, query = link.split("?")
        [mine] = await appointments_of(frozen.runtime, practice.clinic)
        times = slot_values((await show_times(frozen.client, practice)).text)
        # Someone else takes 10:00 with the same practitioner.
        await frozen.client.post(
            f"{practice.page}/appointments",
            data=booking_form(
                practice, times[1], practitioner=str(mine.practitioner_id), email=f"b.{practice.email}"
            ),
        )

        taken = await frozen.client.post(f"{path}/reschedule?{query}", data={"slot": times[1]})
        unreadable = await frozen.client.post(f"{path}/reschedule?{query}", data={"slot": "noon"})
        too_many = await frozen.client.post(
            f"{path}/reschedule?{query}", data={f"field{n}": "x" for n in range(50)}
        )

        assert taken.status_code == 409
        assert "already booked" in taken.text
        assert unreadable.status_code == 400 and "slot: choose a time" in unreadable.text
        assert too_many.status_code == 400
        [still] = [a for a in await appointments_of(frozen.runtime, practice.clinic) if a.id == mine.id]
        assert (still.starts_at, still.version) == (mine.starts_at, mine.version)


class TestWithTheConsole:
    async def test_a_request_booked_on_the_widget_is_confirmed_by_staff_in_the_calendar(
        self, frozen: FrozenApp
    ) -> None:
        practice = await create_practice(frozen.runtime, requires_confirmation=True)
        await book_first_slot(frozen, practice)
        [request] = await appointments_of(frozen.runtime, practice.clinic)
        staff = frozen.new_client()
        async with staff:
            async with frozen.runtime.sessions() as session, session.begin():
                email, password = f"desk.{practice.email}", remember_secret("desk-password-123")
                await tenancy_service.create_user(
                    session, clinic_id=practice.clinic.id, email=email, name="Desk", password=password
                )
            assert (await sign_in(staff, email, password)).status_code == 303
            csrf = await page_csrf(staff, f"/console/calendar?week={TUESDAY.isoformat()}")
            confirmed = await staff.post(
                f"/console/calendar/appointments/{request.id}/confirm", data={"csrf_token": csrf}
            )

        assert confirmed.status_code == 303
        [appointment] = await appointments_of(frozen.runtime, practice.clinic)
        assert appointment.status == AppointmentStatus.confirmed
        assert await event_types(frozen.runtime, practice.clinic) == [
            "appointment.created",
            "appointment.updated",
        ]
