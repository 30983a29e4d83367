"""The public iCalendar feeds behind secret URLs, fetched as a calendar app would: no sign-in, no cookies."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from icalendar import Calendar

from clinicore.core.models import Appointment, Clinic, Practitioner
from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling import feeds as feed_service
from clinicore.core.scheduling.schemas import BookingRequest
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_lead, create_practitioner, set_booking_rules
from tests.support import remember_secret
from tests.web.console.pages import csrf_token, sign_in
from tests.web.frozen_console import FrozenApp, frozen_app

# Tuesday 4 March 2031 in New York (UTC-5): 10:00 local is 15:00Z.
TUESDAY_10AM = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
async def frozen(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


async def book(
    frozen: FrozenApp,
    clinic: Clinic,
    practitioner: Practitioner,
    starts_at: datetime,
    title: str,
    **extra: object,
) -> Appointment:
    async with frozen.runtime.sessions() as session, session.begin():
        return await booking_service.book_appointment(
            session,
            clinic_id=clinic.id,
            request=BookingRequest(
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=30),
                title=title,
                practitioner_id=practitioner.id,
                **extra,  # type: ignore[arg-type]
            ),
            source="console",
            clock=frozen.clock,
        )


async def feed_token(frozen: FrozenApp, clinic: Clinic, practitioner: Practitioner | None = None) -> str:
    async with frozen.runtime.sessions() as session, session.begin():
        token = await feed_service.rotate_calendar_token(
            session,
            box=frozen.runtime.box,
            clinic_id=clinic.id,
            practitioner_id=practitioner.id if practitioner else None,
            clock=frozen.clock,
        )
    return remember_secret(token)


async def fetch_feed(frozen: FrozenApp, token: str) -> httpx.Response:
    async with frozen.new_client() as calendar_app:
        return await calendar_app.get(f"/calendars/{token}.ics")


def events_of(response: httpx.Response) -> dict[str, dict[str, object]]:
    """The feed's events by title: start, end, status and uid."""
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    return {
        str(event["summary"]): {
            "start": event.decoded("dtstart"),
            "end": event.decoded("dtend"),
            "status": str(event["status"]),
            "uid": str(event["uid"]),
        }
        for event in calendar.walk("VEVENT")
    }


class TestPractitionerFeed:
    async def test_lists_that_practitioners_appointments_only(self, frozen: FrozenApp) -> None:
        arranged = await create_clinic(frozen.runtime)
        await set_booking_rules(frozen.runtime, arranged.clinic)
        rivera = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Rivera")
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        first = await book(frozen, arranged.clinic, rivera, TUESDAY_10AM, "Filler consult")
        await book(frozen, arranged.clinic, rivera, TUESDAY_10AM + timedelta(days=1), "Follow-up")
        await book(frozen, arranged.clinic, chen, TUESDAY_10AM, "Chen's consult")

        response = await fetch_feed(frozen, await feed_token(frozen, arranged.clinic, rivera))

        assert response.headers["content-type"] == "text/calendar; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        events = events_of(response)
        assert set(events) == {"Filler consult", "Follow-up"}
        assert events["Filler consult"] == {
            "start": TUESDAY_10AM,
            "end": TUESDAY_10AM + timedelta(minutes=30),
            "status": "CONFIRMED",
            "uid": f"{first.id}@testserver",
        }
        calendar = Calendar.from_ical(response.content)
        assert str(calendar["x-wr-calname"]) == f"{arranged.clinic.name}: Dr. Rivera"

    async def test_a_cancelled_appointment_stays_in_the_feed_as_cancelled(self, frozen: FrozenApp) -> None:
        arranged = await create_clinic(frozen.runtime)
        await set_booking_rules(frozen.runtime, arranged.clinic)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        appointment = await book(frozen, arranged.clinic, practitioner, TUESDAY_10AM, "Called off")
        async with frozen.runtime.sessions() as session, session.begin():
            await booking_service.cancel_appointment(
                session, clinic_id=arranged.clinic.id, appointment_id=appointment.id, clock=frozen.clock
            )
        events = events_of(await fetch_feed(frozen, await feed_token(frozen, arranged.clinic, practitioner)))
        # Calendar apps remove an event they see cancelled; one that just vanished can linger there.
        assert events["Called off"]["status"] == "CANCELLED"

    async def test_no_patient_details_reach_the_feed(self, frozen: FrozenApp) -> None:
        arranged = await create_clinic(frozen.runtime)
        await set_booking_rules(frozen.runtime, arranged.clinic)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        lead = await create_lead(frozen.runtime, arranged.clinic, full_name="Jane Patientname")
        await book(
            frozen,
            arranged.clinic,
            practitioner,
            TUESDAY_10AM,
            "Consultation",
            lead_id=lead.id,
            notes="allergic to lidocaine",
        )
        response = await fetch_feed(frozen, await feed_token(frozen, arranged.clinic, practitioner))
        assert set(events_of(response)) == {"Consultation"}
        for detail in ("Jane Patientname", "lidocaine", str(lead.email)):
            assert detail not in response.text


