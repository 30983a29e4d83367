"""The video room of a telehealth appointment (``core/scheduling/video_rooms.py``): made for telehealth
services only, by every create and service move; its signed links; closed once the appointment is
cancelled or deleted; links refused when tampered with or past their expiry."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from clinicore.core.models import Appointment, AppointmentRoom, Service
from clinicore.core.partners import brand as partner_brand
from clinicore.core.partners.brand import BrandSettings
from clinicore.core.scheduling import booking, catalog, details, video_rooms
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.scheduling.schemas import AppointmentChanges, BookingRequest, ServiceInput
from clinicore.core.telehealth.call import CallRole
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_practitioner, set_booking_rules

NOW = datetime(2031, 3, 3, 13, 0, tzinfo=UTC)  # Monday 08:00 in New York
START = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York


@dataclasses.dataclass
class Arranged:
    runtime: Runtime
    clock: FrozenClock
    clinic_id: uuid.UUID
    video: Service
    in_person: Service


@pytest.fixture
async def arranged(runtime: Runtime) -> Arranged:
    clock = FrozenClock(NOW)
    frozen = dataclasses.replace(runtime, clock=clock)
    clinic = (await create_clinic(frozen)).clinic
    await create_practitioner(
        frozen, clinic, weekly={day: [LocalRange(time(8), time(20))] for day in range(7)}
    )
    await set_booking_rules(frozen, clinic)
    async with frozen.sessions() as session, session.begin():
        video = await catalog.create_service(
            session,
            clinic_id=clinic.id,
            data=ServiceInput(name="Video Follow Up", duration_minutes=30, telehealth=True),
            clock=clock,
        )
        in_person = await catalog.create_service(
            session, clinic_id=clinic.id, data=ServiceInput(name="Exam", duration_minutes=30), clock=clock
        )
    return Arranged(frozen, clock, clinic.id, video, in_person)


async def _book(arranged: Arranged, service: Service, starts_at: datetime = START) -> Appointment:
    async with arranged.runtime.sessions() as session, session.begin():
        return await booking.book_appointment(
            session,
            clinic_id=arranged.clinic_id,
            request=BookingRequest(starts_at=starts_at, service_id=service.id),
            source="console",
            clock=arranged.clock,
        )


async def _room(arranged: Arranged, appointment_id: uuid.UUID) -> AppointmentRoom | None:
    async with arranged.runtime.sessions() as session:
        return await video_rooms.room_of(session, appointment_id=appointment_id)


async def _links(arranged: Arranged, appointment_id: uuid.UUID) -> details.AppointmentView:
    async with arranged.runtime.sessions() as session:
        appointment = await session.get(Appointment, appointment_id)
        assert appointment is not None
        return await details.view_of(session, appointment)


async def _open(arranged: Arranged, url: str, **changes: str) -> video_rooms.OpenedRoom:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()} | changes
    _, _, room_id, side = parts.path.split("/")
    async with arranged.runtime.sessions() as session:
        return await video_rooms.open_room(
            session,
            room_id=room_id,
            side=side,
            signature=query["signature"],
            expires=query.get("expires"),
            links=arranged.runtime.links,
            clock=arranged.clock,
        )


class TestWhoGetsARoom:
    async def test_a_telehealth_service_s_appointment_gets_one_room(self, arranged: Arranged) -> None:
        appointment = await _book(arranged, arranged.video)

        room = await _room(arranged, appointment.id)
        view = await _links(arranged, appointment.id)

        assert room is not None
        assert view.telehealth_room_id == room.id
        assert view.telehealth_start_url is not None
        assert view.telehealth_start_url.startswith(f"http://testserver/rooms/{room.id}/host?")
        assert view.telehealth_join_url is not None
        assert view.telehealth_join_url.startswith(f"http://testserver/rooms/{room.id}/join?")

    async def test_an_in_person_service_s_appointment_gets_none(self, arranged: Arranged) -> None:
        appointment = await _book(arranged, arranged.in_person)

        assert await _room(arranged, appointment.id) is None
        assert (await _links(arranged, appointment.id)).telehealth_start_url is None

    async def test_moving_onto_a_telehealth_service_makes_the_room_and_moving_off_removes_it(
        self, arranged: Arranged
    ) -> None:
        appointment = await _book(arranged, arranged.in_person)

        async with arranged.runtime.sessions() as session, session.begin():
            await booking.update_appointment(
                session,
                clinic_id=arranged.clinic_id,
                appointment_id=appointment.id,
                changes=AppointmentChanges(service_id=arranged.video.id),
                clock=arranged.clock,
            )
        room = await _room(arranged, appointment.id)
        assert room is not None
        start_url = (await _links(arranged, appointment.id)).telehealth_start_url
        assert start_url is not None

        async with arranged.runtime.sessions() as session, session.begin():
            await booking.update_appointment(
                session,
                clinic_id=arranged.clinic_id,
                appointment_id=appointment.id,
                changes=AppointmentChanges(service_id=arranged.in_person.id),
                clock=arranged.clock,
            )
        assert await _room(arranged, appointment.id) is None
        with pytest.raises(NotFound):
            await _open(arranged, start_url)

    async def test_a_reschedule_keeps_the_room_and_moves_the_links_expiry(self, arranged: Arranged) -> None:
        appointment = await _book(arranged, arranged.video)
        before = await _links(arranged, appointment.id)

        async with arranged.runtime.sessions() as session, session.begin():
            await booking.update_appointment(
                session,
                clinic_id=arranged.clinic_id,
                appointment_id=appointment.id,
                changes=AppointmentChanges(starts_at=START + timedelta(days=1)),
                clock=arranged.clock,
            )
        after = await _links(arranged, appointment.id)

        assert after.telehealth_room_id == before.telehealth_room_id
        assert after.telehealth_join_url != before.telehealth_join_url
        assert after.telehealth_join_url is not None
        expires = int(parse_qs(urlsplit(after.telehealth_join_url).query)["expires"][0])
        assert expires == int((START + timedelta(days=2, minutes=30)).timestamp())

    async def test_the_telehealth_flag_must_be_a_boolean(self, arranged: Arranged) -> None:
        async with arranged.runtime.sessions() as session:
            with pytest.raises(InvalidInput) as refused:
                await catalog.update_service(
                    session,
                    clinic_id=arranged.clinic_id,
                    service_id=arranged.in_person.id,
                    data=ServiceInput(telehealth="yes"),  # type: ignore[arg-type]
                )
        assert refused.value.field == "telehealth"


class TestOpening:
    async def test_each_link_seats_its_side(self, arranged: Arranged) -> None:
        appointment = await _book(arranged, arranged.video)
        view = await _links(arranged, appointment.id)
        assert view.telehealth_start_url is not None and view.telehealth_join_url is not None

        host = await _open(arranged, view.telehealth_start_url)
        guest = await _open(arranged, view.telehealth_join_url)

        assert host.seat().role is CallRole.provider
        assert guest.seat().role is CallRole.patient
        assert host.seat().room == guest.seat().room == f"appointment:{view.telehealth_room_id}"

    async def test_a_tampered_link_is_not_found(self, arranged: Arranged) -> None:
        appointment = await _book(arranged, arranged.video)
        view = await _links(arranged, appointment.id)
        assert view.telehealth_join_url is not None
        join = view.telehealth_join_url
        signature = parse_qs(urlsplit(join).query)["signature"][0]
        expires = parse_qs(urlsplit(join).query)["expires"][0]

        with pytest.raises(NotFound):
            await _open(arranged, join, signature="0" * len(signature))
        with pytest.raises(NotFound):  # a later expiry is not signed
            await _open(arranged, join, expires=str(int(expires) + 86400))
        with pytest.raises(NotFound):  # the client's signature does not open the practitioner's side
            await _open(arranged, join.replace("/join?", "/host?"))
        with pytest.raises(NotFound):
            await _open(arranged, join, expires="9" * 40)

    async def test_a_link_past_its_expiry_is_refused(self, arranged: Arranged) -> None:
        appointment = await _book(arranged, arranged.video)
        view = await _links(arranged, appointment.id)
        assert view.telehealth_join_url is not None
        arranged.clock.set(appointment.ends_at + video_rooms.LINK_VALID_AFTER_END - timedelta(seconds=1))
        await _open(arranged, view.telehealth_join_url)

        arranged.clock.set(appointment.ends_at + video_rooms.LINK_VALID_AFTER_END)
        with pytest.raises(Conflict) as refused:
            await _open(arranged, view.telehealth_join_url)
        assert refused.value.rule == "video_room.link_expired"

    async def test_a_cancelled_appointment_s_room_refuses_to_open(self, arranged: Arranged) -> None:
        appointment = await _book(arranged, arranged.video)
        view = await _links(arranged, appointment.id)
        assert view.telehealth_start_url is not None and view.telehealth_room_id is not None

        async with arranged.runtime.sessions() as session, session.begin():
            await booking.cancel_appointment(
                session, clinic_id=arranged.clinic_id, appointment_id=appointment.id, clock=arranged.clock
            )
        with pytest.raises(Conflict) as refused:
            await _open(arranged, view.telehealth_start_url)
        assert refused.value.rule == "video_room.closed"
        async with arranged.runtime.sessions() as session:
            assert not await video_rooms.room_still_open(session, room_id=view.telehealth_room_id)

    async def test_a_deleted_appointment_s_room_refuses_to_open(self, arranged: Arranged) -> None:
        appointment = await _book(arranged, arranged.video)
        view = await _links(arranged, appointment.id)
        assert view.telehealth_join_url is not None

        async with arranged.runtime.sessions() as session, session.begin():
            await booking.delete_appointment(
                session, clinic_id=arranged.clinic_id, appointment_id=appointment.id, clock=arranged.clock
            )
        with pytest.raises(Conflict):
            await _open(arranged, view.telehealth_join_url)


class TestWhereTheLinksPoint:
    async def test_a_partner_practice_s_links_are_on_the_partner_s_host(self, runtime: Runtime) -> None:
        clock = FrozenClock(NOW)
        frozen = dataclasses.replace(runtime, clock=clock)
        host = f"video-{secrets.token_hex(4)}.acme.example"
        async with frozen.sessions() as session, session.begin():
            partner = await tenancy_service.create_partner(session, name=f"P {secrets.token_hex(4)}")
            await partner_brand.update_brand(
                session, partner_id=partner.id, settings=BrandSettings(host_names=[host])
            )
            clinic = await tenancy_service.create_clinic(
                session, name="Harbor", time_zone="America/New_York", partner_id=partner.id
            )
        await create_practitioner(
            frozen, clinic, weekly={day: [LocalRange(time(8), time(20))] for day in range(7)}
        )
        await set_booking_rules(frozen, clinic)
        async with frozen.sessions() as session, session.begin():
            video = await catalog.create_service(
                session,
                clinic_id=clinic.id,
                data=ServiceInput(name="Video", duration_minutes=30, telehealth=True),
                clock=clock,
            )
        arranged = Arranged(frozen, clock, clinic.id, video, video)

        view = await _links(arranged, (await _book(arranged, video)).id)

        assert view.telehealth_start_url is not None and view.telehealth_join_url is not None
        assert view.telehealth_start_url.startswith(f"http://{host}/rooms/")
        assert view.telehealth_join_url.startswith(f"http://{host}/rooms/")
        await _open(arranged, view.telehealth_start_url)  # the host does not enter the signature
