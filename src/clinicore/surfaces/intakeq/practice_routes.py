"""IntakeQ practice API routes (``/intakeq/api/v1``): practitioners, assistants and form templates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from clinicore.core.audit.service import Actor
from clinicore.core.forms import service as form_service
from clinicore.core.forms.schemas import FormOwner
from clinicore.core.staff import service as staff_service
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.surfaces.intakeq import mappers, wire
from clinicore.surfaces.intakeq.auth import PracticeKey
from clinicore.surfaces.intakeq.body import documented_body, json_body, query_flag

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": wire.Error, "description": description}
    for status, description in {
        400: "bad request",
        401: "missing or invalid X-Auth-Key",
        404: "not found",
    }.items()
}
router = APIRouter(responses=ERRORS)
PractitionerBody = Annotated[wire.PractitionerIn, Depends(json_body(wire.PractitionerIn))]
AssistantBody = Annotated[wire.AssistantIn, Depends(json_body(wire.AssistantIn))]
DONE = 200  # IntakeQ answers these actions with an empty 200


def actor_of(caller: PracticeKey) -> Actor:
    return Actor.api_key(caller.key.id)


# --- practitioners --------------------------------------------------------------------------------


@router.post(
    "/practitioners",
    openapi_extra=documented_body(wire.PractitionerIn),
    response_model=wire.Practitioner,
    summary="Create a practitioner",
)
async def create_practitioner(
    body: PractitionerBody, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Practitioner:
    created = await staff_service.create_practitioner(
        session,
        clinic=caller.clinic,
        details=mappers.practitioner_details(body),
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.practitioner(created)


@router.put(
    "/practitioners",
    openapi_extra=documented_body(wire.PractitionerIn),
    response_model=wire.Practitioner,
    summary="Update a practitioner",
)
async def update_practitioner(
    body: PractitionerBody, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Practitioner:
    updated = await staff_service.update_practitioner(
        session,
        clinic=caller.clinic,
        reference=body.Id,
        details=mappers.practitioner_details(body),
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.practitioner(updated)


@router.get("/practitioners", response_model=list[wire.Practitioner], summary="List practitioners")
async def list_practitioners(
    request: Request, caller: PracticeKey, session: SessionDep
) -> list[wire.Practitioner]:
    rows = await staff_service.list_practitioners(
        session, clinic_id=caller.clinic.id, include_inactive=query_flag(request, "includeInactive")
    )
    return [mappers.practitioner(row) for row in rows]


@router.post("/practitioners/{practitioner_id}/disable", summary="Disable a practitioner")
async def disable_practitioner(
    practitioner_id: str, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await staff_service.set_practitioner_active(
        session,
        clinic_id=caller.clinic.id,
        reference=practitioner_id,
        active=False,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return Response(status_code=DONE)


@router.post("/practitioners/{practitioner_id}/enable", summary="Enable a practitioner")
async def enable_practitioner(
    practitioner_id: str, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await staff_service.set_practitioner_active(
        session,
        clinic_id=caller.clinic.id,
        reference=practitioner_id,
        active=True,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return Response(status_code=DONE)


@router.delete("/practitioners/{practitioner_id}", summary="Delete a practitioner without client data")
async def delete_practitioner(
    practitioner_id: str, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await staff_service.delete_practitioner(
        session,
        clinic_id=caller.clinic.id,
        reference=practitioner_id,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return Response(status_code=DONE)


@router.post(
    "/practitioners/{source_id}/transferData/{destination_id}",
    summary="Give a practitioner's clients and appointments to another",
)
async def transfer_client_data(
    source_id: str, destination_id: str, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await staff_service.transfer_client_data(
        session,
        clinic_id=caller.clinic.id,
        source=source_id,
        destination=destination_id,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return Response(status_code=DONE)


@router.post(
    "/practitioners/{source_id}/transferClientOwnership/{destination_id}",
    summary="Give a practitioner's clients to another, leaving its history",
)
async def transfer_client_ownership(
    source_id: str, destination_id: str, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await staff_service.transfer_client_ownership(
        session,
        clinic_id=caller.clinic.id,
        source=source_id,
        destination=destination_id,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return Response(status_code=DONE)


# --- assistants -----------------------------------------------------------------------------------


@router.post(
    "/assistants",
    openapi_extra=documented_body(wire.AssistantIn),
    response_model=wire.Assistant,
    summary="Create an assistant",
)
async def create_assistant(
    body: AssistantBody, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Assistant:
    created = await staff_service.create_assistant(
        session,
        clinic=caller.clinic,
        details=mappers.assistant_details(body),
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.assistant(created)


@router.put(
    "/assistants",
    openapi_extra=documented_body(wire.AssistantIn),
    response_model=wire.Assistant,
    summary="Update an assistant",
)
async def update_assistant(
    body: AssistantBody, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Assistant:
    updated = await staff_service.update_assistant(
        session,
        clinic=caller.clinic,
        reference=body.Id,
        details=mappers.assistant_details(body),
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.assistant(updated)


@router.get("/assistants", response_model=list[wire.Assistant], summary="List assistants")
async def list_assistants(request: Request, caller: PracticeKey, session: SessionDep) -> list[wire.Assistant]:
    views = await staff_service.list_assistants(
        session, clinic_id=caller.clinic.id, include_inactive=query_flag(request, "includeInactive")
    )
    return [mappers.assistant(view) for view in views]


@router.post("/assistants/{assistant_id}/disable", summary="Disable an assistant")
async def disable_assistant(
    assistant_id: str, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await staff_service.disable_assistant(
        session,
        clinic_id=caller.clinic.id,
        reference=assistant_id,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return Response(status_code=DONE)


@router.delete("/assistants/{assistant_id}", summary="Delete an assistant")
async def delete_assistant(
    assistant_id: str, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await staff_service.delete_assistant(
        session,
        clinic_id=caller.clinic.id,
        reference=assistant_id,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return Response(status_code=DONE)


# --- form templates (the Forms API) ---------------------------------------------------------------


@router.get(
    "/questionnaires", response_model=list[wire.Questionnaire], summary="The practice's form templates"
)
async def list_questionnaires(caller: PracticeKey, session: SessionDep) -> list[wire.Questionnaire]:
    rows = await form_service.list_forms(session, owner=FormOwner.clinic(caller.clinic.id))
    return [mappers.questionnaire(row) for row in rows]
