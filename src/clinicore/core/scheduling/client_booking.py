"""Clients booking themselves: the public booking page of a practice (``web/book/``).

Every rule of a booking is the scheduling core's (``booking.book_appointment``, ``update_appointment``,
``cancel_appointment``); this module adds only what is the client's own:

- The practice is found by its IntakeQ practice id (8 hex digits, any case); a deleted or inactive clinic
  is unknown. A clinic with ``booking_enabled`` false takes no booking (the core refuses it too).
- The client is found or made from the details typed (``people.client_for_contact``: by email, else by
  phone); a known client's name, email or phone is never rewritten by what a visitor types.
- The result is ``waiting_confirmation`` when the practice's widget setting ``requires_confirmation`` says
  so, else ``confirmed``; the appointment is ``booked_by_client`` (IntakeQ ``BookedByClient``), created by
  the client's name, reminded by email (the clinic's reminder lead), and its ``source`` is ``booking``. Its
  events, and those of the client's own cancel and reschedule, say ``by_client`` (IntakeQ
  ``ActionPerformedByClient``).
- Slots are the availability engine's (``availability.clinic_slots``) for the service's length, on one day
  of the client's own time zone; the client's zone only changes how they are shown and grouped.
- A confirmation email in the practice's local time (the location's zone, else the clinic's:
  ``notices.local_wording``), in the clinic's brand, with the appointment's ``.ics``, carries a signed
  link (``kit/links``) to a page where the client cancels or reschedules. The link is valid until a day
  after the appointment's end; a client may change the appointment only while it is waiting or confirmed
  and until ``client_change_notice_hours`` before its start.
- A rescheduled appointment keeps its practitioner and length; its status stays what it was.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import (
    RELEASED_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingWidgetSettings,
    Clinic,
    Location,
    Practitioner,
    ReminderChannel,
    Service,
)
from clinicore.core.notify import service as notify_service
from clinicore.core.people import service as people_service
from clinicore.core.scheduling import (
    booking,
    catalog,
    client_booking_repository,
    details,
    hours,
    notices,
    repository,
)
from clinicore.core.scheduling.availability import Slot, clinic_slots
from clinicore.core.scheduling.schemas import AppointmentChanges, BookingRequest
from clinicore.core.scheduling.settings import booking_rules, get_booking_settings
from clinicore.core.scheduling.slots import practitioner_calendars
from clinicore.core.tenancy.brand import Brand, brand_for_clinic
from clinicore.core.tenancy.service import validate_time_zone
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.contact import normalise_email, normalise_phone
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.kit.links import LinkSigner
from clinicore.kit.local_time import local_date, start_of_local_day

CLIENT_BOOKING_SOURCE = "booking"
PRACTICE_ID = re.compile(r"[0-9A-Fa-f]{8}")
MAX_NAME_CHARS = 100  # a client's first and last name are 100 characters each at most
MAX_PHONE_CHARS = 40
MAX_TIME_ZONE_CHARS = 64
MAX_CHANGE_NOTICE_HOURS = 720
# Far more slots than one day holds on a 5-minute grid for any number of practitioners' offsets.
MAX_SLOTS_SEARCHED = 2000
LINK_VALID_AFTER_END = timedelta(days=1)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientDetails:
    full_name: str
    email: str
    phone: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientBookingRequest:
    service_id: uuid.UUID
    location_id: uuid.UUID | None
    practitioner_id: uuid.UUID | None  # None: any free practitioner
    starts_at: datetime
    details: ClientDetails


@dataclass(frozen=True, slots=True)
class BookingChoices:
    services: Sequence[Service]
    locations: Sequence[Location]
    practitioners: Sequence[Practitioner]


# --- reading what a visitor typed -----------------------------------------------------------------


def read_practice_id(raw: str) -> str:
    """The practice id of a public URL, upper-case; anything else reads as an unknown practice."""
    if not PRACTICE_ID.fullmatch(raw):
        raise NotFound("no such practice")
    return raw.upper()


def read_time_zone(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > MAX_TIME_ZONE_CHARS:
        raise InvalidInput("time_zone: choose a time zone", field="time_zone")
    return validate_time_zone(name)


def read_details(*, full_name: str, email: str, phone: str, region: str | None = None) -> ClientDetails:
    """The client's name (required, at most 100 characters), email (required) and phone (optional)."""
    name = " ".join(full_name.split())
    if not name:
        raise InvalidInput("name: enter your name", field="name")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"name: at most {MAX_NAME_CHARS} characters", field="name")
    if not email.strip():
        raise InvalidInput("email: enter your email address", field="email")
    address = normalise_email(email, field="email")
    number: str | None = None
    if phone.strip():
        if len(phone) > MAX_PHONE_CHARS:
            raise InvalidInput("phone: not a phone number", field="phone")
        number = normalise_phone(phone, region=region)
    return ClientDetails(full_name=name, email=address, phone=number)


