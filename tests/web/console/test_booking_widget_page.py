"""The console's booking widget page through HTTP: the booking page's address, the embed snippet, and the
two settings the booking page obeys (confirmation, how late a client may change an appointment)."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest

from clinicore.core.models import Clinic
from clinicore.core.scheduling import client_booking
from clinicore.runtime import Runtime
from tests.web.console.pages import page_csrf
from tests.web.console.test_scheduling_pages import signed_in_clinic
from tests.web.frozen_console import FrozenApp, frozen_app


@pytest.fixture
async def frozen(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


async def widget_settings(frozen: FrozenApp, clinic: Clinic) -> tuple[bool, int]:
    async with frozen.runtime.sessions() as session, session.begin():
        found = await client_booking.get_widget_settings(session, clinic_id=clinic.id)
        return found.requires_confirmation, found.client_change_notice_hours


async def test_the_page_shows_the_booking_page_and_its_snippet(frozen: FrozenApp) -> None:
    arranged = await signed_in_clinic(frozen)

    page = await frozen.client.get("/console/booking-widget")

    assert page.status_code == 200
    base = frozen.runtime.settings.base_url
    practice_id = arranged.clinic.practice_id
    assert f"{base}/book/{practice_id}" in page.text
    snippet = f'<script src="{base}/static/book-embed.js" data-practice="{practice_id}" async></script>'
    assert snippet in html.unescape(page.text)
    assert snippet not in page.text  # shown as text, never run


async def test_staff_change_the_settings_and_the_booking_page_obeys_them(frozen: FrozenApp) -> None:
    arranged = await signed_in_clinic(frozen)
    assert await widget_settings(frozen, arranged.clinic) == (False, 24)
    csrf = await page_csrf(frozen.client, "/console/booking-widget")

    saved = await frozen.client.post(
        "/console/booking-widget",
        data={"csrf_token": csrf, "requires_confirmation": "1", "client_change_notice_hours": "48"},
    )

    assert saved.status_code == 303
    assert await widget_settings(frozen, arranged.clinic) == (True, 48)


@pytest.mark.parametrize(
    ("hours", "message"), [("721", "between 0 and 720"), ("soon", "enter a whole number")]
)
async def test_a_bad_notice_is_refused_and_changes_nothing(
    frozen: FrozenApp, hours: str, message: str
) -> None:
    arranged = await signed_in_clinic(frozen)
    csrf = await page_csrf(frozen.client, "/console/booking-widget")

    refused = await frozen.client.post(
        "/console/booking-widget", data={"csrf_token": csrf, "client_change_notice_hours": hours}
    )

    assert refused.status_code == 400
    assert message in refused.text
    assert await widget_settings(frozen, arranged.clinic) == (False, 24)
