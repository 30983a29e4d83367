"""Console scheduling pages: the week calendar, availability settings, practitioners' hours, calendar feeds.

Every time on these pages is shown and entered in the clinic's time zone; working hours are wall-clock
ranges in the practitioner's zone (which defaults to the clinic's), as the availability engine reads them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import RELEASED_STATUSES, Appointment, AppointmentStatus, Practitioner
from clinicore.core.scheduling import blocks as block_service
from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling import feeds as feed_service
from clinicore.core.scheduling import hours as hours_service
from clinicore.core.scheduling import settings as settings_service
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.scheduling.rules import MAXIMUM_LENGTH
from clinicore.core.scheduling.schemas import BookingRequest
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import InvalidInput
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.clinic_time import ClinicTime, monday_of, parse_date
from clinicore.web.console.form_models import (
    WEEKDAY_NAMES,
    BookingForm,
    BookingRulesForm,
    CancelAppointmentForm,
    ClearOverrideForm,
    DateOverrideForm,
    EmptyForm,
    PractitionerForm,
    WeeklyHoursForm,
)
from clinicore.web.console.forms import Refusal, refusal_context, submit_form
from clinicore.web.console.routes import render
from clinicore.web.console.session import CurrentUser, require

router = APIRouter(include_in_schema=False, dependencies=[require(Permission.book)])

APPOINTMENT_PAGE = 500
OVERRIDES_AHEAD = timedelta(days=366)
LONGEST_MINUTES = MAXIMUM_LENGTH // timedelta(minutes=1)


# --- shared with the lead pages -------------------------------------------------------------------


def format_ranges(ranges: Sequence[LocalRange]) -> str:
    return ", ".join(f"{r.start:%H:%M}-{r.end:%H:%M}" for r in ranges)


def booking_request_from_form(
    clinic_time: ClinicTime, form: BookingForm, *, lead_id: uuid.UUID | None = None
) -> BookingRequest:
    starts_at = clinic_time.to_utc(form.day, form.start)
    # The core refuses lengths out of its bounds; clamping first only keeps the date arithmetic in range.
    minutes = max(-1, min(form.length, LONGEST_MINUTES + 1))
    return BookingRequest(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        title=form.title,
        notes=form.notes,
        practitioner_id=form.practitioner_id,
        lead_id=lead_id,
    )


def feed_url(runtime: Runtime, token: str | None) -> str | None:
    return f"{runtime.settings.base_url}/calendars/{token}.ics" if token else None


# --- the week calendar ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    cells: list[list[Appointment]]  # one list per practitioner column, in column order


async def appointments_starting_between(
    session: AsyncSession, *, clinic_id: uuid.UUID, window: tuple[date, date], clinic_time: ClinicTime
) -> list[Appointment]:
    found: list[Appointment] = []
    while True:
        page = await booking_service.list_appointments(
            session,
            clinic_id=clinic_id,
            starts_from=clinic_time.start_of(window[0]),
            starts_before=clinic_time.start_of(window[1]),
            limit=APPOINTMENT_PAGE,
            offset=len(found),
        )
        found.extend(page)
        if len(page) < APPOINTMENT_PAGE:
            return found


async def _calendar_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    *,
    week_of: date | None = None,
    show_released: bool = False,
    refusal: Refusal | None = None,
) -> Response:
    clinic_time = ClinicTime(user.clinic.time_zone)
    today = clinic_time.today(runtime.clock.now())
    monday = monday_of(week_of or today)
    days = [monday + timedelta(days=offset) for offset in range(7)]
    appointments = [
        appointment
        for appointment in await appointments_starting_between(
            session,
            clinic_id=user.clinic.id,
            window=(monday, days[-1] + timedelta(days=1)),
            clinic_time=clinic_time,
        )
        if show_released or AppointmentStatus(appointment.status) not in RELEASED_STATUSES
    ]
    practitioners = await hours_service.list_practitioners(session, clinic_id=user.clinic.id)
    booked = {appointment.practitioner_id for appointment in appointments}
    columns = [p for p in practitioners if p.is_active or p.id in booked]
    column_of = {practitioner.id: index for index, practitioner in enumerate(columns)}
    rows = [CalendarDay(day=day, cells=[[] for _ in columns]) for day in days]
    for appointment in appointments:
        row = (clinic_time.local(appointment.starts_at).date() - monday).days
        rows[row].cells[column_of[appointment.practitioner_id]].append(appointment)
    settings = await settings_service.get_booking_settings(
        session, clinic_id=user.clinic.id, clock=runtime.clock
    )
    return render(
        request,
        "calendar.html",
        **refusal_context(refusal),
        user=user,
        nav="calendar",
        local=clinic_time,
        monday=monday,
        today=today,
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        columns=columns,
        rows=rows,
        show_released=show_released,
        bookable=[p for p in practitioners if p.is_active],
        default_length=settings.default_length_minutes,
    )


def calendar_path(clinic_time: ClinicTime, appointment: Appointment) -> str:
    """The calendar at the week of the appointment's local day."""
    return f"/console/calendar?week={clinic_time.local(appointment.starts_at).date().isoformat()}"