# --- the practice and its settings ----------------------------------------------------------------


async def practice_for_booking(session: AsyncSession, practice_id: str) -> Clinic:
    """The practice a public booking URL names (``booking_enabled`` is the caller's to show)."""
    clinic = await client_booking_repository.open_clinic_by_practice_id(
        session, read_practice_id(practice_id)
    )
    if clinic is None:
        raise NotFound("no such practice")
    return clinic


async def get_widget_settings(
    session: AsyncSession, *, clinic_id: uuid.UUID, clock: Clock = system_clock
) -> BookingWidgetSettings:
    """The clinic's widget settings, made with the defaults on first use (confirmed at once, 24 hours)."""
    settings = await client_booking_repository.get_widget_settings(session, clinic_id)
    if settings is None:
        settings = BookingWidgetSettings(
            clinic_id=clinic_id,
            requires_confirmation=False,
            client_change_notice_hours=24,
            updated_at=clock.now(),
        )
        session.add(settings)
        await session.flush()
    return settings


async def update_widget_settings(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    requires_confirmation: bool,
    client_change_notice_hours: int,
    clock: Clock = system_clock,
) -> BookingWidgetSettings:
    if not 0 <= client_change_notice_hours <= MAX_CHANGE_NOTICE_HOURS:
        raise InvalidInput(
            f"client_change_notice_hours: must be between 0 and {MAX_CHANGE_NOTICE_HOURS}",
            field="client_change_notice_hours",
        )
    settings = await get_widget_settings(session, clinic_id=clinic_id, clock=clock)
    settings.requires_confirmation = requires_confirmation
    settings.client_change_notice_hours = client_change_notice_hours
    settings.updated_at = clock.now()
    return settings


async def booking_choices(session: AsyncSession, *, clinic_id: uuid.UUID) -> BookingChoices:
    """What a client may pick: the active services and locations, the active bookable practitioners."""
    return BookingChoices(
        services=await catalog.list_services(session, clinic_id=clinic_id),
        locations=await catalog.list_locations(session, clinic_id=clinic_id),
        practitioners=[
            practitioner
            for practitioner in await repository.list_practitioners(
                session, clinic_id=clinic_id, bookable_only=True
            )
            if practitioner.is_active
        ],
    )


async def _offered_service(session: AsyncSession, *, clinic_id: uuid.UUID, service_id: uuid.UUID) -> Service:
    service = await catalog.service_given(session, clinic_id=clinic_id, service_id=service_id)
    if not service.is_active:
        raise InvalidInput("service_id: the service is not offered any more", field="service_id")
    return service


async def _bookable_practitioner(
    session: AsyncSession, *, clinic_id: uuid.UUID, practitioner_id: uuid.UUID
) -> Practitioner:
    practitioner = await hours.practitioner_given(
        session, clinic_id=clinic_id, practitioner_id=practitioner_id
    )
    if not (practitioner.is_active and practitioner.is_bookable):
        raise InvalidInput("practitioner_id: the practitioner takes no bookings", field="practitioner_id")
    return practitioner


# --- slots ----------------------------------------------------------------------------------------


async def day_slots(
    session: AsyncSession,
    *,
    clinic: Clinic,
    duration: timedelta,
    practitioner_id: uuid.UUID | None,
    day: date,
    time_zone: str,
    excluding_appointment: uuid.UUID | None = None,
    clock: Clock = system_clock,
) -> list[Slot]:
    """The open slots of ``duration`` starting on ``day`` in ``time_zone`` (the client's), earliest first:
    one practitioner's, or every bookable practitioner's merged (each slot given to the least loaded)."""
    if practitioner_id is not None:
        practitioners: Sequence[Practitioner] = [
            await _bookable_practitioner(session, clinic_id=clinic.id, practitioner_id=practitioner_id)
        ]
    else:
        practitioners = (await booking_choices(session, clinic_id=clinic.id)).practitioners
    now = clock.now()
    day_start = start_of_local_day(day, time_zone)
    day_end = start_of_local_day(day + ONE_DAY, time_zone)
    if not practitioners or day_end <= now:
        return []
    rules = booking_rules(await get_booking_settings(session, clinic_id=clinic.id, clock=clock))
    if day_start > now + timedelta(days=rules.horizon_days + 2):
        return []
    calendars = await practitioner_calendars(
        session,
        clinic_id=clinic.id,
        practitioners=practitioners,
        rules=rules,
        window_start=day_start - ONE_DAY,
        window_end=day_end + ONE_DAY,
        excluding_appointment=excluding_appointment,
    )
    load = await repository.upcoming_load(session, clinic_id=clinic.id, since=now, until=day_end)
    offered = clinic_slots(
        calendars,
        duration=duration,
        now=now,
        clinic_time_zone=clinic.time_zone,
        from_day=local_date(day_start, clinic.time_zone),
        limit=MAX_SLOTS_SEARCHED,
        load=load,
    )
    return [slot for slot in offered if day_start <= slot.start < day_end]


