"""What a client is told about an appointment: the confirmation email (with the appointment as an
``.ics`` attachment) and the reminder texts.

Every time a client reads is the appointment's local time (its location's zone, else the clinic's) with
the zone's abbreviation, never UTC; the clinic is named as its brand shows it (``tenancy.brand``). The
``.ics`` carries the instants themselves (calendar apps show them in the reader's zone). A telehealth
appointment's email and reminders carry the client's join link of its video room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Appointment, AppointmentStatus
from clinicore.core.notify import service as notify_service
from clinicore.core.scheduling import details
from clinicore.core.scheduling.ical import appointments_calendar
from clinicore.core.tenancy.brand import brand_for_clinic
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput

ICS_TYPE = "text/calendar"


def local_wording(moment: datetime, zone: str) -> str:
    """``Tuesday, March 9, 2027 at 3:00 PM EST``: the wall time in ``zone`` with the zone's abbreviation."""
    local = moment.astimezone(ZoneInfo(zone))
    hour = local.strftime("%I").lstrip("0") or "12"
    return (
        f"{local:%A}, {local:%B} {local.day}, {local.year} at {hour}:{local:%M} {local:%p} {local.tzname()}"
    )


@dataclass(frozen=True, slots=True)
class ReminderMessage:
    email: str | None
    phone: str | None
    subject: str
    body: str
    short: str  # an SMS (with a telehealth appointment's join link)
    spoken: str  # a voice message (no link: nobody types a link they heard)


def _what(view: details.AppointmentView) -> str:
    what = view.service_name or view.title
    return f"{what} with {view.practitioner_name}"


def _where(view: details.AppointmentView) -> str:
    if view.location_name is None:
        return ""
    address = f" ({view.location_address})" if view.location_address else ""
    return f"\nWhere: {view.location_name}{address}"


def join_link_text(view: details.AppointmentView) -> str:
    """A telehealth appointment's join link (its video room's, ``video_rooms``), or nothing."""
    if view.telehealth_join_url is None:
        return ""
    return (
        "\n\nThis is a video visit. At its time, join it with this link (keep it private: it opens your"
        f" visit):\n{view.telehealth_join_url}"
    )


async def reminder_message(
    session: AsyncSession, appointment: Appointment, *, base_url: str
) -> ReminderMessage:
    view = await details.view_of(session, appointment)
    brand = await brand_for_clinic(session, appointment.clinic_id)
    when = local_wording(view.starts_at, view.time_zone)
    greeting = f"Hello {view.client_name}," if view.client_name else "Hello,"
    body = (
        f"{greeting}\n\nThis is a reminder of your appointment at {brand.clinic_name}.\n\n"
        f"What: {_what(view)}\nWhen: {when}{_where(view)}{join_link_text(view)}\n\n{brand.clinic_name}\n"
    )
    join = f" Join the video visit: {view.telehealth_join_url}" if view.telehealth_join_url else ""
    return ReminderMessage(
        email=view.client_email,
        phone=view.client_phone,
        subject=f"Reminder: your appointment at {brand.clinic_name} on {when}",
        body=body,
        short=f"{brand.clinic_name}: reminder of your appointment on {when}.{join}",
        spoken=f"{brand.clinic_name}: reminder of your appointment on {when}.",
    )


def appointment_ics(
    view: details.AppointmentView, appointment: Appointment, *, clinic_name: str, domain: str, now: datetime
) -> bytes:
    return appointments_calendar(
        name=clinic_name,
        appointments=[appointment],
        practitioner_names={appointment.practitioner_id: view.practitioner_name},
        generated_at=now,
        domain=domain,
    )


async def queue_confirmation_email(
    session: AsyncSession, appointment: Appointment, *, base_url: str, clock: Clock = system_clock
) -> bool:
    """Email the client that the appointment is confirmed, with its ``.ics``. Only a confirmed
    appointment is confirmed to its client; False when the client has no email address."""
    if appointment.status != AppointmentStatus.confirmed:
        raise InvalidInput(
            "notify_client: only a confirmed appointment is confirmed to its client",
            field="notify_client",
            subject="appointment",
        )
    view = await details.view_of(session, appointment)
    if not view.client_email:
        return False
    brand = await brand_for_clinic(session, appointment.clinic_id)
    when = local_wording(view.starts_at, view.time_zone)
    greeting = f"Hello {view.client_name}," if view.client_name else "Hello,"
    body = (
        f"{greeting}\n\nYour appointment at {brand.clinic_name} is confirmed.\n\n"
        f"What: {_what(view)}\nWhen: {when} ({view.duration_minutes} minutes){_where(view)}"
        f"{join_link_text(view)}\n\n"
        f"The attached calendar file adds it to your calendar.\n\n{brand.clinic_name}\n"
    )
    domain = urlsplit(brand.base_url(base_url)).hostname or "clinicore"
    await notify_service.queue_email(
        session,
        clinic_id=appointment.clinic_id,
        to_address=view.client_email,
        subject=f"Your appointment at {brand.clinic_name} on {when} is confirmed",
        body=body,
        attachment=notify_service.Attachment(
            name="appointment.ics",
            content_type=ICS_TYPE,
            content=appointment_ics(
                view, appointment, clinic_name=brand.clinic_name, domain=domain, now=clock.now()
            ),
        ),
        clock=clock,
    )
    return True
