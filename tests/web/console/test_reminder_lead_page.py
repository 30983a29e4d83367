"""The reminder lead time on the console's booking widget page, through HTTP: shown, changed within its
range (``reminders.set_reminder_lead``), refused outside it without changing anything."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from clinicore.core.models import Clinic
from clinicore.core.scheduling import client_booking
from clinicore.core.scheduling.settings import get_booking_settings
from clinicore.runtime import Runtime
from tests.web.console.pages import page_csrf
from tests.web.console.test_scheduling_pages import signed_in_clinic
from tests.web.frozen_console import FrozenApp, frozen_app


@pytest.fixture
async def frozen(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


async def lead_and_notice(frozen: FrozenApp, clinic: Clinic) -> tuple[int, int]:
    async with frozen.runtime.sessions() as session, session.begin():
        lead = (await get_booking_settings(session, clinic_id=clinic.id)).reminder_lead_minutes
        notice = (
            await client_booking.get_widget_settings(session, clinic_id=clinic.id)
        ).client_change_notice_hours
        return lead, notice


async def test_the_page_shows_the_lead_and_staff_change_it(frozen: FrozenApp) -> None:
    arranged = await signed_in_clinic(frozen)
    page = await frozen.client.get("/console/booking-widget")
    assert 'name="reminder_lead_minutes"' in page.text and 'value="1440"' in page.text
    csrf = await page_csrf(frozen.client, "/console/booking-widget")

    saved = await frozen.client.post(
        "/console/booking-widget",
        data={"csrf_token": csrf, "client_change_notice_hours": "24", "reminder_lead_minutes": "120"},
    )

    assert saved.status_code == 303
    assert await lead_and_notice(frozen, arranged.clinic) == (120, 24)
    assert 'value="120"' in (await frozen.client.get("/console/booking-widget")).text


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("14", "between 15 and 20160"),
        ("20161", "between 15 and 20160"),
        ("-5", "between 15 and 20160"),
        ("an hour", "enter a whole number"),
        ("", "enter a whole number"),
        ("9" * 300, "at most 200 characters"),
    ],
)
async def test_a_lead_out_of_range_is_refused_and_changes_nothing(
    frozen: FrozenApp, minutes: str, message: str
) -> None:
    arranged = await signed_in_clinic(frozen)
    csrf = await page_csrf(frozen.client, "/console/booking-widget")

    refused = await frozen.client.post(
        "/console/booking-widget",
        data={"csrf_token": csrf, "client_change_notice_hours": "48", "reminder_lead_minutes": minutes},
    )

    assert refused.status_code == 400
    assert message in refused.text
    assert await lead_and_notice(frozen, arranged.clinic) == (1440, 24)  # the notice did not change either
