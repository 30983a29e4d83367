"""Console providers admin: the providers the clinic works with (``core/telehealth/provider_admin.py``
says how providers relate to clinics), adding one with a provider-desk password, editing their details
and medical-director flag, deactivating, and their licences (state, number, expiry; an expired licence
shows as expired and counts as none)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.telehealth import provider_admin
from clinicore.core.telehealth.provider_admin import ProviderDetails
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import NotFound
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.clinic_time import parse_date
from clinicore.web.console.form_models import Blank, Checkbox, Email, EmptyForm, Name, Password, reads
from clinicore.web.console.forms import ConsoleForm, FormT, Refusal, refusal_context, submit_form
from clinicore.web.console.routes import render
from clinicore.web.console.session import CurrentUser, require

router = APIRouter(include_in_schema=False, dependencies=[require(Permission.manage_users)])

NOTICES = {
    "added": "Provider added. They sign in at /provider with their email and the password you set.",
    "saved": "Saved.",
    "password": "Password set. Tell the provider through a channel you trust.",
    "deactivated": "Provider deactivated: they can no longer sign in at the provider desk.",
    "reactivated": "Provider reactivated.",
    "license-saved": "Licence saved.",
    "license-removed": "Licence removed.",
}

Credentials = Annotated[str, StringConstraints(max_length=50)]
Npi = Annotated[str, StringConstraints(max_length=20)]
StateCode = Annotated[str, StringConstraints(max_length=10)]
LicenseNumber = Annotated[str, StringConstraints(max_length=50)]


class ProviderDetailsForm(ConsoleForm):
    name: Name = ""
    credentials: Blank[Credentials] = None
    npi: Blank[Npi] = None
    medical_director: Checkbox = False

    def details(self) -> ProviderDetails:
        return ProviderDetails(
            name=self.name,
            credentials=self.credentials,
            npi=self.npi,
            is_medical_director=self.medical_director,
        )


class NewProviderForm(ProviderDetailsForm):
    email: Email = ""
    password: Password = ""


class PasswordForm(ConsoleForm):
    password: Password = ""


class LicenseForm(ConsoleForm):
    state: StateCode = ""
    license_number: Blank[LicenseNumber] = None
    expires_on: Annotated[date | None, reads(parse_date, field="expires_on", optional=True)] = None


def provider_path(provider_id: uuid.UUID, notice: str | None = None) -> str:
    return f"/console/providers/{provider_id}" + (f"?notice={notice}" if notice else "")


def parse_provider_id(raw: str) -> uuid.UUID:
    try:
        if len(raw) <= 36:
            return uuid.UUID(raw)
    except ValueError:
        pass
    raise NotFound("provider not found", field="provider_id")


# --- the list ---------------------------------------------------------------------------------------


async def _providers_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    *,
    refusal: Refusal | None = None,
) -> Response:
    return render(
        request,
        "providers.html",
        **refusal_context(refusal),
        user=user,
        nav="providers",
        providers=await provider_admin.list_providers(session, clinic_id=user.clinic.id, clock=runtime.clock),
    )


@router.get("/console/providers")
async def providers_page(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _providers_page(request, user, session, runtime)


@router.post("/console/providers")
async def add_provider(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: NewProviderForm) -> str:
        provider = await provider_admin.add_provider(
            session,
            clinic_id=user.clinic.id,
            details=form.details(),
            email=form.email,
            password=form.password,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return provider_path(provider.id, "added")

    async def refused(refusal: Refusal) -> Response:
        # The typed password is never shown again.
        kept = Refusal(refusal.error, {k: v for k, v in refusal.form.items() if k != "password"})
        return await _providers_page(request, user, session, runtime, refusal=kept)

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=NewProviderForm,
        act=act,
        refused=refused,
    )


# --- one provider -------------------------------------------------------------------------------------


async def _provider_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    provider_id: uuid.UUID,
    *,
    notice: str | None = None,
    refusal: Refusal | None = None,
) -> Response:
    view = await provider_admin.get_provider(
        session, clinic_id=user.clinic.id, provider_id=provider_id, clock=runtime.clock
    )
    if refusal is not None:
        refusal = Refusal(refusal.error, {k: v for k, v in refusal.form.items() if k != "password"})
    return render(
        request,
        "providers_detail.html",
        **refusal_context(refusal),
        user=user,
        nav="providers",
        view=view,
        provider=view.provider,
        notice=NOTICES.get(notice or ""),
    )


@router.get("/console/providers/{provider_id}")
async def provider_page(
    request: Request,
    provider_id: str,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    notice: str = "",
) -> Response:
    return await _provider_page(
        request, user, session, runtime, parse_provider_id(provider_id), notice=notice[:20]
    )


async def _act(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    provider_id: uuid.UUID,
    form: type[FormT],
    action: Callable[[FormT], Awaitable[None]],
    notice: str,
) -> Response:
    """One provider action: back to the provider's page with its notice, or the page with the reason."""

    async def act(parsed: FormT) -> str:
        await action(parsed)
        return provider_path(provider_id, notice)

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=form,
        act=act,
        refused=lambda refusal: _provider_page(request, user, session, runtime, provider_id, refusal=refusal),
    )


