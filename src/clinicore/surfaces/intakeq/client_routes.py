"""IntakeQ Client API routes on ``/intakeq/api/v1`` (practice key): list, read and save clients, tag them.
A client here is the clinic's ``core/people`` client; ``ClientId`` is its client number."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from clinicore.core.audit.service import Actor
from clinicore.core.people import profiles
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.surfaces.intakeq import client_mappers as mappers
from clinicore.surfaces.intakeq import client_wire as wire
from clinicore.surfaces.intakeq.auth import PracticeKey
from clinicore.surfaces.intakeq.body import documented_body, json_body, query_flag, query_page, query_value
from clinicore.surfaces.intakeq.intake_routes import query_date
from clinicore.surfaces.intakeq.wire import MAX_CLIENT_NUMBER, Error

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Error, "description": description}
    for status, description in {
        400: "bad request",
        401: "missing or invalid X-Auth-Key",
        404: "not found",
    }.items()
}
router = APIRouter(responses=ERRORS)
ClientBody = Annotated[wire.ClientIn, Depends(json_body(wire.ClientIn))]
TagBody = Annotated[wire.ClientTagIn, Depends(json_body(wire.ClientTagIn))]
CUSTOM = re.compile(r"custom\[(.*)\]", re.IGNORECASE)
MAX_CUSTOM_PARAMETERS = 11  # one more than the core takes, so that too many is its 400


def actor_of(caller: PracticeKey) -> Actor:
    return Actor.api_key(caller.key.id)


def _number(text: str | None) -> int | None:
    value = (text or "").strip()
    if (
        not (value.isascii() and value.isdigit())
        or len(value) > 10
        or not 1 <= int(value) <= MAX_CLIENT_NUMBER
    ):
        return None
    return int(value)


def query_custom(request: Request) -> dict[str, str]:
    """``custom[<fieldId>]=<value>`` parameters (the first of each field id)."""
    found: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        match = CUSTOM.fullmatch(key.strip())
        if match is None:
            continue
        field_id = match[1].strip()
        if not field_id:
            raise InvalidInput("custom: name a field as custom[<fieldId>]", field="custom")
        found.setdefault(field_id, value)
        if len(found) >= MAX_CUSTOM_PARAMETERS:
            break
    return found


@router.get(
    "/clients",
    response_model=list[wire.ClientSummary] | list[wire.ClientProfile],
    summary="Search the practice's clients",
)
async def list_clients(
    request: Request, caller: PracticeKey, session: SessionDep
) -> list[wire.ClientSummary] | list[wire.ClientProfile]:
    with_profiles = query_flag(request, "includeProfile")
    query = profiles.ClientQuery(
        text=query_value(request, "search"),
        page=query_page(request),
        created_start=query_date(request, "dateCreatedStart"),
        created_end=query_date(request, "dateCreatedEnd"),
        external_client_id=query_value(request, "externalClientId"),
        field_values=query_custom(request),
    )
    found = await profiles.list_clients(
        session, clinic=caller.clinic, query=query, with_profiles=with_profiles
    )
    if with_profiles:
        return [mappers.client_profile(profile) for profile in found]
    return [mappers.client_summary(profile) for profile in found]


@router.get(
    "/clients/profile/{client_id}", response_model=wire.ClientProfile, summary="A client's full profile"
)
async def get_client_profile(client_id: str, caller: PracticeKey, session: SessionDep) -> wire.ClientProfile:
    number = _number(client_id)
    if number is None:
        raise NotFound("client not found")
    profile = await profiles.get_profile(session, clinic_id=caller.clinic.id, number=number)
    return mappers.client_profile(profile)


@router.post(
    "/clients",
    openapi_extra=documented_body(wire.ClientIn),
    response_model=wire.ClientProfile,
    summary="Create a client, or update the one ClientId names",
)
async def save_client(
    body: ClientBody, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.ClientProfile:
    profile = await profiles.save_client(
        session,
        clinic_id=caller.clinic.id,
        number=body.ClientId,
        details=mappers.client_details(body),
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.client_profile(profile)


@router.post(
    "/clientTags",
    openapi_extra=documented_body(wire.ClientTagIn),
    response_model=wire.ClientTag,
    summary="Tag a client",
)
async def add_client_tag(
    body: TagBody, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> wire.ClientTag:
    if body.ClientId is None:
        raise InvalidInput("ClientId: is required", field="ClientId")
    client, tag = await profiles.tag_client(
        session,
        clinic_id=caller.clinic.id,
        number=body.ClientId,
        tag=body.Tag,
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return mappers.client_tag(client.number, tag)


@router.delete("/clientTags", summary="Take a tag off a client")
async def remove_client_tag(
    request: Request, caller: PracticeKey, session: SessionDep, runtime: RuntimeDep
) -> Response:
    raw = query_value(request, "clientId")
    if not (raw or "").strip():
        raise InvalidInput("clientId: is required", field="clientId")
    number = _number(raw)
    if number is None:
        raise InvalidInput("clientId: must be a whole number from 1", field="clientId")
    await profiles.untag_client(
        session,
        clinic_id=caller.clinic.id,
        number=number,
        tag=query_value(request, "tag"),
        actor=actor_of(caller),
        clock=runtime.clock,
    )
    return Response(status_code=200)
