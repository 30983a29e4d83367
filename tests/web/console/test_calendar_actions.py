"""Staff confirm, decline, mark missed and delete appointments in the console calendar, through HTTP as a
signed-in clinic user; each action is the core's status move (or deletion), and its event reaches the
webhook endpoints of both vendors' formats."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from clinicore.core.models import Appointment, AppointmentStatus, Clinic, Event, Practitioner, WebhookFormat
from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling import hours as hours_service
from clinicore.core.scheduling.schemas import BookingRequest
from clinicore.runtime import Runtime
from tests.factories import create_practitioner
from tests.factories.webhooks import create_endpoint, deliveries_of, fan_out
from tests.web.console.pages import page_csrf
from tests.web.console.test_scheduling_pages import MONDAY, TUESDAY, signed_in_clinic, utc
from tests.web.frozen_console import FrozenApp, frozen_app


@pytest.fixture
async def frozen(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


async def booked(
    frozen: FrozenApp,
    clinic: Clinic,
    practitioner: Practitioner,
    starts_at: datetime,
    status: AppointmentStatus = AppointmentStatus.confirmed,
) -> Appointment:
    async with frozen.runtime.sessions() as session, session.begin():
        return await booking_service.book_appointment(
            session,
            clinic_id=clinic.id,
            request=BookingRequest(
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=30),
                title="Consultation",
                practitioner_id=practitioner.id,
                status=status,
            ),
            source="console",
            clock=frozen.clock,
        )


async def stored(frozen: FrozenApp, appointment: Appointment) -> Appointment:
    async with frozen.runtime.sessions() as session:
        found = await session.get(Appointment, appointment.id)
        assert found is not None
        return found


async def last_event(frozen: FrozenApp, appointment: Appointment) -> Event:
    async with frozen.runtime.sessions() as session:
        found = await session.scalar(
            select(Event).where(Event.aggregate_id == str(appointment.id)).order_by(Event.sequence.desc())
        )
        assert found is not None
        return found


async def act(
    frozen: FrozenApp, appointment: Appointment, action: str, *, csrf: str | None = None
) -> httpx.Response:
    token = csrf if csrf is not None else await page_csrf(frozen.client, "/console/calendar")
    return await frozen.client.post(
        f"/console/calendar/appointments/{appointment.id}/{action}", data={"csrf_token": token}
    )


class TestStatusActions:
    async def test_staff_confirm_a_request(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        request = await booked(
            frozen, arranged.clinic, chen, utc(TUESDAY, 10), AppointmentStatus.waiting_confirmation
        )

        response = await act(frozen, request, "confirm")

        assert response.status_code == 303
        assert response.headers["location"] == f"/console/calendar?week={TUESDAY.isoformat()}"
        assert (await stored(frozen, request)).status == AppointmentStatus.confirmed
        event = await last_event(frozen, request)
        assert event.type == "appointment.updated"
        assert event.payload["previous_status"] == "waiting_confirmation"
        assert event.payload["by_client"] is False

    async def test_staff_decline_a_request(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        request = await booked(
            frozen, arranged.clinic, chen, utc(TUESDAY, 10), AppointmentStatus.waiting_confirmation
        )

        response = await act(frozen, request, "decline")

        assert response.status_code == 303
        assert (await stored(frozen, request)).status == AppointmentStatus.declined

    async def test_staff_mark_a_confirmed_appointment_missed(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        appointment = await booked(frozen, arranged.clinic, chen, utc(TUESDAY, 10))

        response = await act(frozen, appointment, "missed")

        assert response.status_code == 303
        assert (await stored(frozen, appointment)).status == AppointmentStatus.missed

    async def test_a_move_the_status_table_forbids_shows_the_calendar_with_the_reason(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen)
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        appointment = await booked(frozen, arranged.clinic, chen, utc(TUESDAY, 10))

        response = await act(frozen, appointment, "decline")

        assert response.status_code == 400
        assert "cannot change from confirmed to declined" in response.text
        assert (await stored(frozen, appointment)).status == AppointmentStatus.confirmed

    async def test_confirming_re_checks_the_booking_rules(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        request = await booked(
            frozen, arranged.clinic, chen, utc(TUESDAY, 10), AppointmentStatus.waiting_confirmation
        )
        async with frozen.runtime.sessions() as session, session.begin():  # Dr. Chen takes Tuesday off
            await hours_service.set_date_override(
                session, clinic_id=arranged.clinic.id, practitioner_id=chen.id, day=TUESDAY, ranges=[]
            )

        response = await act(frozen, request, "confirm")

        assert response.status_code == 400
        assert "working hours" in response.text
        assert (await stored(frozen, request)).status == AppointmentStatus.waiting_confirmation


class TestDelete:
    async def test_a_deleted_appointment_leaves_the_calendar_and_frees_its_time(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen)
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        appointment = await booked(frozen, arranged.clinic, chen, utc(TUESDAY, 10))

        response = await act(frozen, appointment, "delete")
        calendar = await frozen.client.get(f"/console/calendar?week={TUESDAY.isoformat()}&show=all")
        again = await booked(frozen, arranged.clinic, chen, utc(TUESDAY, 10))

        assert response.status_code == 303
        assert (await stored(frozen, appointment)).deleted_at is not None
        assert str(appointment.id) not in calendar.text
        assert (await last_event(frozen, appointment)).type == "appointment.deleted"
        assert again.id != appointment.id

    async def test_deleting_twice_is_a_404(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        appointment = await booked(frozen, arranged.clinic, chen, utc(TUESDAY, 10))
        csrf = await page_csrf(frozen.client, "/console/calendar")
        await act(frozen, appointment, "delete", csrf=csrf)

        response = await act(frozen, appointment, "delete", csrf=csrf)

        assert response.status_code == 404


class TestGuards:
    @pytest.mark.parametrize("action", ["confirm", "decline", "missed", "delete"])
    async def test_another_clinic_s_appointment_is_a_404_and_stays_as_it_was(
        self, frozen: FrozenApp, action: str
    ) -> None:
        other = await signed_in_clinic(frozen)
        theirs = await booked(
            frozen,
            other.clinic,
            await create_practitioner(frozen.runtime, other.clinic, name="Dr. Other"),
            utc(TUESDAY, 10),
            AppointmentStatus.waiting_confirmation,
        )
        await signed_in_clinic(frozen)  # signs this browser in to another clinic

        response = await act(frozen, theirs, action)

        assert response.status_code == 404
        found = await stored(frozen, theirs)
        assert (found.status, found.deleted_at) == (AppointmentStatus.waiting_confirmation, None)

    @pytest.mark.parametrize("action", ["confirm", "decline", "missed", "delete"])
    async def test_a_post_without_the_form_s_token_is_refused(self, frozen: FrozenApp, action: str) -> None:
        arranged = await signed_in_clinic(frozen)
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        appointment = await booked(frozen, arranged.clinic, chen, utc(TUESDAY, 10))

        response = await act(frozen, appointment, action, csrf="forged")

        assert response.status_code == 403
        assert (await stored(frozen, appointment)).status == AppointmentStatus.confirmed

    async def test_the_calendar_offers_the_actions_each_status_allows(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        request = await booked(
            frozen, arranged.clinic, chen, utc(TUESDAY, 10), AppointmentStatus.waiting_confirmation
        )
        confirmed = await booked(frozen, arranged.clinic, chen, utc(TUESDAY, 11))

        page = await frozen.client.get(f"/console/calendar?week={MONDAY.isoformat()}")

        def actions(appointment: Appointment) -> list[str]:
            block = page.text.split(f'data-appointment-id="{appointment.id}"')[1].split(
                '<div class="appointment'
            )[0]
            return re.findall(r'data-testid="(\w+)-appointment"', block)

        assert actions(request) == ["confirm", "decline", "delete"]
        assert actions(confirmed) == ["missed", "delete"]


class TestWebhooks:
    async def test_a_console_action_reaches_both_vendors_endpoints(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        chen = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Chen")
        request = await booked(
            frozen, arranged.clinic, chen, utc(TUESDAY, 10), AppointmentStatus.waiting_confirmation
        )
        endpoints = {
            format: (
                await create_endpoint(
                    frozen.runtime, arranged.clinic, f"http://127.0.0.1:9/{format}", format=format
                )
            ).endpoint
            for format in (WebhookFormat.qualifybase, WebhookFormat.intakeq)
        }
        await fan_out(frozen.runtime, arranged.clinic)  # the booking's own event

        await act(frozen, request, "confirm")
        await fan_out(frozen.runtime, arranged.clinic)

        event = await last_event(frozen, request)
        delivered_to = {delivery.endpoint_id for delivery in await deliveries_of(frozen.runtime, event)}
        assert delivered_to == {endpoint.id for endpoint in endpoints.values()}
