"""Telehealth appointments through the IntakeQ Appointments API: ``TelehealthInfo`` on
``GET /appointments/{id}`` and in the webhook, its start and join links opening the call page and the
call for the practitioner and the client, the join link in the client's email, and a cancelled
appointment's room refusing to open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from clinicore.app import create_app
from clinicore.core.models import OutboundEmail, OutboundSms
from clinicore.core.scheduling import catalog
from clinicore.core.scheduling.schemas import ServiceInput
from clinicore.runtime import Runtime
from clinicore.worker.reminders import send_due_reminders
from tests.core.events.receiver import Receiver, running_receiver
from tests.factories import run_webhook_jobs
from tests.surfaces.intakeq.appointment_support import Practice, at, open_practice
from tests.surfaces.intakeq.test_appointments import endpoint
from tests.web.call.sockets import CallSocket, Refused


@pytest.fixture
async def iq(runtime: Runtime) -> AsyncIterator[Practice]:
    async for opened in open_practice(runtime):
        async with opened.runtime.sessions() as session, session.begin():
            await catalog.update_service(
                session,
                clinic_id=opened.clinic.id,
                service_id=opened.follow_up.id,
                data=ServiceInput(telehealth=True),
                clock=opened.clock,
            )
        yield opened


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


async def book_video(iq: Practice, **fields: Any) -> dict[str, Any]:
    return await iq.book(ServiceId=str(iq.follow_up.id), **fields)


def local(url: str) -> str:
    """The path and query of an absolute link (the test client speaks to the app directly)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def join_url(info: dict[str, Any]) -> str:
    invitation: str = info["Invitation"]
    [url] = [word for word in invitation.split() if word.startswith("http")]
    return url


