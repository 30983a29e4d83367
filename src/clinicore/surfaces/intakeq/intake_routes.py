"""IntakeQ intake routes on ``/intakeq/api/v1`` (practice key): the partner doc's "Create Intake Form" and
"Create Form Authentication Token", and the Forms API's send, get, summary, PDF and attachment calls."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from clinicore.core.audit.service import Actor
from clinicore.core.forms import intake_document, intakes
from clinicore.kit.errors import InvalidInput
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.surfaces.intakeq import mappers, wire
from clinicore.surfaces.intakeq.auth import PracticeKey
from clinicore.surfaces.intakeq.body import documented_body, json_body, query_flag, query_page, query_value

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": wire.Error, "description": description}
    for status, description in {
        400: "bad request",
        401: "missing or invalid X-Auth-Key",
        404: "not found",
    }.items()
}
router = APIRouter(responses=ERRORS)
IntakeBody = Annotated[wire.IntakeIn, Depends(json_body(wire.IntakeIn))]


def actor_of(caller: PracticeKey) -> Actor:
    return Actor.api_key(caller.key.id)


def query_date(request: Request, name: str) -> date | None:
    """A ``yyyy-MM-dd`` query parameter, or None when left out."""
    value = (query_value(request, name) or "").strip()
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: must be a date as yyyy-MM-dd", field=name) from None


def query_client_number(request: Request) -> int | None:
    """``clientId``: the integer client number, or None when left out."""
    value = (query_value(request, "clientId") or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or int(value) > wire.MAX_CLIENT_NUMBER:
        raise InvalidInput("clientId: must be a whole number", field="clientId")
    return int(value)


@router.post(
    "/intakes/create",
    openapi_extra=documented_body(wire.IntakeIn),
    response_model=wire.Intake,
    summary="Create an intake form without sending it",
)
async def create_intake(
    body: IntakeBody, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Intake:
    view = await intakes.create_intake(
        session,
        clinic=caller.clinic,
        request=mappers.intake_request(body),
        secret_box=runtime.box,
        base_url=runtime.settings.base_url,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.intake(view, base_url=runtime.settings.base_url)


@router.post(
    "/intakes/send",
    openapi_extra=documented_body(wire.IntakeIn),
    response_model=wire.Intake,
    summary="Create an intake form and email its link and password to the client",
)
async def send_intake(
    body: IntakeBody, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Intake:
    view = await intakes.send_intake(
        session,
        clinic=caller.clinic,
        request=mappers.intake_request(body),
        secret_box=runtime.box,
        base_url=runtime.settings.base_url,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.intake(view, base_url=runtime.settings.base_url)


@router.get("/intakes/summary", response_model=list[wire.IntakeSummary], summary="Query intake forms")
async def intake_summary(
    request: Request, caller: PracticeKey, session: SessionDep
) -> list[wire.IntakeSummary]:
    rows = await intakes.list_intakes(
        session,
        clinic_id=caller.clinic.id,
        client=query_value(request, "client"),
        start=query_date(request, "startDate"),
        end=query_date(request, "endDate"),
        page=query_page(request),
        include_unsubmitted=query_flag(request, "all"),
        client_number=query_client_number(request),
        external_client_id=query_value(request, "externalClientId"),
    )
    return [mappers.intake_summary(row) for row in rows]


@router.get("/intakes/{intake_id}", response_model=wire.Intake, summary="Get a full intake form")
async def get_intake(
    intake_id: str, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Intake:
    view = await intakes.intake_view(
        session,
        clinic_id=caller.clinic.id,
        intake_id=intake_id,
        secret_box=runtime.box,
        base_url=runtime.settings.base_url,
    )
    return mappers.intake(view, base_url=runtime.settings.base_url)


@router.get(
    "/intakes/{intake_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="Download an intake form as PDF",
)
async def intake_pdf(
    intake_id: str, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    document = await intake_document.render_pdf(
        session, runtime.storage, clinic_id=caller.clinic.id, intake_id=intake_id
    )
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="intake.pdf"', "Cache-Control": "no-store"},
    )


@router.post(
    "/intakes/{intake_id}/token", response_model=wire.IntakeToken, summary="Create a form sign-in token"
)
async def intake_token(
    intake_id: str, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.IntakeToken:
    issued = await intakes.issue_token(
        session,
        clinic_id=caller.clinic.id,
        intake_id=intake_id,
        base_url=runtime.settings.base_url,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.intake_token(issued)


@router.get(
    "/attachment/{attachment_id}",
    response_class=Response,
    summary="Download a file a client gave in an intake form",
)
async def attachment(
    attachment_id: str, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    found, data = await intakes.read_clinic_file(
        session, runtime.storage, clinic_id=caller.clinic.id, file_id=attachment_id
    )
    return Response(
        data,
        media_type=found.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
