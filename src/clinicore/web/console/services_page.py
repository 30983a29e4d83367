"""The console's services page: the practice's service catalog (``core/scheduling/catalog.py``) and,
per service, whether it is seen by video (``telehealth``): each appointment of a telehealth service gets
a video room (``core/scheduling/video_rooms.py``), whatever books it.

Services are made by the demo, the partner's set-up and the APIs; this page changes the video flag only.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.scheduling import catalog
from clinicore.core.scheduling.schemas import ServiceInput
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import NotFound
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.web.console.form_models import Checkbox
from clinicore.web.console.forms import ConsoleForm, Refusal, refusal_context, submit_form
from clinicore.web.console.routes import render
from clinicore.web.console.session import CurrentUser, require

router = APIRouter(include_in_schema=False, dependencies=[require(Permission.change_settings)])


class ServiceVideoForm(ConsoleForm):
    telehealth: Checkbox = False


async def _page(
    request: Request, user: SignedInUser, session: AsyncSession, *, refusal: Refusal | None = None
) -> Response:
    services = await catalog.list_services(session, clinic_id=user.clinic.id, include_inactive=True)
    return render(
        request,
        "services.html",
        **refusal_context(refusal),
        user=user,
        nav="services",
        services=services,
    )


@router.get("/console/services")
async def services_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return await _page(request, user, session)


@router.post("/console/services/{service_id}")
async def update_service_video(
    request: Request, service_id: str, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        service_uuid = uuid.UUID(service_id)
    except ValueError:
        raise NotFound("service not found") from None

    async def act(form: ServiceVideoForm) -> str:
        await catalog.update_service(
            session,
            clinic_id=user.clinic.id,
            service_id=service_uuid,
            data=ServiceInput(telehealth=form.telehealth),
            clock=runtime.clock,
        )
        return "/console/services"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=ServiceVideoForm,
        act=act,
        refused=lambda refusal: _page(request, user, session, refusal=refusal),
    )
