"""The console's services page through HTTP: a service is switched to video and back, and the next
appointment of a video service gets its room; another clinic's or an unknown service is a 404."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from clinicore.core.models import Service
from clinicore.core.scheduling import booking, catalog, video_rooms
from clinicore.core.scheduling.schemas import BookingRequest, ServiceInput
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_practitioner
from tests.web.console.pages import page_csrf
from tests.web.console.test_scheduling_pages import signed_in_clinic
from tests.web.frozen_console import FrozenApp, frozen_app


@pytest.fixture
async def frozen(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


async def make_service(frozen: FrozenApp, clinic_id: uuid.UUID, name: str) -> Service:
    async with frozen.runtime.sessions() as session, session.begin():
        return await catalog.create_service(
            session,
            clinic_id=clinic_id,
            data=ServiceInput(name=name, duration_minutes=30),
            clock=frozen.clock,
        )


async def is_video(frozen: FrozenApp, service: Service) -> bool:
    async with frozen.runtime.sessions() as session:
        found = await session.get(Service, service.id)
        assert found is not None
        return found.telehealth


async def test_staff_switch_a_service_to_video_and_its_next_appointment_gets_a_room(
    frozen: FrozenApp,
) -> None:
    arranged = await signed_in_clinic(frozen)
    await create_practitioner(frozen.runtime, arranged.clinic)  # weekdays 09:00-17:00
    service = await make_service(frozen, arranged.clinic.id, "Follow Up")
    page = await frozen.client.get("/console/services")
    assert page.status_code == 200 and "Follow Up" in page.text
    csrf = await page_csrf(frozen.client, "/console/services")

    saved = await frozen.client.post(
        f"/console/services/{service.id}", data={"csrf_token": csrf, "telehealth": "1"}
    )

    assert saved.status_code == 303 and await is_video(frozen, service)
    assert "checked" in (await frozen.client.get("/console/services")).text
    async with frozen.runtime.sessions() as session, session.begin():
        appointment = await booking.book_appointment(
            session,
            clinic_id=arranged.clinic.id,
            request=BookingRequest(
                starts_at=frozen.clock.now() + timedelta(days=1, hours=2), service_id=service.id
            ),
            source="console",
            clock=frozen.clock,
        )
        assert await video_rooms.room_of(session, appointment_id=appointment.id) is not None

    cleared = await frozen.client.post(f"/console/services/{service.id}", data={"csrf_token": csrf})
    assert cleared.status_code == 303 and not await is_video(frozen, service)


async def test_another_clinic_s_or_an_unknown_service_is_not_found(frozen: FrozenApp) -> None:
    await signed_in_clinic(frozen)
    other = await signed_in_clinic_elsewhere(frozen)
    csrf = await page_csrf(frozen.client, "/console/services")

    for target in (other.id, "not-a-service", uuid.uuid4()):
        answer = await frozen.client.post(
            f"/console/services/{target}", data={"csrf_token": csrf, "telehealth": "1"}
        )
        assert answer.status_code == 404
    assert not await is_video(frozen, other)


async def signed_in_clinic_elsewhere(frozen: FrozenApp) -> Service:
    """A service of another clinic (nobody of it is signed in)."""
    elsewhere = await create_clinic(frozen.runtime)
    return await make_service(frozen, elsewhere.clinic.id, "Elsewhere")
