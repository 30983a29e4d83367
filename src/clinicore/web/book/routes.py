"""The client booking widget: ``/book/<practice id>``, a public page any site may embed
(``/static/book-embed.js`` mounts it in an iframe), and the client's own page for one appointment.

- ``GET /book/<practice>``: choose a service, a location, a practitioner (or any), a day and a time zone
  (a plain GET form: the choices are in the URL, never the client's details); the open slots of that day
  in that zone; then name, email and phone, posted with the chosen slot.
- ``POST /book/<practice>/appointments``: books through the scheduling core (``client_booking``) and shows
  the result page (no redirect: no appointment id or detail ever goes into a URL of the booking page).
- ``GET /book/<practice>/appointments/<id>?expires=&signature=``: the signed link of the confirmation
  email: the appointment, cancel, and the practitioner's open slots to move it to.

No cookie: the booking page asks for nothing a session would hold, and the appointment page's
credential is its signed link, so the widget works in a third-party frame where browsers block cookies.
Bookings are throttled per client address. Pages answer ``frame-ancestors *`` (their own complete policy),
are never cached, and send no Referer.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from clinicore.core.models import Appointment, Clinic
from clinicore.core.scheduling import client_booking, notices
from clinicore.core.scheduling.availability import Slot
from clinicore.core.scheduling.client_booking import BookingChoices, ClientBookingRequest
from clinicore.core.tenancy.brand import Brand, brand_for_clinic
from clinicore.kit.errors import CoreError, InvalidInput, NotFound
from clinicore.kit.inputs import SUPPORTED_YEARS
from clinicore.requests import RuntimeDep, SessionDep, bind_clinic
from clinicore.runtime import Runtime
from clinicore.web.console.clinic_time import parse_date
from clinicore.web.console.forms import unstorable_text
from clinicore.web.console.session import client_address
from clinicore.web.templating import WEB_DIR

router = APIRouter(include_in_schema=False)

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(str(WEB_DIR / "book" / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
)

BOOKINGS_PER_ADDRESS = "10/hour"
MAX_FORM_FIELDS = 20
MAX_ID_CHARS = 36
MAX_INSTANT_CHARS = 40
MAX_SIGNATURE_CHARS = 64


def _policy(style_nonce: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; connect-src 'self'; "
        f"style-src 'self' 'nonce-{style_nonce}'; img-src 'self' data: https:; "
        "object-src 'none'; form-action 'self'; frame-ancestors *; base-uri 'none'"
    )


def _page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    brand: Brand | None,
    status_code: int = 200,
    extra_headers: Mapping[str, str] | None = None,
) -> Response:
    nonce = secrets.token_urlsafe(16)
    color = brand.color if brand and brand.color and len(brand.color) == 7 else None
    brand_css = (
        f":root {{ --brand: {color}; }}"
        if color and all(c in "0123456789abcdefABCDEF" for c in color[1:])
        else None
    )
    headers = {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": _policy(nonce),
        **(extra_headers or {}),
    }
    return templates.TemplateResponse(
        request,
        template,
        {"brand": brand, "brand_css": brand_css, "style_nonce": nonce, "error": None, **context},
        status_code=status_code,
        headers=headers,
    )


def _message(
    request: Request, *, brand: Brand | None, title: str, message: str, status_code: int = 200
) -> Response:
    return _page(
        request, "message.html", {"title": title, "message": message}, brand=brand, status_code=status_code
    )


# --- reading inputs -------------------------------------------------------------------------------


def _text(value: str | None, *, field: str, longest: int) -> str:
    text = value or ""
    if len(text) > longest:
        raise InvalidInput(f"{field}: at most {longest} characters", field=field)
    reason = unstorable_text(text)
    if reason is not None:
        raise InvalidInput(f"{field}: {reason}", field=field)
    return text


def _optional_id(value: str | None, *, field: str) -> uuid.UUID | None:
    text = _text(value, field=field, longest=MAX_ID_CHARS).strip()
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidInput(f"{field}: not one of the choices", field=field) from None


def _instant(value: str | None) -> datetime:
    text = _text(value, field="slot", longest=MAX_INSTANT_CHARS).strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("slot: choose a time", field="slot") from None
    if moment.tzinfo is None or moment.year not in SUPPORTED_YEARS:
        raise InvalidInput("slot: choose a time", field="slot")
    return moment.astimezone(UTC)


async def _form(request: Request) -> FormData:
    try:
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except Exception:  # a malformed body or too many fields: Starlette raises its own errors
        raise InvalidInput("the form could not be read; reload the page and try again") from None
    if any(not isinstance(value, str) for _, value in form.multi_items()):
        raise InvalidInput("the form could not be read; reload the page and try again")
    return form


def _field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Choices:
    """What the visitor chose so far (each optional), read from the query or the posted form."""

    service_id: uuid.UUID | None
    location_id: uuid.UUID | None
    practitioner_id: uuid.UUID | None
    day: date | None
    time_zone: str

    def query(self, **changes: str) -> str:
        values = {
            "service": str(self.service_id or ""),
            "location": str(self.location_id or ""),
            "practitioner": str(self.practitioner_id or ""),
            "day": self.day.isoformat() if self.day else "",
            "tz": self.time_zone,
        } | changes
        return urlencode({name: value for name, value in values.items() if value})


def _read_choices(values: Mapping[str, str | None], clinic: Clinic) -> Choices:
    day_text = _text(values.get("day"), field="day", longest=10).strip()
    zone_text = _text(values.get("tz"), field="time_zone", longest=64).strip()
    return Choices(
        service_id=_optional_id(values.get("service"), field="service"),
        location_id=_optional_id(values.get("location"), field="location"),
        practitioner_id=_optional_id(values.get("practitioner"), field="practitioner"),
        day=parse_date(day_text, field="day") if day_text else None,
        time_zone=client_booking.read_time_zone(zone_text) if zone_text else clinic.time_zone,
    )


def _fallback_choices(clinic: Clinic) -> Choices:
    return Choices(None, None, None, None, clinic.time_zone)


# --- the booking page -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShownSlot:
    value: str  # the start, ISO 8601 in UTC
    label: str  # the start in the client's zone


def _shown_slots(slots: Sequence[Slot], time_zone: str) -> list[ShownSlot]:
    zone = ZoneInfo(time_zone)
    shown = []
    for slot in slots:
        local = slot.start.astimezone(zone)
        shown.append(
            ShownSlot(value=slot.start.isoformat(), label=f"{local.hour % 12 or 12}:{local:%M %p %Z}")
        )
    return shown


async def _practice(request: Request, session: AsyncSession, practice_id: str) -> tuple[Clinic, Brand]:
    clinic = await client_booking.practice_for_booking(session, practice_id)
    bind_clinic(request, clinic.id)
    return clinic, await brand_for_clinic(session, clinic.id)


def _unavailable(request: Request, brand: Brand) -> Response:
    return _message(
        request,
        brand=brand,
        title="Online booking is not available",
        message=f"{brand.clinic_name} does not take bookings online. Contact the practice to book.",
    )


async def _booking_page(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    *,
    clinic: Clinic,
    brand: Brand,
    choices: Choices,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    offered: BookingChoices = await client_booking.booking_choices(session, clinic_id=clinic.id)
    slots: list[ShownSlot] = []
    slots_error = None
    service_id = choices.service_id or (offered.services[0].id if len(offered.services) == 1 else None)
    if service_id is not None and choices.day is not None:
        try:
            found = await client_booking.service_slots(
                session,
                clinic=clinic,
                service_id=service_id,
                practitioner_id=choices.practitioner_id,
                day=choices.day,
                time_zone=choices.time_zone,
                clock=runtime.clock,
            )
            slots = _shown_slots(found, choices.time_zone)
        except CoreError as exc:
            slots_error = exc.message
    today = runtime.clock.now()
    return _page(
        request,
        "book.html",
        {
            "clinic": clinic,
            "practice_id": clinic.practice_id,
            "offered": offered,
            "choices": choices,
            "service_id": service_id,
            "slots": slots,
            "slots_error": slots_error,
            "error": error,
            "typed": typed or {},
            "today": today.astimezone(ZoneInfo(choices.time_zone)).date().isoformat(),
        },
        brand=brand,
        status_code=status_code,
    )


@router.get("/book/{practice_id}")
async def booking_page(
    request: Request, practice_id: str, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        clinic, brand = await _practice(request, session, practice_id)
    except NotFound:
        return _message(
            request, brand=None, title="Not found", message="There is no practice here.", status_code=404
        )
    if not clinic.booking_enabled:
        return _unavailable(request, brand)
    try:
        choices = _read_choices(request.query_params, clinic)
    except CoreError as exc:
        return await _booking_page(
            request,
            session,
            runtime,
            clinic=clinic,
            brand=brand,
            choices=_fallback_choices(clinic),
            error=exc.message,
            status_code=400,
        )
    return await _booking_page(request, session, runtime, clinic=clinic, brand=brand, choices=choices)


@router.post("/book/{practice_id}/appointments")
async def book(request: Request, practice_id: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    try:
        clinic, brand = await _practice(request, session, practice_id)
    except NotFound:
        return _message(
            request, brand=None, title="Not found", message="There is no practice here.", status_code=404
        )
    if not clinic.booking_enabled:
        return _unavailable(request, brand)
    decision = await runtime.rate_limiter.hit(BOOKINGS_PER_ADDRESS, "book", client_address(request))
    if not decision.allowed:
        minutes = max(1, -(-decision.reset_after // 60))
        return _page(
            request,
            "message.html",
            {
                "title": "Too many bookings",
                "message": f"Too many bookings from your connection. Try again in {minutes} minute(s).",
            },
            brand=brand,
            status_code=429,
            extra_headers={"Retry-After": str(decision.reset_after)},
        )
    typed: dict[str, str] = {}
    choices = _fallback_choices(clinic)
    try:
        form = await _form(request)
        typed = {name: _field(form, name) or "" for name in ("name", "email", "phone")}
        choices = _read_choices({name: _field(form, name) for name in form}, clinic)
        if choices.service_id is None:
            raise InvalidInput("service: choose a service", field="service")
        details = client_booking.read_details(
            full_name=_text(typed["name"], field="name", longest=client_booking.MAX_NAME_CHARS * 2),
            email=_text(typed["email"], field="email", longest=400),
            phone=_text(typed["phone"], field="phone", longest=client_booking.MAX_PHONE_CHARS),
            region=clinic.address_country,
        )
        async with session.begin_nested():  # a refused booking leaves no client behind
            appointment = await client_booking.book_as_client(
                session,
                clinic=clinic,
                request=ClientBookingRequest(
                    service_id=choices.service_id,
                    location_id=choices.location_id,
                    practitioner_id=choices.practitioner_id,
                    starts_at=_instant(_field(form, "slot")),
                    details=details,
                ),
                links=runtime.links,
                clock=runtime.clock,
            )
    except CoreError as exc:
        return await _booking_page(
            request,
            session,
            runtime,
            clinic=clinic,
            brand=brand,
            choices=choices,
            error=exc.message,
            typed=typed,
            status_code=409 if exc.code == "conflict" else 400,
        )
    return _page(
        request,
        "booked.html",
        {
            "appointment": appointment,
            "when": _client_time(appointment, choices.time_zone),
            "email": details.email,
        },
        brand=brand,
    )


def _client_time(appointment: Appointment, time_zone: str) -> str:
    return notices.local_wording(appointment.starts_at, time_zone)


# --- the client's own appointment page (the signed link) ------------------------------------------


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


@dataclass(frozen=True, slots=True)
class ManageLink:
    path: str
    expires: int
    signature: str

    @property
    def query(self) -> str:
        return urlencode({"expires": self.expires, "signature": self.signature})

    def url(self, suffix: str = "", **params: str) -> str:
        extra = f"&{urlencode(params)}" if params else ""
        return f"{self.path}{suffix}?{self.query}{extra}"


async def _open_link(
    request: Request, session: AsyncSession, runtime: Runtime, practice_id: str, appointment_id: str
) -> tuple[Clinic, Brand, Appointment, ManageLink]:
    not_found = _Refused(
        _message(
            request,
            brand=None,
            title="Link not found",
            message="This link is not valid. Open it again from your confirmation email.",
            status_code=404,
        )
    )
    signature = request.query_params.get("signature", "")
    expires_text = request.query_params.get("expires", "")
    if not (expires_text.isascii() and expires_text.isdigit() and len(expires_text) <= 12):
        raise not_found
    if len(signature) > MAX_SIGNATURE_CHARS:
        raise not_found
    try:
        clinic, brand = await _practice(request, session, practice_id)
        parsed_id = uuid.UUID(appointment_id)
    except (NotFound, ValueError):
        raise not_found from None
    expires = int(expires_text)
    path = client_booking.manage_path(clinic.practice_id, parsed_id)
    links = runtime.links
    if not hmac.compare_digest(links.signature(path, expires).encode(), signature.encode()):
        raise not_found
    try:
        appointment = await client_booking.client_appointment(
            session, clinic=clinic, appointment_id=parsed_id
        )
    except NotFound:
        raise not_found from None
    if not links.verify(path, signature=signature, expires=expires, now=runtime.clock.now()):
        raise _Refused(
            _message(
                request,
                brand=brand,
                title="This link has expired",
                message="Contact the practice to change your appointment.",
                status_code=410,
            )
        )
    return (
        clinic,
        brand,
        appointment,
        ManageLink(path, expires, signature),
    )


async def _manage_page(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    *,
    clinic: Clinic,
    brand: Brand,
    appointment: Appointment,
    link: ManageLink,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    zone_text = request.query_params.get("tz", "")
    day_text = request.query_params.get("day", "")
    slots: list[ShownSlot] = []
    time_zone = clinic.time_zone
    try:
        if zone_text:
            time_zone = client_booking.read_time_zone(_text(zone_text, field="time_zone", longest=64))
        day = parse_date(_text(day_text, field="day", longest=10), field="day") if day_text else None
        settings = await client_booking.get_widget_settings(session, clinic_id=clinic.id, clock=runtime.clock)
        refusal = client_booking.change_refusal(settings, appointment, now=runtime.clock.now())
        if day is not None and refusal is None:
            slots = _shown_slots(
                await client_booking.reschedule_slots(
                    session,
                    clinic=clinic,
                    appointment=appointment,
                    day=day,
                    time_zone=time_zone,
                    clock=runtime.clock,
                ),
                time_zone,
            )
    except CoreError as exc:
        error, day, refusal = exc.message, None, None
        status_code = 400
    return _page(
        request,
        "manage.html",
        {
            "appointment": appointment,
            "link": link,
            "when": _client_time(appointment, time_zone),
            "time_zone": time_zone,
            "day": day.isoformat() if day else "",
            "slots": slots,
            "refusal": refusal,
            "error": error,
            "notice": notice,
            "status": appointment.status.replace("_", " "),
        },
        brand=brand,
        status_code=status_code,
    )


@router.get("/book/{practice_id}/appointments/{appointment_id}")
async def manage_page(
    request: Request, practice_id: str, appointment_id: str, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        clinic, brand, appointment, link = await _open_link(
            request, session, runtime, practice_id, appointment_id
        )
    except _Refused as refused:
        return refused.response
    return await _manage_page(
        request, session, runtime, clinic=clinic, brand=brand, appointment=appointment, link=link
    )


@router.post("/book/{practice_id}/appointments/{appointment_id}/cancel")
async def cancel(
    request: Request, practice_id: str, appointment_id: str, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        clinic, brand, appointment, link = await _open_link(
            request, session, runtime, practice_id, appointment_id
        )
    except _Refused as refused:
        return refused.response
    target = appointment.id
    try:
        async with session.begin_nested():
            appointment = await client_booking.cancel_as_client(
                session, clinic=clinic, appointment_id=target, clock=runtime.clock
            )
    except CoreError as exc:
        # The savepoint's rollback expired what it touched: read the appointment again.
        appointment = await client_booking.client_appointment(session, clinic=clinic, appointment_id=target)
        return await _manage_page(
            request,
            session,
            runtime,
            clinic=clinic,
            brand=brand,
            appointment=appointment,
            link=link,
            error=exc.message,
            status_code=409,
        )
    return await _manage_page(
        request,
        session,
        runtime,
        clinic=clinic,
        brand=brand,
        appointment=appointment,
        link=link,
        notice="Your appointment is cancelled.",
    )


@router.post("/book/{practice_id}/appointments/{appointment_id}/reschedule")
async def reschedule(
    request: Request, practice_id: str, appointment_id: str, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        clinic, brand, appointment, link = await _open_link(
            request, session, runtime, practice_id, appointment_id
        )
    except _Refused as refused:
        return refused.response
    target = appointment.id
    try:
        form = await _form(request)
        async with session.begin_nested():
            appointment = await client_booking.reschedule_as_client(
                session,
                clinic=clinic,
                appointment_id=target,
                starts_at=_instant(_field(form, "slot")),
                links=runtime.links,
                clock=runtime.clock,
            )
    except CoreError as exc:
        # The savepoint's rollback expired what it touched: read the appointment again.
        appointment = await client_booking.client_appointment(session, clinic=clinic, appointment_id=target)
        return await _manage_page(
            request,
            session,
            runtime,
            clinic=clinic,
            brand=brand,
            appointment=appointment,
            link=link,
            error=exc.message,
            status_code=409 if exc.code == "conflict" else 400,
        )
    return await _manage_page(
        request,
        session,
        runtime,
        clinic=clinic,
        brand=brand,
        appointment=appointment,
        link=link,
        notice="Your appointment was moved. We emailed you the new time.",
    )