@router.get("/console/calendar")
async def calendar_page(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    week: str | None = None,
    show: str | None = None,
) -> Response:
    try:
        week_of = parse_date(week, field="week") if week else None
    except InvalidInput as exc:
        return await _calendar_page(request, user, session, runtime, refusal=Refusal(exc))
    return await _calendar_page(request, user, session, runtime, week_of=week_of, show_released=show == "all")


@router.post("/console/calendar/appointments")
async def book_appointment(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    clinic_time = ClinicTime(user.clinic.time_zone)

    async def act(form: BookingForm) -> str:
        appointment = await booking_service.book_appointment(
            session,
            clinic_id=user.clinic.id,
            request=booking_request_from_form(clinic_time, form),
            source="console",
            clock=runtime.clock,
        )
        return calendar_path(clinic_time, appointment)

    async def refused(refusal: Refusal) -> Response:
        # The week of the date that was typed, when it reads as one.
        try:
            week_of: date | None = parse_date(refusal.form.get("day", ""), field="date")
        except InvalidInput:
            week_of = None
        return await _calendar_page(request, user, session, runtime, week_of=week_of, refusal=refusal)

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=BookingForm,
        act=act,
        refused=refused,
    )


@router.post("/console/calendar/appointments/{appointment_id}/cancel")
async def cancel_appointment(
    request: Request, appointment_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: CancelAppointmentForm) -> str:
        appointment = await booking_service.cancel_appointment(
            session,
            clinic_id=user.clinic.id,
            appointment_id=appointment_id,
            reason=form.reason,
            clock=runtime.clock,
        )
        return calendar_path(ClinicTime(user.clinic.time_zone), appointment)

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=CancelAppointmentForm,
        act=act,
        refused=lambda refusal: _calendar_page(request, user, session, runtime, refusal=refusal),
    )


# --- availability settings ------------------------------------------------------------------------


def weekly_summary(weekly: Mapping[int, Sequence[LocalRange]]) -> list[tuple[str, str]]:
    return [(WEEKDAY_NAMES[day][:3], format_ranges(weekly[day])) for day in range(7) if weekly.get(day)]


async def _availability_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    *,
    refusal: Refusal | None = None,
) -> Response:
    clinic_id = user.clinic.id
    clinic_time = ClinicTime(user.clinic.time_zone)
    today = clinic_time.today(runtime.clock.now())
    settings = await settings_service.get_booking_settings(session, clinic_id=clinic_id, clock=runtime.clock)
    practitioners = await hours_service.list_practitioners(session, clinic_id=clinic_id)
    # Everyone's hours in one query per kind, not one round per practitioner.
    hours = await hours_service.working_hours(
        session, practitioner_ids=[p.id for p in practitioners], first_day=today, last_day=today
    )
    token = await feed_service.calendar_token(session, box=runtime.box, clinic_id=clinic_id)
    return render(
        request,
        "availability.html",
        **refusal_context(refusal),
        user=user,
        nav="availability",
        local=clinic_time,
        settings=settings,
        practitioners=practitioners,
        names={practitioner.id: practitioner.name for practitioner in practitioners},
        summaries={practitioner_id: weekly_summary(found.weekly) for practitioner_id, found in hours.items()},
        blocks=await block_service.list_blocks(session, clinic_id=clinic_id, clock=runtime.clock),
        clinic_feed_url=feed_url(runtime, token),
    )


@router.get("/console/availability")
async def availability_page(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _availability_page(request, user, session, runtime)


@router.post("/console/availability/rules")
async def update_booking_rules(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: BookingRulesForm) -> str:
        await settings_service.update_booking_settings(
            session,
            clinic_id=user.clinic.id,
            buffer_before_minutes=form.buffer_before_minutes,
            buffer_after_minutes=form.buffer_after_minutes,
            minimum_notice_minutes=form.minimum_notice_minutes,
            horizon_days=form.horizon_days,
            default_length_minutes=form.default_length_minutes,
            slot_interval_minutes=form.slot_interval_minutes,
            clock=runtime.clock,
        )
        return "/console/availability"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=BookingRulesForm,
        act=act,
        refused=lambda refusal: _availability_page(request, user, session, runtime, refusal=refusal),
    )


