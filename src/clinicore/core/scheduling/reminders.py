"""Appointment reminders: planned with the appointment, sent by the worker.

- An appointment asks for a reminder by its ``reminder_channel``: email, sms, voice, or none (the client
  opted out; no reminder at all). Without a channel there is no reminder either.
- The reminder is due ``reminder_lead_minutes`` before the start (the clinic's booking setting, 24 hours
  by default). A reminder whose time has passed when it is planned (a booking made 3 hours ahead) is not
  made: a reminder after the fact would only confuse.
- Every change of the appointment re-plans it (``plan``): a reschedule moves it, a cancellation, a
  decline or a deletion drops it, and a new channel replaces it. A pending reminder that is replaced is
  kept as ``dropped`` (what was planned stays visible).
- The worker (``send_due``) hands an email reminder to the email outbox and an SMS reminder to the SMS
  outbox, in the clinic's local time. A voice reminder goes through a voice provider with the SMS
  provider's interface; none is configurable yet, so it is recorded as ``not_sent`` with the reason.
  A reminder whose client has no email (or phone) is ``not_sent`` too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import (
    Appointment,
    AppointmentReminder,
    AppointmentStatus,
    ReminderChannel,
    ReminderStatus,
)
from clinicore.core.notify import service as notify_service
from clinicore.core.notify import sms as sms_service
from clinicore.core.scheduling import notices
from clinicore.core.scheduling.settings import get_booking_settings
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput

MIN_LEAD_MINUTES = 15
MAX_LEAD_MINUTES = 14 * 24 * 60
NO_VOICE_PROVIDER = "no voice provider is configured"
SENDING_STATUSES = (AppointmentStatus.waiting_confirmation, AppointmentStatus.confirmed)


def wants_reminder(appointment: Appointment) -> bool:
    return (
        appointment.deleted_at is None
        and AppointmentStatus(appointment.status) in SENDING_STATUSES
        and appointment.reminder_channel is not None
        and appointment.reminder_channel != ReminderChannel.none
    )


async def pending_reminders(
    session: AsyncSession, *, appointment_id: uuid.UUID
) -> Sequence[AppointmentReminder]:
    return (
        await session.scalars(
            select(AppointmentReminder).where(
                AppointmentReminder.appointment_id == appointment_id,
                AppointmentReminder.status == ReminderStatus.pending,
            )
        )
    ).all()


async def reminders_of(session: AsyncSession, *, appointment_id: uuid.UUID) -> Sequence[AppointmentReminder]:
    return (
        await session.scalars(
            select(AppointmentReminder)
            .where(AppointmentReminder.appointment_id == appointment_id)
            .order_by(AppointmentReminder.created_at, AppointmentReminder.due_at, AppointmentReminder.id)
        )
    ).all()


async def plan(session: AsyncSession, appointment: Appointment, *, clock: Clock = system_clock) -> None:
    """Make the appointment's pending reminder what it now needs (see the module docstring)."""
    now = clock.now()
    wanted_at: datetime | None = None
    if wants_reminder(appointment):
        settings = await get_booking_settings(session, clinic_id=appointment.clinic_id, clock=clock)
        due_at = appointment.starts_at - timedelta(minutes=settings.reminder_lead_minutes)
        wanted_at = due_at if due_at > now else None
    keep: AppointmentReminder | None = None
    for reminder in await pending_reminders(session, appointment_id=appointment.id):
        if (
            keep is None
            and wanted_at is not None
            and reminder.due_at == wanted_at
            and reminder.channel == appointment.reminder_channel
        ):
            keep = reminder
            continue
        reminder.status, reminder.done_at = ReminderStatus.dropped, now
    if wanted_at is not None and keep is None and appointment.reminder_channel is not None:
        session.add(
            AppointmentReminder(
                clinic_id=appointment.clinic_id,
                appointment_id=appointment.id,
                channel=appointment.reminder_channel,
                status=ReminderStatus.pending,
                due_at=wanted_at,
                created_at=now,
            )
        )
    await session.flush()


async def set_reminder_lead(
    session: AsyncSession, *, clinic_id: uuid.UUID, minutes: int, clock: Clock = system_clock
) -> None:
    """The clinic's reminder lead time; reminders planned from then on use it."""
    if isinstance(minutes, bool) or not MIN_LEAD_MINUTES <= minutes <= MAX_LEAD_MINUTES:
        raise InvalidInput(
            f"reminder_lead_minutes: must be between {MIN_LEAD_MINUTES} and {MAX_LEAD_MINUTES}",
            field="reminder_lead_minutes",
        )
    settings = await get_booking_settings(session, clinic_id=clinic_id, clock=clock)
    settings.reminder_lead_minutes = minutes
    settings.updated_at = clock.now()
    await session.flush()


async def _claim_due(session: AsyncSession, *, now: datetime, limit: int) -> Sequence[AppointmentReminder]:
    query = (
        select(AppointmentReminder)
        .where(AppointmentReminder.status == ReminderStatus.pending, AppointmentReminder.due_at <= now)
        .order_by(AppointmentReminder.due_at, AppointmentReminder.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(query)).all()


async def send_due(
    session: AsyncSession,
    *,
    clock: Clock = system_clock,
    base_url: str,
    voice: sms_service.SmsProvider | None = None,
    limit: int = 50,
) -> int:
    """Send the reminders due now (each into its outbox, in this transaction); returns how many were
    handled. ``voice``: the voice provider (same interface as SMS), None when none is configured."""
    now = clock.now()
    handled = 0
    for reminder in await _claim_due(session, now=now, limit=limit):
        handled += 1
        appointment = await session.get(Appointment, reminder.appointment_id)
        if appointment is None or not wants_reminder(appointment) or appointment.starts_at <= now:
            reminder.status, reminder.done_at = ReminderStatus.dropped, now
            continue
        message = await notices.reminder_message(session, appointment, base_url=base_url)
        status, detail = ReminderStatus.sent, None
        if reminder.channel == ReminderChannel.email:
            if message.email is None:
                status, detail = ReminderStatus.not_sent, "the client has no email address"
            else:
                await notify_service.queue_email(
                    session,
                    clinic_id=appointment.clinic_id,
                    to_address=message.email,
                    subject=message.subject,
                    body=message.body,
                    clock=clock,
                )
        elif reminder.channel in (ReminderChannel.sms, ReminderChannel.voice):
            if message.phone is None:
                status, detail = ReminderStatus.not_sent, "the client has no phone number"
            elif reminder.channel == ReminderChannel.sms:
                await sms_service.queue_sms(
                    session,
                    clinic_id=appointment.clinic_id,
                    to_number=message.phone,
                    body=message.short,
                    clock=clock,
                )
            elif voice is None:
                status, detail = ReminderStatus.not_sent, NO_VOICE_PROVIDER
            else:
                try:
                    await voice.send(to_number=message.phone, body=message.spoken)
                except sms_service.SmsSendError as exc:
                    status, detail = ReminderStatus.not_sent, str(exc)[:300]
        reminder.status, reminder.detail, reminder.done_at = status, detail, now
    await session.flush()
    return handled