class TestClinicFeed:
    async def test_lists_every_practitioner_of_the_clinic_and_nothing_of_another_clinic(
        self, frozen: FrozenApp
    ) -> None:
        mine = await create_clinic(frozen.runtime)
        theirs = await create_clinic(frozen.runtime)
        for arranged in (mine, theirs):
            await set_booking_rules(frozen.runtime, arranged.clinic)
        rivera = await create_practitioner(frozen.runtime, mine.clinic, name="Dr. Rivera")
        chen = await create_practitioner(frozen.runtime, mine.clinic, name="Dr. Chen")
        other = await create_practitioner(frozen.runtime, theirs.clinic, name="Dr. Elsewhere")
        await book(frozen, mine.clinic, rivera, TUESDAY_10AM, "Rivera's consult")
        await book(frozen, mine.clinic, chen, TUESDAY_10AM, "Chen's consult")
        await book(frozen, theirs.clinic, other, TUESDAY_10AM, "Their consult")
        their_practitioner_token = await feed_token(frozen, theirs.clinic, other)

        my_feed = await fetch_feed(frozen, await feed_token(frozen, mine.clinic))
        their_feed = await fetch_feed(frozen, await feed_token(frozen, theirs.clinic))

        assert set(events_of(my_feed)) == {"Rivera's consult", "Chen's consult"}
        assert "Dr. Elsewhere" not in my_feed.text
        assert set(events_of(their_feed)) == {"Their consult"}
        assert set(events_of(await fetch_feed(frozen, their_practitioner_token))) == {"Their consult"}


class TestSecretUrls:
    async def test_an_unknown_token_is_not_found(self, frozen: FrozenApp) -> None:
        response = await fetch_feed(frozen, "no-such-calendar-token-at-all-000")
        assert response.status_code == 404
        assert "BEGIN:VCALENDAR" not in response.text

    async def test_rotating_in_the_console_stops_the_old_url_at_once(self, frozen: FrozenApp) -> None:
        arranged = await create_clinic(frozen.runtime)
        await set_booking_rules(frozen.runtime, arranged.clinic)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        await book(frozen, arranged.clinic, practitioner, TUESDAY_10AM, "Consultation")
        await sign_in(frozen.client, arranged.email, arranged.password)
        page_path = f"/console/practitioners/{practitioner.id}"

        async def rotate_and_read_url() -> str:
            page = await frozen.client.get(page_path)
            response = await frozen.client.post(
                f"{page_path}/calendar-feed", data={"csrf_token": csrf_token(page.text)}
            )
            assert response.status_code == 303
            shown = await frozen.client.get(page_path)
            match = re.search(
                r'data-testid="practitioner-feed-url">(http://testserver/calendars/[^<]+\.ics)<', shown.text
            )
            assert match
            remember_secret(match.group(1).rsplit("/", 1)[1].removesuffix(".ics"))
            return match.group(1).removeprefix("http://testserver")

        old_url = await rotate_and_read_url()
        async with frozen.new_client() as calendar_app:
            assert set(events_of(await calendar_app.get(old_url))) == {"Consultation"}
            new_url = await rotate_and_read_url()
            assert (await calendar_app.get(old_url)).status_code == 404
            assert set(events_of(await calendar_app.get(new_url))) == {"Consultation"}
