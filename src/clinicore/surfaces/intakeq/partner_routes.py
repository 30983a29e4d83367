"""IntakeQ partner API routes (``/intakeq/api/partner``): parse the wire, call one core service, map."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from clinicore.core.audit.service import Actor
from clinicore.core.forms import service as form_service
from clinicore.core.forms.schemas import FormOwner
from clinicore.core.staff import sign_in as staff_sign_in
from clinicore.core.tenancy import practices as practice_service
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.surfaces.intakeq import mappers, wire
from clinicore.surfaces.intakeq.auth import PartnerKey
from clinicore.surfaces.intakeq.body import documented_body, json_body, query_page, query_value

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": wire.Error, "description": description}
    for status, description in {
        400: "bad request",
        401: "missing or invalid X-Auth-Key",
        404: "not found",
    }.items()
}
router = APIRouter(responses=ERRORS)
PracticeBody = Annotated[wire.PracticeIn, Depends(json_body(wire.PracticeIn))]
CopyFormBody = Annotated[wire.CopyFormIn, Depends(json_body(wire.CopyFormIn))]


def actor_of(caller: PartnerKey) -> Actor:
    return Actor.api_key(caller.key.id)


@router.post(
    "/practice",
    openapi_extra=documented_body(wire.PracticeIn),
    response_model=wire.Practice,
    summary="Create a practice",
)
async def create_practice(
    body: PracticeBody, caller: PartnerKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Practice:
    created = await practice_service.create_practice(
        session,
        box=runtime.box,
        partner=caller.partner,
        details=mappers.practice_details(body),
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.practice(created)


@router.put(
    "/practice",
    openapi_extra=documented_body(wire.PracticeIn),
    response_model=wire.Practice,
    summary="Update a practice (by Id or ExternalPracticeId)",
)
async def update_practice(
    body: PracticeBody, caller: PartnerKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Practice:
    updated = await practice_service.update_practice(
        session,
        partner_id=caller.partner.id,
        reference=body.Id,
        details=mappers.practice_details(body),
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.practice(updated)


@router.delete("/practice/{practice_id}", summary="Delete a practice (by Id or ExternalPracticeId)")
async def delete_practice(
    practice_id: str, caller: PartnerKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await practice_service.delete_practice(
        session,
        partner_id=caller.partner.id,
        reference=practice_id,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return Response(status_code=200)


@router.get(
    "/practice",
    response_model=list[wire.Practice],
    summary="List practices, or find one by id, email or externalPracticeId (always an array)",
)
async def list_practices(request: Request, caller: PartnerKey, session: SessionDep) -> list[wire.Practice]:
    found = await practice_service.find_practices(
        session,
        partner_id=caller.partner.id,
        practice_id=query_value(request, "id"),
        email=query_value(request, "email"),
        external_practice_id=query_value(request, "externalPracticeId"),
        page=query_page(request),
    )
    return [mappers.practice(practice) for practice in found]


@router.get("/practice/{practice_id}/key", response_model=wire.PracticeKey, summary="The practice's API key")
async def get_practice_key(
    practice_id: str, caller: PartnerKey, session: SessionDep, runtime: RuntimeDep
) -> wire.PracticeKey:
    secret = await practice_service.practice_key(
        session,
        box=runtime.box,
        partner_id=caller.partner.id,
        reference=practice_id,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return wire.PracticeKey(ApiKey=secret)


class EphemeralToken(BaseModel):
    """``GET /practice/{id}/ephemeral``: a single sign-on token and the user it signs in (our id)."""

    Token: str
    UserId: str


@router.get(
    "/practice/{practice_id}/ephemeral",
    response_model=EphemeralToken,
    summary="A single sign-on token for a practice user (userId: our id or external id; none: the main one)",
)
async def get_ephemeral_token(
    practice_id: str, request: Request, caller: PartnerKey, session: SessionDep, runtime: RuntimeDep
) -> EphemeralToken:
    issued = await staff_sign_in.issue_token(
        session,
        partner_id=caller.partner.id,
        practice=practice_id,
        user=query_value(request, "userId"),
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return EphemeralToken(Token=issued.token, UserId=mappers.wire_id(issued.staff_id))


# --- forms ----------------------------------------------------------------------------------------


@router.get("/masterForms", response_model=list[wire.Form], summary="The partner's master forms")
async def list_master_forms(caller: PartnerKey, session: SessionDep) -> list[wire.Form]:
    rows = await form_service.list_forms(session, owner=FormOwner.partner(caller.partner.id))
    return [mappers.form(row) for row in rows]


@router.get(
    "/practice/{practice_id}/forms",
    response_model=list[wire.Form],
    summary="A practice's forms (by Id or ExternalPracticeId)",
)
async def list_practice_forms(practice_id: str, caller: PartnerKey, session: SessionDep) -> list[wire.Form]:
    rows = await form_service.list_practice_forms(session, partner_id=caller.partner.id, practice=practice_id)
    return [mappers.form(row) for row in rows]


@router.post(
    "/practice/copyForm",
    openapi_extra=documented_body(wire.CopyFormIn),
    response_model=wire.Form,
    summary="Copy a master form to a practice",
)
async def copy_form(
    body: CopyFormBody, caller: PartnerKey, session: SessionDep, runtime: RuntimeDep
) -> wire.Form:
    copied = await form_service.copy_master_form(
        session,
        partner_id=caller.partner.id,
        source_form_id=body.SourceMasterFormId,
        destination_practice=body.DestinationPracticeId,
        copy_consent_documents=bool(body.CopyAttachedConsentForms),
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.form(copied)