async def service_slots(
    session: AsyncSession,
    *,
    clinic: Clinic,
    service_id: uuid.UUID,
    practitioner_id: uuid.UUID | None,
    day: date,
    time_zone: str,
    clock: Clock = system_clock,
) -> list[Slot]:
    service = await _offered_service(session, clinic_id=clinic.id, service_id=service_id)
    return await day_slots(
        session,
        clinic=clinic,
        duration=timedelta(minutes=service.duration_minutes),
        practitioner_id=practitioner_id,
        day=day,
        time_zone=time_zone,
        clock=clock,
    )


# --- booking, the link, the email -----------------------------------------------------------------


def manage_path(practice_id: str, appointment_id: uuid.UUID) -> str:
    return f"/book/{practice_id}/appointments/{appointment_id}"


def manage_link_expiry(appointment: Appointment) -> int:
    return int((appointment.ends_at + LINK_VALID_AFTER_END).timestamp())


def manage_url(links: LinkSigner, brand: Brand, *, practice_id: str, appointment: Appointment) -> str:
    """The client's signed link to their appointment, on the clinic's (or its partner's) host."""
    path = manage_path(practice_id, appointment.id)
    expires = manage_link_expiry(appointment)
    query = urlencode({"expires": expires, "signature": links.signature(path, expires)})
    return f"{brand.base_url(links.base_url)}{path}?{query}"


async def _queue_appointment_email(
    session: AsyncSession,
    *,
    clinic: Clinic,
    appointment: Appointment,
    heading: str,
    links: LinkSigner,
    clock: Clock,
) -> None:
    """The client's email about their booking: what, when (the practice's local time), where, its status,
    the signed link, and the appointment as an ``.ics`` attachment (``notices``)."""
    view = await details.view_of(session, appointment)
    if not view.client_email:
        return
    brand = await brand_for_clinic(session, clinic.id)
    when = notices.local_wording(view.starts_at, view.time_zone)
    title = heading.format(clinic=brand.clinic_name)
    lines = [
        f"Hello {view.client_name}," if view.client_name else "Hello,",
        "",
        f"{title}.",
        "",
        f"What: {view.service_name or view.title} with {view.practitioner_name}",
        f"When: {when} ({view.duration_minutes} minutes)",
    ]
    if view.location_name is not None:
        lines.append(
            f"Where: {view.location_name}" + (f", {view.location_address}" if view.location_address else "")
        )
    if view.price is not None:
        lines.append(f"Price: {view.price}")
    if view.telehealth_join_url is not None:
        lines += notices.join_link_text(view).lstrip("\n").split("\n")
    waiting = appointment.status == AppointmentStatus.waiting_confirmation
    lines += [
        "",
        f"{brand.clinic_name} will confirm your request." if waiting else "Your appointment is confirmed.",
        "The attached calendar file adds it to your calendar.",
        "",
        "To cancel or reschedule, open this link (keep it private: it opens your booking):",
        manage_url(links, brand, practice_id=clinic.practice_id, appointment=appointment),
        "",
        brand.clinic_name,
    ]
    domain = urlsplit(brand.base_url(links.base_url)).hostname or "clinicore"
    await notify_service.queue_email(
        session,
        clinic_id=clinic.id,
        to_address=view.client_email,
        subject=f"{title}: {when}",
        body="\n".join(lines),
        attachment=notify_service.Attachment(
            name="appointment.ics",
            content_type=notices.ICS_TYPE,
            content=notices.appointment_ics(
                view, appointment, clinic_name=brand.clinic_name, domain=domain, now=clock.now()
            ),
        ),
        clock=clock,
    )


