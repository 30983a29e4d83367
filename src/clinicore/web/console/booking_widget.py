"""The console's booking widget page: the practice's public booking page, the snippet that embeds it in
any site, and its settings: whether a client's booking waits for the clinic's confirmation, how late
before an appointment the client may still cancel or reschedule it through their link, and how long
before an appointment its reminder goes out (``reminders.set_reminder_lead``, for every appointment of
the practice, whatever booked it).

Whether the practice books online at all (``booking_enabled``) is its partner's switch (IntakeQ
``BookingEnabled``); the page shows it but does not change it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.scheduling import client_booking, reminders
from clinicore.core.scheduling.settings import get_booking_settings
from clinicore.core.tenancy.brand import brand_for_clinic
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.form_models import Checkbox, parse_whole_number, reads
from clinicore.web.console.forms import ConsoleForm, Refusal, refusal_context, submit_form
from clinicore.web.console.routes import render
from clinicore.web.console.session import CurrentUser, require

router = APIRouter(include_in_schema=False, dependencies=[require(Permission.change_settings)])


LeadMinutes = Annotated[int | None, reads(parse_whole_number, field="reminder_lead_minutes")]


class BookingWidgetForm(ConsoleForm):
    requires_confirmation: Checkbox = False
    client_change_notice_hours: Annotated[int, reads(parse_whole_number, field="client_change_notice_hours")]
    # Left out: unchanged; given, it must be a number in the core's range (reminders.set_reminder_lead).
    reminder_lead_minutes: LeadMinutes = None


def embed_snippet(base_url: str, practice_id: str) -> str:
    return f'<script src="{base_url}/static/book-embed.js" data-practice="{practice_id}" async></script>'


async def _page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    *,
    refusal: Refusal | None = None,
) -> Response:
    settings = await client_booking.get_widget_settings(
        session, clinic_id=user.clinic.id, clock=runtime.clock
    )
    booking_settings = await get_booking_settings(session, clinic_id=user.clinic.id, clock=runtime.clock)
    base_url = (await brand_for_clinic(session, user.clinic.id)).base_url(runtime.settings.base_url)
    return render(
        request,
        "booking_widget.html",
        **refusal_context(refusal),
        user=user,
        nav="booking-widget",
        settings=settings,
        reminder_lead_minutes=booking_settings.reminder_lead_minutes,
        lead_range=(reminders.MIN_LEAD_MINUTES, reminders.MAX_LEAD_MINUTES),
        booking_enabled=user.clinic.booking_enabled,
        page_url=f"{base_url}/book/{user.clinic.practice_id}",
        snippet=embed_snippet(base_url, user.clinic.practice_id),
    )


@router.get("/console/booking-widget")
async def booking_widget_page(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _page(request, user, session, runtime)


@router.post("/console/booking-widget")
async def update_booking_widget(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: BookingWidgetForm) -> str:
        await client_booking.update_widget_settings(
            session,
            clinic_id=user.clinic.id,
            requires_confirmation=form.requires_confirmation,
            client_change_notice_hours=form.client_change_notice_hours,
            clock=runtime.clock,
        )
        if form.reminder_lead_minutes is not None:
            await reminders.set_reminder_lead(
                session, clinic_id=user.clinic.id, minutes=form.reminder_lead_minutes, clock=runtime.clock
            )
        return "/console/booking-widget"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=BookingWidgetForm,
        act=act,
        refused=lambda refusal: _page(request, user, session, runtime, refusal=refusal),
    )