@router.post("/console/availability/calendar-feed")
async def rotate_clinic_feed(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(_form: EmptyForm) -> str:
        await feed_service.rotate_calendar_token(
            session, box=runtime.box, clinic_id=user.clinic.id, clock=runtime.clock
        )
        return "/console/availability#calendar-feed"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=EmptyForm,
        act=act,
        refused=lambda refusal: _availability_page(request, user, session, runtime, refusal=refusal),
    )


@router.post("/console/practitioners")
async def create_practitioner(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: PractitionerForm) -> str:
        practitioner = await hours_service.create_practitioner(
            session,
            clinic_id=user.clinic.id,
            name=form.name,
            email=form.email,
            time_zone=form.time_zone,
            is_bookable=form.bookable,
            clock=runtime.clock,
        )
        return f"/console/practitioners/{practitioner.id}"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=PractitionerForm,
        act=act,
        refused=lambda refusal: _availability_page(request, user, session, runtime, refusal=refusal),
    )


# --- one practitioner: weekly hours, date overrides, calendar feed --------------------------------


async def _practitioner_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    practitioner_id: uuid.UUID,
    *,
    refusal: Refusal | None = None,
) -> Response:
    clinic_id = user.clinic.id
    practitioner: Practitioner = await hours_service.get_practitioner(
        session, clinic_id=clinic_id, practitioner_id=practitioner_id
    )
    clinic_time = ClinicTime(user.clinic.time_zone)
    today = ClinicTime(practitioner.time_zone).today(runtime.clock.now())
    hours = await hours_service.working_hours_of(
        session,
        clinic_id=clinic_id,
        practitioner_id=practitioner_id,
        first_day=today,
        last_day=today + OVERRIDES_AHEAD,
    )
    token = await feed_service.calendar_token(
        session, box=runtime.box, clinic_id=clinic_id, practitioner_id=practitioner_id
    )
    return render(
        request,
        "practitioner.html",
        **refusal_context(refusal),
        user=user,
        nav="availability",
        local=clinic_time,
        practitioner=practitioner,
        weekdays=[(day, WEEKDAY_NAMES[day], format_ranges(hours.weekly.get(day, ()))) for day in range(7)],
        overrides=[(day, format_ranges(ranges)) for day, ranges in sorted(hours.overrides.items())],
        today=today,
        feed_url=feed_url(runtime, token),
    )


@router.get("/console/practitioners/{practitioner_id}")
async def practitioner_page(
    request: Request, practitioner_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _practitioner_page(request, user, session, runtime, practitioner_id)


@router.post("/console/practitioners/{practitioner_id}/hours")
async def set_weekly_hours(
    request: Request, practitioner_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: WeeklyHoursForm) -> str:
        await hours_service.set_weekly_hours(
            session, clinic_id=user.clinic.id, practitioner_id=practitioner_id, weekly=form.weekly()
        )
        return f"/console/practitioners/{practitioner_id}"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=WeeklyHoursForm,
        act=act,
        refused=lambda refusal: _practitioner_page(
            request, user, session, runtime, practitioner_id, refusal=refusal
        ),
    )


@router.post("/console/practitioners/{practitioner_id}/overrides")
async def set_date_override(
    request: Request, practitioner_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: DateOverrideForm) -> str:
        await hours_service.set_date_override(
            session,
            clinic_id=user.clinic.id,
            practitioner_id=practitioner_id,
            day=form.day,
            ranges=form.hours if form.kind == "open" else [],
        )
        return f"/console/practitioners/{practitioner_id}#overrides"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=DateOverrideForm,
        act=act,
        refused=lambda refusal: _practitioner_page(
            request, user, session, runtime, practitioner_id, refusal=refusal
        ),
    )


@router.post("/console/practitioners/{practitioner_id}/overrides/clear")
async def clear_date_override(
    request: Request, practitioner_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: ClearOverrideForm) -> str:
        await hours_service.clear_date_override(
            session, clinic_id=user.clinic.id, practitioner_id=practitioner_id, day=form.day
        )
        return f"/console/practitioners/{practitioner_id}#overrides"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=ClearOverrideForm,
        act=act,
        refused=lambda refusal: _practitioner_page(
            request, user, session, runtime, practitioner_id, refusal=refusal
        ),
    )


@router.post("/console/practitioners/{practitioner_id}/calendar-feed")
async def rotate_practitioner_feed(
    request: Request, practitioner_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(_form: EmptyForm) -> str:
        await feed_service.rotate_calendar_token(
            session,
            box=runtime.box,
            clinic_id=user.clinic.id,
            practitioner_id=practitioner_id,
            clock=runtime.clock,
        )
        return f"/console/practitioners/{practitioner_id}#calendar-feed"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=EmptyForm,
        act=act,
        refused=lambda refusal: _practitioner_page(
            request, user, session, runtime, practitioner_id, refusal=refusal
        ),
    )
