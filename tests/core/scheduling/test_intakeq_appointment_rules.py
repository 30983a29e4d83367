"""Core rules added for the IntakeQ appointments: reminders (planned, moved, dropped, sent), deleted
appointments kept 10 days, the appointment search, the view an event carries, a service change, the
client's confirmation email and the local wording of times."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clinicore.core.models import (
    AppointmentStatus,
    Event,
    OutboundEmail,
    ReminderChannel,
    ReminderStatus,
)
from clinicore.core.scheduling import booking, details, notices, reminders, search
from clinicore.core.scheduling.schemas import AppointmentChanges, BookingRequest
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.surfaces.intakeq.appointment_support import NOW, Practice, open_practice


@pytest.fixture
async def iq(runtime: Runtime) -> AsyncIterator[Practice]:
    async for opened in open_practice(runtime):
        yield opened


async def book(iq: Practice, *, days: float = 2, **fields: object) -> uuid.UUID:
    values: dict[str, object] = {
        "starts_at": NOW + timedelta(days=days, hours=2),
        "practitioner_id": iq.practitioner.id,
        "client_id": iq.patient.id,
        "service_id": iq.initial.id,
    } | fields
    async with iq.runtime.sessions() as session, session.begin():
        made = await booking.book_appointment(
            session,
            clinic_id=iq.clinic.id,
            request=BookingRequest(**values),  # type: ignore[arg-type]
            source="console",
            clock=iq.clock,
        )
    return made.id


async def statuses(iq: Practice, appointment_id: uuid.UUID) -> list[tuple[str, datetime]]:
    async with iq.runtime.sessions() as session:
        rows = await reminders.reminders_of(session, appointment_id=appointment_id)
    return [(row.status, row.due_at) for row in rows]


class TestReminderPlanning:
    async def test_due_the_clinic_lead_before_the_start(self, iq: Practice) -> None:
        made = await book(iq, reminder_channel=ReminderChannel.sms)
        assert await statuses(iq, made) == [(ReminderStatus.pending, NOW + timedelta(days=1, hours=2))]

    async def test_the_lead_is_a_clinic_setting(self, iq: Practice) -> None:
        async with iq.runtime.sessions() as session, session.begin():
            await reminders.set_reminder_lead(session, clinic_id=iq.clinic.id, minutes=120, clock=iq.clock)
        made = await book(iq, reminder_channel=ReminderChannel.email)
        assert await statuses(iq, made) == [(ReminderStatus.pending, NOW + timedelta(days=2))]
        async with iq.runtime.sessions() as session:
            for wrong in (0, 14, 14 * 24 * 60 + 1):
                with pytest.raises(InvalidInput):
                    await reminders.set_reminder_lead(session, clinic_id=iq.clinic.id, minutes=wrong)

    async def test_none_without_a_channel_when_opted_out_or_when_already_past(self, iq: Practice) -> None:
        assert await statuses(iq, await book(iq)) == []
        assert await statuses(iq, await book(iq, days=3, reminder_channel=ReminderChannel.none)) == []
        soon = await book(iq, days=0, reminder_channel=ReminderChannel.sms)  # 2 hours ahead: 24 h is past
        assert await statuses(iq, soon) == []

    async def test_moved_by_a_reschedule_dropped_by_decline_and_delete(self, iq: Practice) -> None:
        made = await book(
            iq, reminder_channel=ReminderChannel.sms, status=AppointmentStatus.waiting_confirmation
        )
        async with iq.runtime.sessions() as session, session.begin():
            await booking.update_appointment(
                session,
                clinic_id=iq.clinic.id,
                appointment_id=made,
                changes=AppointmentChanges(starts_at=NOW + timedelta(days=3, hours=2)),
                clock=iq.clock,
            )
        assert [s for s, _ in await statuses(iq, made)] == [ReminderStatus.dropped, ReminderStatus.pending]
        async with iq.runtime.sessions() as session, session.begin():
            await booking.update_appointment(
                session,
                clinic_id=iq.clinic.id,
                appointment_id=made,
                changes=AppointmentChanges(status=AppointmentStatus.declined),
                clock=iq.clock,
            )
        assert [s for s, _ in await statuses(iq, made)] == [ReminderStatus.dropped] * 2

        other = await book(iq, days=4, reminder_channel=ReminderChannel.email)
        async with iq.runtime.sessions() as session, session.begin():
            await booking.delete_appointment(
                session, clinic_id=iq.clinic.id, appointment_id=other, clock=iq.clock
            )
        assert [s for s, _ in await statuses(iq, other)] == [ReminderStatus.dropped]

    async def test_a_client_without_email_is_recorded_as_not_sent(self, iq: Practice) -> None:
        phone_only = await iq.add_client("Nora Quinn", phone="+12125550199")
        async with iq.runtime.sessions() as session, session.begin():
            client = await session.get(type(phone_only), phone_only.id)
            assert client is not None
            client.email = None
        made = await book(iq, client_id=phone_only.id, reminder_channel=ReminderChannel.email)
        iq.clock.set(NOW + timedelta(days=1, hours=3))
        async with iq.runtime.sessions() as session, session.begin():
            assert await reminders.send_due(session, clock=iq.clock, base_url="http://testserver") >= 1
        async with iq.runtime.sessions() as session:
            [row] = await reminders.reminders_of(session, appointment_id=made)
        assert (row.status, row.detail) == (ReminderStatus.not_sent, "the client has no email address")


class TestDeletedRetention:
    async def test_found_among_the_deleted_for_ten_days_only(self, iq: Practice) -> None:
        made = await book(iq)
        async with iq.runtime.sessions() as session, session.begin():
            await booking.delete_appointment(
                session, clinic_id=iq.clinic.id, appointment_id=made, clock=iq.clock
            )
            with pytest.raises(NotFound):
                await booking.delete_appointment(session, clinic_id=iq.clinic.id, appointment_id=made)

        async def deleted_at(moment: datetime) -> list[uuid.UUID]:
            async with iq.runtime.sessions() as session:
                rows = await search.search_appointments(
                    session,
                    clinic_id=iq.clinic.id,
                    time_zone="America/New_York",
                    search=search.AppointmentSearch(deleted_only=True),
                    now=moment,
                    limit=10,
                    offset=0,
                )
            return [row.id for row in rows]

        assert await deleted_at(NOW + search.DELETED_RETENTION - timedelta(seconds=1)) == [made]
        assert await deleted_at(NOW + search.DELETED_RETENTION) == []

    async def test_deletion_is_an_event(self, iq: Practice) -> None:
        made = await book(iq)
        async with iq.runtime.sessions() as session, session.begin():
            await booking.delete_appointment(
                session, clinic_id=iq.clinic.id, appointment_id=made, clock=iq.clock
            )
        async with iq.runtime.sessions() as session:
            types = (
                await session.scalars(
                    select(Event.type)
                    .where(Event.aggregate_id == str(made))
                    .order_by(Event.aggregate_version)
                )
            ).all()
        assert list(types) == ["appointment.created", "appointment.deleted"]


class TestSearch:
    async def test_client_text_is_literal(self, iq: Practice) -> None:
        await book(iq)
        async with iq.runtime.sessions() as session:
            for text, found in (("ita ben", 1), ("_", 0), ("%", 0), ("RITA", 1)):
                rows = await search.search_appointments(
                    session,
                    clinic_id=iq.clinic.id,
                    time_zone="America/New_York",
                    search=search.AppointmentSearch(client_text=text),
                    now=NOW,
                    limit=10,
                    offset=0,
                )
                assert len(rows) == found, text


class TestEventsCarryTheView:
    async def test_payload_view_round_trips_and_says_who_acted(self, iq: Practice) -> None:
        made = await book(
            iq, booked_by_client=True, created_by="Rita Bennett", reminder_channel=ReminderChannel.sms
        )
        async with iq.runtime.sessions() as session:
            event = await session.scalar(select(Event).where(Event.aggregate_id == str(made)))
            assert event is not None
            appointment = await booking.get_appointment(session, clinic_id=iq.clinic.id, appointment_id=made)
            view = await details.view_of(session, appointment)
        assert event.payload["by_client"] is True
        assert details.AppointmentView.from_payload(event.payload["view"]) == view
        assert view.client_number == iq.patient.number and view.service_name == "Initial Consultation"
        assert view.booked_by_client and view.created_by == "Rita Bennett"

    async def test_a_status_change_names_the_status_it_left(self, iq: Practice) -> None:
        made = await book(iq, status=AppointmentStatus.waiting_confirmation)
        async with iq.runtime.sessions() as session, session.begin():
            await booking.update_appointment(
                session,
                clinic_id=iq.clinic.id,
                appointment_id=made,
                changes=AppointmentChanges(status=AppointmentStatus.confirmed),
                clock=iq.clock,
                by_client=True,
            )
        async with iq.runtime.sessions() as session:
            updated = await session.scalar(
                select(Event).where(Event.aggregate_id == str(made), Event.type == "appointment.updated")
            )
        assert updated is not None
        assert updated.payload["previous_status"] == "waiting_confirmation" and updated.payload["by_client"]
        assert "previous" not in updated.payload


class TestServiceChange:
    async def test_takes_the_new_length_and_price_and_rechecks_the_time(self, iq: Practice) -> None:
        made = await book(iq)
        blocker = await book(
            iq, starts_at=NOW + timedelta(days=2, hours=3, minutes=30), service_id=iq.follow_up.id
        )
        async with iq.runtime.sessions() as session, session.begin():
            changed = await booking.update_appointment(
                session,
                clinic_id=iq.clinic.id,
                appointment_id=made,
                changes=AppointmentChanges(service_id=iq.follow_up.id),
                clock=iq.clock,
            )
            assert (changed.ends_at - changed.starts_at, changed.price) == (
                timedelta(minutes=30),
                iq.follow_up.price,
            )
        async with iq.runtime.sessions() as session, session.begin():
            changed = await booking.update_appointment(
                session,
                clinic_id=iq.clinic.id,
                appointment_id=made,
                changes=AppointmentChanges(service_id=iq.initial.id),
                clock=iq.clock,
            )
            assert changed.ends_at - changed.starts_at == timedelta(minutes=60)
        async with iq.runtime.sessions() as session:
            with pytest.raises(Conflict):  # the appointment, 60 minutes again, holds that time
                await booking.update_appointment(
                    session,
                    clinic_id=iq.clinic.id,
                    appointment_id=blocker,
                    changes=AppointmentChanges(starts_at=NOW + timedelta(days=2, hours=2, minutes=30)),
                    clock=iq.clock,
                )


class TestConfirmationEmail:
    async def test_only_for_a_confirmed_appointment(self, iq: Practice) -> None:
        made = await book(iq, status=AppointmentStatus.waiting_confirmation)
        async with iq.runtime.sessions() as session:
            appointment = await booking.get_appointment(session, clinic_id=iq.clinic.id, appointment_id=made)
            with pytest.raises(InvalidInput):
                await notices.queue_confirmation_email(session, appointment, base_url="http://testserver")

    async def test_carries_the_ics_and_the_local_time(self, iq: Practice) -> None:
        made = await book(iq)
        async with iq.runtime.sessions() as session, session.begin():
            appointment = await booking.get_appointment(session, clinic_id=iq.clinic.id, appointment_id=made)
            assert await notices.queue_confirmation_email(
                session, appointment, base_url="http://testserver", clock=iq.clock
            )
        async with iq.runtime.sessions() as session:
            email = await session.scalar(
                select(OutboundEmail).where(OutboundEmail.to_address == iq.patient.email)
            )
        assert email is not None and email.attachment_name == "appointment.ics"
        assert email.attachment_content is not None and b"BEGIN:VCALENDAR" in email.attachment_content
        assert "Wednesday, March 5, 2031 at 10:00 AM EST" in email.body


class TestLocalWording:
    @pytest.mark.parametrize(
        ("moment", "zone", "expected"),
        [
            (
                datetime(2031, 3, 8, 17, 0, tzinfo=UTC),
                "America/New_York",
                "Saturday, March 8, 2031 at 12:00 PM EST",
            ),
            (
                datetime(2031, 3, 9, 17, 0, tzinfo=UTC),
                "America/New_York",
                "Sunday, March 9, 2031 at 1:00 PM EDT",
            ),
            (datetime(2031, 7, 1, 0, 5, tzinfo=UTC), "Europe/London", "Tuesday, July 1, 2031 at 1:05 AM BST"),
        ],
    )
    def test_the_wall_time_with_its_zone(self, moment: datetime, zone: str, expected: str) -> None:
        assert notices.local_wording(moment, zone) == expected
