"""Console scheduling pages: the week calendar, availability settings, practitioners' hours, calendar feeds.

Every time on these pages is shown and entered in the clinic's time zone; working hours are wall-clock
ranges in the practitioner's zone (which defaults to the clinic's), as the availability engine reads them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
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
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import Conflict, InvalidInput
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.clinic_time import (
    ClinicTime,
    monday_of,
    parse_date,
    parse_time,
    parse_whole_number,
)
from clinicore.web.console.errors import error_status
from clinicore.web.console.routes import FormField, render
from clinicore.web.console.session import CurrentUser, check_csrf

router = APIRouter(include_in_schema=False)

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
APPOINTMENT_PAGE = 500
OVERRIDES_AHEAD = timedelta(days=366)
LONGEST_MINUTES = MAXIMUM_LENGTH // timedelta(minutes=1)
_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


# --- form reading shared with the lead pages ------------------------------------------------------


def parse_ranges(raw: str, *, field: str) -> list[LocalRange]:
    """``09:00-12:00, 13:00-17:00``; an end at or before the start runs past midnight (``22:00-02:00``)."""
    if not raw.strip():
        return []
    ranges = []
    for part in raw.split(","):
        match = _RANGE.match(part)
        if match is None:
            raise InvalidInput(f"{field}: write hours like 09:00-12:00, 13:00-17:00", field=field)
        ranges.append(LocalRange(parse_time(match[1], field=field), parse_time(match[2], field=field)))
    return ranges


def format_ranges(ranges: Sequence[LocalRange]) -> str:
    return ", ".join(f"{r.start:%H:%M}-{r.end:%H:%M}" for r in ranges)


def parse_id(raw: str, *, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise InvalidInput(f"{field}: unknown choice", field=field) from None


def booking_request_from_form(
    clinic_time: ClinicTime,
    *,
    practitioner_id: str,
    day: str,
    start: str,
    length_minutes: str,
    title: str,
    notes: str,
    lead_id: uuid.UUID | None = None,
) -> BookingRequest:
    starts_at = clinic_time.to_utc(parse_date(day, field="date"), parse_time(start, field="time"))
    # The core refuses lengths out of its bounds; clamping first only keeps the date arithmetic in range.
    minutes = max(-1, min(parse_whole_number(length_minutes, field="length"), LONGEST_MINUTES + 1))
    return BookingRequest(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        title=title,
        notes=notes.strip() or None,
        practitioner_id=parse_id(practitioner_id, field="practitioner") if practitioner_id else None,
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
    error: str | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
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
        status_code=status_code,
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
        error=error,
        form=form or {},
    )


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
        return await _calendar_page(request, user, session, runtime, error=exc.message, status_code=400)
    return await _calendar_page(request, user, session, runtime, week_of=week_of, show_released=show == "all")


@router.post("/console/calendar/appointments")
async def book_appointment(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    practitioner_id: FormField = "",
    day: FormField = "",
    start: FormField = "",
    length: FormField = "",
    title: FormField = "",
    notes: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    clinic_time = ClinicTime(user.clinic.time_zone)
    try:
        booking = booking_request_from_form(
            clinic_time,
            practitioner_id=practitioner_id,
            day=day,
            start=start,
            length_minutes=length,
            title=title,
            notes=notes,
        )
        appointment = await booking_service.book_appointment(
            session, clinic_id=user.clinic.id, request=booking, source="console", clock=runtime.clock
        )
    except (InvalidInput, Conflict) as exc:
        submitted = {
            "practitioner_id": practitioner_id,
            "day": day,
            "start": start,
            "length": length,
            "title": title,
            "notes": notes,
        }
        try:
            week_of: date | None = parse_date(day, field="date")
        except InvalidInput:
            week_of = None
        return await _calendar_page(
            request,
            user,
            session,
            runtime,
            week_of=week_of,
            error=exc.message,
            form=submitted,
            status_code=error_status(exc),
        )
    week_of = clinic_time.local(appointment.starts_at).date()
    return RedirectResponse(f"/console/calendar?week={week_of.isoformat()}", status_code=303)


@router.post("/console/calendar/appointments/{appointment_id}/cancel")
async def cancel_appointment(
    appointment_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    reason: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    appointment = await booking_service.cancel_appointment(
        session,
        clinic_id=user.clinic.id,
        appointment_id=appointment_id,
        reason=reason.strip() or None,
        clock=runtime.clock,
    )
    week_of = ClinicTime(user.clinic.time_zone).local(appointment.starts_at).date()
    return RedirectResponse(f"/console/calendar?week={week_of.isoformat()}", status_code=303)


# --- availability settings ------------------------------------------------------------------------


def weekly_summary(weekly: Mapping[int, Sequence[LocalRange]]) -> list[tuple[str, str]]:
    return [(WEEKDAY_NAMES[day][:3], format_ranges(weekly[day])) for day in range(7) if weekly.get(day)]


async def _availability_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    *,
    error: str | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    clinic_id = user.clinic.id
    clinic_time = ClinicTime(user.clinic.time_zone)
    today = clinic_time.today(runtime.clock.now())
    settings = await settings_service.get_booking_settings(session, clinic_id=clinic_id, clock=runtime.clock)
    practitioners = await hours_service.list_practitioners(session, clinic_id=clinic_id)
    summaries = {
        practitioner.id: weekly_summary(
            (
                await hours_service.working_hours_of(
                    session,
                    clinic_id=clinic_id,
                    practitioner_id=practitioner.id,
                    first_day=today,
                    last_day=today,
                )
            ).weekly
        )
        for practitioner in practitioners
    }
    token = await feed_service.calendar_token(session, box=runtime.box, clinic_id=clinic_id)
    return render(
        request,
        "availability.html",
        status_code=status_code,
        user=user,
        nav="availability",
        local=clinic_time,
        settings=settings,
        practitioners=practitioners,
        names={practitioner.id: practitioner.name for practitioner in practitioners},
        summaries=summaries,
        blocks=await block_service.list_blocks(session, clinic_id=clinic_id, clock=runtime.clock),
        clinic_feed_url=feed_url(runtime, token),
        error=error,
        form=form or {},
    )


@router.get("/console/availability")
async def availability_page(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _availability_page(request, user, session, runtime)


@router.post("/console/availability/rules")
async def update_booking_rules(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    buffer_before_minutes: FormField = "",
    buffer_after_minutes: FormField = "",
    minimum_notice_minutes: FormField = "",
    horizon_days: FormField = "",
    default_length_minutes: FormField = "",
    slot_interval_minutes: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    submitted = {
        "buffer_before_minutes": buffer_before_minutes,
        "buffer_after_minutes": buffer_after_minutes,
        "minimum_notice_minutes": minimum_notice_minutes,
        "horizon_days": horizon_days,
        "default_length_minutes": default_length_minutes,
    }
    try:
        numbers = {name: parse_whole_number(raw, field=name) for name, raw in submitted.items()}
        interval = (
            parse_whole_number(slot_interval_minutes, field="slot_interval_minutes")
            if slot_interval_minutes.strip()
            else None
        )
        await settings_service.update_booking_settings(
            session,
            clinic_id=user.clinic.id,
            slot_interval_minutes=interval,
            clock=runtime.clock,
            **numbers,
        )
    except InvalidInput as exc:
        return await _availability_page(
            request,
            user,
            session,
            runtime,
            error=exc.message,
            form=submitted | {"slot_interval_minutes": slot_interval_minutes},
            status_code=400,
        )
    return RedirectResponse("/console/availability", status_code=303)


@router.post("/console/availability/calendar-feed")
async def rotate_clinic_feed(
    user: CurrentUser, session: SessionDep, runtime: RuntimeDep, csrf_token: FormField = ""
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    await feed_service.rotate_calendar_token(
        session, box=runtime.box, clinic_id=user.clinic.id, clock=runtime.clock
    )
    return RedirectResponse("/console/availability#calendar-feed", status_code=303)


@router.post("/console/practitioners")
async def create_practitioner(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    name: FormField = "",
    email: FormField = "",
    time_zone: FormField = "",
    bookable: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    try:
        practitioner = await hours_service.create_practitioner(
            session,
            clinic_id=user.clinic.id,
            name=name,
            email=email.strip() or None,
            time_zone=time_zone.strip() or None,
            is_bookable=bool(bookable),
            clock=runtime.clock,
        )
    except InvalidInput as exc:
        submitted = {"name": name, "email": email, "time_zone": time_zone, "bookable": bookable}
        return await _availability_page(
            request, user, session, runtime, error=exc.message, form=submitted, status_code=400
        )
    return RedirectResponse(f"/console/practitioners/{practitioner.id}", status_code=303)


# --- one practitioner: weekly hours, date overrides, calendar feed --------------------------------


async def _practitioner_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    practitioner_id: uuid.UUID,
    *,
    error: str | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
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
        status_code=status_code,
        user=user,
        nav="availability",
        local=clinic_time,
        practitioner=practitioner,
        weekdays=[(day, WEEKDAY_NAMES[day], format_ranges(hours.weekly.get(day, ()))) for day in range(7)],
        overrides=[(day, format_ranges(ranges)) for day, ranges in sorted(hours.overrides.items())],
        today=today,
        feed_url=feed_url(runtime, token),
        error=error,
        form=form or {},
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
    submitted = {name: value for name, value in (await request.form()).items() if isinstance(value, str)}
    check_csrf(user.console_session.csrf_token, submitted.get("csrf_token"))
    try:
        weekly = {
            day: parse_ranges(submitted.get(f"day{day}", ""), field=WEEKDAY_NAMES[day]) for day in range(7)
        }
        await hours_service.set_weekly_hours(
            session,
            clinic_id=user.clinic.id,
            practitioner_id=practitioner_id,
            weekly={day: ranges for day, ranges in weekly.items() if ranges},
        )
    except InvalidInput as exc:
        return await _practitioner_page(
            request,
            user,
            session,
            runtime,
            practitioner_id,
            error=exc.message,
            form=submitted,
            status_code=400,
        )
    return RedirectResponse(f"/console/practitioners/{practitioner_id}", status_code=303)


@router.post("/console/practitioners/{practitioner_id}/overrides")
async def set_date_override(
    request: Request,
    practitioner_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    day: FormField = "",
    kind: FormField = "closed",
    hours: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    try:
        override_day = parse_date(day, field="date")
        ranges = parse_ranges(hours, field="hours") if kind == "open" else []
        if kind == "open" and not ranges:
            raise InvalidInput("hours: give the hours the day opens, or choose closed", field="hours")
        await hours_service.set_date_override(
            session,
            clinic_id=user.clinic.id,
            practitioner_id=practitioner_id,
            day=override_day,
            ranges=ranges,
        )
    except InvalidInput as exc:
        submitted = {"override_day": day, "kind": kind, "hours": hours}
        return await _practitioner_page(
            request,
            user,
            session,
            runtime,
            practitioner_id,
            error=exc.message,
            form=submitted,
            status_code=400,
        )
    return RedirectResponse(f"/console/practitioners/{practitioner_id}#overrides", status_code=303)


@router.post("/console/practitioners/{practitioner_id}/overrides/clear")
async def clear_date_override(
    practitioner_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    day: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    await hours_service.clear_date_override(
        session, clinic_id=user.clinic.id, practitioner_id=practitioner_id, day=parse_date(day, field="date")
    )
    return RedirectResponse(f"/console/practitioners/{practitioner_id}#overrides", status_code=303)


@router.post("/console/practitioners/{practitioner_id}/calendar-feed")
async def rotate_practitioner_feed(
    practitioner_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    await feed_service.rotate_calendar_token(
        session,
        box=runtime.box,
        clinic_id=user.clinic.id,
        practitioner_id=practitioner_id,
        clock=runtime.clock,
    )
    return RedirectResponse(f"/console/practitioners/{practitioner_id}#calendar-feed", status_code=303)