class TestTelehealthInfo:
    async def test_a_telehealth_service_s_appointment_answers_its_video_room(self, iq: Practice) -> None:
        made = await book_video(iq)
        fetched = (await iq.get(f"/appointments/{made['Id']}")).json()

        info = fetched["TelehealthInfo"]
        assert info == made["TelehealthInfo"]
        assert info["Provider"] == "Clinicore"
        assert info["InvitationCode"] is None
        assert info["StartUrl"].startswith(f"http://testserver/rooms/{_uuid(info['Id'])}/host?expires=")
        assert join_url(info).startswith(f"http://testserver/rooms/{_uuid(info['Id'])}/join?expires=")

    async def test_an_in_person_appointment_has_none(self, iq: Practice) -> None:
        made = await iq.book()
        assert (await iq.get(f"/appointments/{made['Id']}")).json()["TelehealthInfo"] is None

    async def test_moving_onto_a_telehealth_service_gives_a_room(self, iq: Practice) -> None:
        made = await iq.book()
        moved = await iq.put(
            "/appointments", {"Id": made["Id"], "UtcDateTime": at(4, 10), "ServiceId": str(iq.follow_up.id)}
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["TelehealthInfo"]["StartUrl"].startswith("http://testserver/rooms/")

    async def test_the_webhook_carries_the_same_telehealth_info(
        self, iq: Practice, receiver: Receiver
    ) -> None:
        await endpoint(iq, receiver.url(), "intakeq", ["appointment.created"])
        made = await book_video(iq)
        while await run_webhook_jobs(iq.runtime, iq.clinic):
            pass
        [webhook] = receiver.received
        assert webhook.json()["EventType"] == "AppointmentCreated"
        assert webhook.json()["Appointment"]["TelehealthInfo"] == made["TelehealthInfo"]

    async def test_the_confirmation_email_carries_the_join_link(self, iq: Practice) -> None:
        made = await book_video(iq, SendClientEmailNotification=True)
        async with iq.runtime.sessions() as session:
            [email] = (
                await session.scalars(
                    select(OutboundEmail).where(OutboundEmail.to_address == iq.patient.email)
                )
            ).all()
        assert join_url(made["TelehealthInfo"]) in email.body
        assert made["TelehealthInfo"]["StartUrl"] not in email.body

    async def test_email_and_sms_reminders_carry_the_join_link(self, iq: Practice) -> None:
        emailed = await book_video(iq, UtcDateTime=at(5, 10), ReminderType="Email")
        texted = await book_video(iq, UtcDateTime=at(5, 12), ReminderType="Sms")
        iq.clock.set(datetime.fromtimestamp(at(4, 12) / 1000, UTC))  # both are due, neither begun
        async with iq.runtime.sessions() as session, session.begin():
            assert await send_due_reminders(session, iq.runtime) == 2
        async with iq.runtime.sessions() as session:
            [email] = (
                await session.scalars(
                    select(OutboundEmail).where(OutboundEmail.to_address == iq.patient.email)
                )
            ).all()
            [text] = (
                await session.scalars(select(OutboundSms).where(OutboundSms.clinic_id == iq.clinic.id))
            ).all()
        assert join_url(emailed["TelehealthInfo"]) in email.body
        assert join_url(texted["TelehealthInfo"]) in text.body


def _uuid(hex_id: str) -> str:
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


class TestTheRoom:
    async def test_both_links_open_the_call_page_for_their_side(self, iq: Practice) -> None:
        info = (await book_video(iq))["TelehealthInfo"]

        host = await iq.http.get(local(info["StartUrl"]))
        guest = await iq.http.get(local(join_url(info)))

        assert host.status_code == guest.status_code == 200
        assert 'data-call-role="provider"' in host.text and 'data-call-role="patient"' in guest.text
        assert "Rita Bennett" in host.text and "Follow Up with Dexter Morgan" in guest.text
        assert host.headers["cache-control"] == "private, no-store"

    async def test_the_practitioner_and_the_client_talk_through_the_room(self, iq: Practice) -> None:
        info = (await book_video(iq))["TelehealthInfo"]
        app = create_app(iq.runtime)
        host_call = _call_url(local(info["StartUrl"]))
        guest_call = _call_url(local(join_url(info)))

        async with CallSocket(app, host_call) as host, CallSocket(app, guest_call) as guest:
            await guest.send_json({"type": "hello", "media": True})
            assert await host.receive_json() == {"type": "hello", "media": True, "from": "patient"}
            await host.send_json({"type": "chat", "text": "Hello Rita"})
            assert await guest.receive_json() == {"type": "chat", "text": "Hello Rita", "from": "provider"}

    async def test_a_tampered_or_foreign_link_opens_nothing(self, iq: Practice) -> None:
        info = (await book_video(iq))["TelehealthInfo"]
        start = local(info["StartUrl"])
        tampered = start[:-4] + ("0000" if not start.endswith("0000") else "1111")

        assert (await iq.http.get(tampered)).status_code == 404
        assert (await iq.http.get(start.replace("/host?", "/join?"))).status_code == 404
        assert (await iq.http.get(start.split("?")[0])).status_code == 404
        assert (await iq.http.get("/rooms/not-a-room/host?signature=x&expires=1")).status_code == 404
        with pytest.raises(Refused):
            async with CallSocket(create_app(iq.runtime), _call_url(tampered)):
                pass
        with pytest.raises(Refused):  # a page of another site
            async with CallSocket(create_app(iq.runtime), _call_url(start), origin="http://evil.example"):
                pass

    async def test_a_cancelled_appointment_s_room_refuses_to_open(self, iq: Practice) -> None:
        made = await book_video(iq)
        info = made["TelehealthInfo"]
        cancelled = await iq.post("/appointments/cancellation", {"AppointmentId": made["Id"]})
        assert cancelled.status_code == 200

        page = await iq.http.get(local(join_url(info)))
        assert page.status_code == 410 and "cancelled" in page.text
        with pytest.raises(Refused):
            async with CallSocket(create_app(iq.runtime), _call_url(local(info["StartUrl"]))):
                pass

    async def test_a_link_past_its_expiry_shows_so(self, iq: Practice) -> None:
        made = await book_video(iq)
        info = made["TelehealthInfo"]
        iq.clock.set(datetime.fromtimestamp(made["EndDate"] / 1000, UTC) + timedelta(days=1))

        page = await iq.http.get(local(join_url(info)))
        assert page.status_code == 410 and "expired" in page.text


def _call_url(page: str) -> str:
    path, _, query = page.partition("?")
    return f"{path}/call?{query}"