async def book_as_client(
    session: AsyncSession,
    *,
    clinic: Clinic,
    request: ClientBookingRequest,
    links: LinkSigner,
    clock: Clock = system_clock,
) -> Appointment:
    """Book the slot the client chose, for the client their details name, and email them its link."""
    service = await _offered_service(session, clinic_id=clinic.id, service_id=request.service_id)
    settings = await get_widget_settings(session, clinic_id=clinic.id, clock=clock)
    client = await people_service.client_for_contact(
        session,
        clinic_id=clinic.id,
        full_name=request.details.full_name,
        email=request.details.email,
        phone=request.details.phone,
        clock=clock,
    )
    appointment = await booking.book_appointment(
        session,
        clinic_id=clinic.id,
        request=BookingRequest(
            starts_at=request.starts_at,
            service_id=service.id,
            location_id=request.location_id,
            practitioner_id=request.practitioner_id,
            client_id=client.id,
            status=AppointmentStatus.waiting_confirmation
            if settings.requires_confirmation
            else AppointmentStatus.confirmed,
            booked_by_client=True,
            created_by=request.details.full_name,
            reminder_channel=ReminderChannel.email,
        ),
        source=CLIENT_BOOKING_SOURCE,
        clock=clock,
    )
    await _queue_appointment_email(
        session,
        clinic=clinic,
        appointment=appointment,
        heading="Your appointment request at {clinic}"
        if appointment.status == AppointmentStatus.waiting_confirmation
        else "Your appointment at {clinic}",
        links=links,
        clock=clock,
    )
    return appointment


# --- the client's own changes ---------------------------------------------------------------------


async def client_appointment(
    session: AsyncSession, *, clinic: Clinic, appointment_id: uuid.UUID
) -> Appointment:
    """An appointment of the practice that a client booked; any other reads as not found."""
    appointment = await booking.get_appointment(session, clinic_id=clinic.id, appointment_id=appointment_id)
    if not appointment.booked_by_client:
        raise NotFound("appointment not found")
    return appointment


def change_refusal(settings: BookingWidgetSettings, appointment: Appointment, *, now: datetime) -> str | None:
    """Why the client may no longer cancel or reschedule the appointment, or None when they may."""
    status = AppointmentStatus(appointment.status)
    if status in RELEASED_STATUSES:
        return f"This appointment is {status.replace('_', ' ')}."
    if status not in (AppointmentStatus.waiting_confirmation, AppointmentStatus.confirmed):
        return "This appointment can no longer be changed online."
    if now > appointment.starts_at - timedelta(hours=settings.client_change_notice_hours):
        return (
            f"Online changes close {settings.client_change_notice_hours} hours before the appointment. "
            "Contact the practice."
        )
    return None


async def _require_changeable(
    session: AsyncSession, *, clinic: Clinic, appointment: Appointment, clock: Clock
) -> None:
    settings = await get_widget_settings(session, clinic_id=clinic.id, clock=clock)
    refusal = change_refusal(settings, appointment, now=clock.now())
    if refusal is not None:
        raise Conflict(refusal, rule="booking.client_change_closed", subject="appointment")


async def cancel_as_client(
    session: AsyncSession, *, clinic: Clinic, appointment_id: uuid.UUID, clock: Clock = system_clock
) -> Appointment:
    appointment = await client_appointment(session, clinic=clinic, appointment_id=appointment_id)
    await _require_changeable(session, clinic=clinic, appointment=appointment, clock=clock)
    return await booking.cancel_appointment(
        session,
        clinic_id=clinic.id,
        appointment_id=appointment.id,
        reason="Cancelled by the client",
        clock=clock,
        by_client=True,
    )


async def reschedule_slots(
    session: AsyncSession,
    *,
    clinic: Clinic,
    appointment: Appointment,
    day: date,
    time_zone: str,
    clock: Clock = system_clock,
) -> list[Slot]:
    """The appointment's practitioner's open slots of its length on ``day`` (its own time left out)."""
    return await day_slots(
        session,
        clinic=clinic,
        duration=appointment.ends_at - appointment.starts_at,
        practitioner_id=appointment.practitioner_id,
        day=day,
        time_zone=time_zone,
        excluding_appointment=appointment.id,
        clock=clock,
    )


async def reschedule_as_client(
    session: AsyncSession,
    *,
    clinic: Clinic,
    appointment_id: uuid.UUID,
    starts_at: datetime,
    links: LinkSigner,
    clock: Clock = system_clock,
) -> Appointment:
    appointment = await client_appointment(session, clinic=clinic, appointment_id=appointment_id)
    await _require_changeable(session, clinic=clinic, appointment=appointment, clock=clock)
    appointment = await booking.update_appointment(
        session,
        clinic_id=clinic.id,
        appointment_id=appointment.id,
        changes=AppointmentChanges(starts_at=starts_at),
        clock=clock,
        by_client=True,
    )
    await _queue_appointment_email(
        session,
        clinic=clinic,
        appointment=appointment,
        heading="Your appointment at {clinic} was moved",
        links=links,
        clock=clock,
    )
    return appointment
