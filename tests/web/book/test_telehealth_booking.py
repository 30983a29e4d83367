"""A client books a telehealth service on the booking widget: the appointment gets its video room, the
confirmation email carries the client's join link, the link opens the call page on the client's side,
and once the client cancels through their own link the room refuses to open."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from clinicore.core.scheduling import catalog, video_rooms
from clinicore.core.scheduling.schemas import ServiceInput
from clinicore.runtime import Runtime
from tests.web.book.practice import (
    Practice,
    appointments_of,
    booking_form,
    create_practice,
    emails_to,
    manage_link,
    show_times,
    slot_values,
)
from tests.web.frozen_console import FrozenApp, frozen_app

JOIN_LINK = re.compile(r"(https?://\S+/rooms/\S+/join\?\S+)")


@pytest.fixture
async def frozen(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


async def video_practice(frozen: FrozenApp) -> Practice:
    practice = await create_practice(frozen.runtime)
    async with frozen.runtime.sessions() as session, session.begin():
        await catalog.update_service(
            session,
            clinic_id=practice.clinic.id,
            service_id=practice.follow_up.id,
            data=ServiceInput(telehealth=True),
        )
    return practice


async def book(frozen: FrozenApp, practice: Practice, service: str) -> None:
    page = await show_times(frozen.client, practice, service=service)
    response = await frozen.client.post(
        f"{practice.page}/appointments",
        data=booking_form(practice, slot_values(page.text)[0], service=service),
    )
    assert response.status_code == 200, response.text


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_video_booking_gets_a_room_and_its_email_the_join_link(frozen: FrozenApp) -> None:
    practice = await video_practice(frozen)

    await book(frozen, practice, str(practice.follow_up.id))

    [appointment] = await appointments_of(frozen.runtime, practice.clinic)
    async with frozen.runtime.sessions() as session:
        room = await video_rooms.room_of(session, appointment_id=appointment.id)
    assert room is not None
    [email] = await emails_to(frozen.runtime, practice.email)
    match = JOIN_LINK.search(email.body)
    assert match is not None, email.body
    assert f"/rooms/{room.id}/join?expires=" in match.group(1)
    assert "/host?" not in email.body  # the practitioner's link is not the client's
    page = await frozen.client.get(local(match.group(1)))
    assert page.status_code == 200 and 'data-call-role="patient"' in page.text

    link = manage_link(email)
    path, query = link.split("?")
    assert (await frozen.client.post(f"{path}/cancel?{query}")).status_code == 200
    closed = await frozen.client.get(local(match.group(1)))
    assert closed.status_code == 410 and "cancelled" in closed.text


async def test_an_in_person_booking_gets_no_room_and_no_join_link(frozen: FrozenApp) -> None:
    practice = await video_practice(frozen)

    await book(frozen, practice, str(practice.consultation.id))

    [appointment] = await appointments_of(frozen.runtime, practice.clinic)
    async with frozen.runtime.sessions() as session:
        assert await video_rooms.room_of(session, appointment_id=appointment.id) is None
    [email] = await emails_to(frozen.runtime, practice.email)
    assert "/rooms/" not in email.body
