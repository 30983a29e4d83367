"""The console's settings page: what a clinic may change about itself (``core/tenancy/clinic_settings``),
and the parts its partner switches on and off (forms, booking), shown but not changed here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.tenancy import clinic_settings
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.clinic_settings import ClinicSettingsChanges
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.web.console.form_models import City, Email, Name, Phone, TimeZoneName
from clinicore.web.console.forms import ConsoleForm, Refusal, refusal_context, submit_form
from clinicore.web.console.routes import render
from clinicore.web.console.session import require

router = APIRouter(include_in_schema=False)

SettingsEditor = Annotated[SignedInUser, require(Permission.change_settings)]
ShortText = Annotated[str, StringConstraints(max_length=32)]  # a state, a ZIP code


class SettingsForm(ConsoleForm):
    name: Name = ""
    email: Email = ""
    phone: Phone = ""
    time_zone: TimeZoneName = ""
    address_street: Name = ""
    address_city: City = ""
    address_state: ShortText = ""
    address_zip: ShortText = ""

    def changes(self) -> ClinicSettingsChanges:
        return ClinicSettingsChanges(
            name=self.name,
            email=self.email,
            phone=self.phone,
            time_zone=self.time_zone,
            address_street=self.address_street,
            address_city=self.address_city,
            address_state=self.address_state,
            address_zip=self.address_zip,
        )


async def _settings_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    *,
    saved: bool = False,
    refusal: Refusal | None = None,
) -> Response:
    return render(
        request,
        "settings.html",
        **refusal_context(refusal),
        user=user,
        nav="settings",
        clinic=await tenancy_service.get_clinic(session, user.clinic.id),
        notice="Settings saved." if saved else None,
    )


@router.get("/console/settings")
async def settings_page(
    request: Request,
    user: SettingsEditor,
    session: SessionDep,
    notice: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return await _settings_page(request, user, session, saved=notice == "saved")


@router.post("/console/settings")
async def save_settings(
    request: Request, user: SettingsEditor, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: SettingsForm) -> str:
        await clinic_settings.update_clinic_settings(
            session,
            clinic_id=user.clinic.id,
            changes=form.changes(),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return "/console/settings?notice=saved"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=SettingsForm,
        act=act,
        refused=lambda refusal: _settings_page(request, user, session, refusal=refusal),
    )