@router.post("/console/providers/{provider_id}")
async def update_provider(
    request: Request, provider_id: str, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    found = parse_provider_id(provider_id)

    async def action(form: ProviderDetailsForm) -> None:
        await provider_admin.update_provider(
            session,
            clinic_id=user.clinic.id,
            provider_id=found,
            details=form.details(),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )

    return await _act(request, user, session, runtime, found, ProviderDetailsForm, action, "saved")


@router.post("/console/providers/{provider_id}/password")
async def set_password(
    request: Request, provider_id: str, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    found = parse_provider_id(provider_id)

    async def action(form: PasswordForm) -> None:
        await provider_admin.set_provider_password(
            session,
            clinic_id=user.clinic.id,
            provider_id=found,
            password=form.password,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )

    return await _act(request, user, session, runtime, found, PasswordForm, action, "password")


@router.post("/console/providers/{provider_id}/deactivate")
async def deactivate_provider(
    request: Request, provider_id: str, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _set_active(request, provider_id, user, session, runtime, active=False)


@router.post("/console/providers/{provider_id}/reactivate")
async def reactivate_provider(
    request: Request, provider_id: str, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _set_active(request, provider_id, user, session, runtime, active=True)


async def _set_active(
    request: Request,
    provider_id: str,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    *,
    active: bool,
) -> Response:
    found = parse_provider_id(provider_id)

    async def action(_form: EmptyForm) -> None:
        await provider_admin.set_provider_active(
            session,
            clinic_id=user.clinic.id,
            provider_id=found,
            active=active,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )

    notice = "reactivated" if active else "deactivated"
    return await _act(request, user, session, runtime, found, EmptyForm, action, notice)


@router.post("/console/providers/{provider_id}/licenses")
async def set_license(
    request: Request, provider_id: str, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    found = parse_provider_id(provider_id)

    async def action(form: LicenseForm) -> None:
        await provider_admin.set_license(
            session,
            clinic_id=user.clinic.id,
            provider_id=found,
            state=form.state,
            license_number=form.license_number,
            expires_on=form.expires_on,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )

    return await _act(request, user, session, runtime, found, LicenseForm, action, "license-saved")


@router.post("/console/providers/{provider_id}/licenses/{state}/remove")
async def remove_license(
    request: Request,
    provider_id: str,
    state: str,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    found = parse_provider_id(provider_id)

    async def action(_form: EmptyForm) -> None:
        await provider_admin.remove_license(
            session,
            clinic_id=user.clinic.id,
            provider_id=found,
            state=state[:10],
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )

    return await _act(request, user, session, runtime, found, EmptyForm, action, "license-removed")
