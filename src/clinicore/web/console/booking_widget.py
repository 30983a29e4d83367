"""The console's booking widget page: the practice's public booking page, the snippet that embeds it in
any site, and its two settings (whether a client's booking waits for the clinic's confirmation, and how
late before an appointment the client may still cancel or reschedule it through their link).

Whether the practice books online at all (``booking_enabled``) is its partner's switch (IntakeQ
``BookingEnabled``); the page shows it but does not change it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.scheduling import client_booking
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


class BookingWidgetForm(ConsoleForm):
    requires_confirmation: Checkbox = False
    client_change_notice_hours: Annotated[int, reads(parse_whole_number, field="client_change_notice_hours")]


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
    base_url = (await brand_for_clinic(session, user.clinic.id)).base_url(runtime.settings.base_url)
    return render(
        request,
        "booking_widget.html",
        **refusal_context(refusal),
        user=user,
        nav="booking-widget",
        settings=settings,
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
        return "/console/booking-widget"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=BookingWidgetForm,
        act=act,
        refused=lambda refusal: _page(request, user, session, runtime, refusal=refusal),
    )
