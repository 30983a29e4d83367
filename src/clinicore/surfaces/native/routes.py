"""Native API routes: a clinic's own keys. Later issues add webhooks, events and more."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from clinicore.core.audit.service import Actor
from clinicore.core.models import ApiKeyKind
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.errors import InvalidInput
from clinicore.requests import RuntimeDep, SessionDep, reads_only
from clinicore.surfaces.native.auth import NativeKey
from clinicore.surfaces.native.mappers import api_key_created, api_key_public, clinic_public
from clinicore.surfaces.native.wire import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Me

router = APIRouter()


@router.get("/me", response_model=Me, summary="The clinic and the calling key")
@reads_only
async def get_me(caller: NativeKey) -> Me:
    return Me(clinic=clinic_public(caller.clinic), key=api_key_public(caller.key))


@router.get("/keys", response_model=list[ApiKeyPublic], summary="Every key of the clinic, without secrets")
@reads_only
async def list_keys(caller: NativeKey, session: SessionDep) -> list[ApiKeyPublic]:
    return [
        api_key_public(key) for key in await tenancy_service.list_keys(session, clinic_id=caller.clinic.id)
    ]


@router.post("/keys", response_model=ApiKeyCreated, status_code=201, summary="Create (or rotate) a key")
async def create_key(
    body: ApiKeyCreate, caller: NativeKey, session: SessionDep, runtime: RuntimeDep
) -> ApiKeyCreated:
    if body.kind is ApiKeyKind.intakeq_partner:
        raise InvalidInput("kind: partner keys belong to a partner, not a clinic", field="kind")
    created = await tenancy_service.create_key(
        session,
        box=runtime.box,
        kind=body.kind,
        name=body.name,
        clinic_id=caller.clinic.id,
        actor=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    return api_key_created(created.key, created.secret)


@router.delete("/keys/{key_id}", response_model=ApiKeyPublic, summary="Revoke a key")
async def revoke_key(
    key_id: uuid.UUID, caller: NativeKey, session: SessionDep, runtime: RuntimeDep
) -> ApiKeyPublic:
    key = await tenancy_service.revoke_key(
        session,
        clinic_id=caller.clinic.id,
        key_id=key_id,
        actor=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    return api_key_public(key)
