"""Native API authentication: ``Authorization: Bearer ck_…``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clinicore.core.models import ApiKeyKind
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.schemas import AuthenticatedKey
from clinicore.requests import RuntimeDep, SessionDep, bind_clinic
from clinicore.surfaces.auth import bearer_token


async def authenticated_native_key(
    request: Request, session: SessionDep, runtime: RuntimeDep
) -> AuthenticatedKey:
    authenticated = await tenancy_service.authenticate_key(
        session, kind=ApiKeyKind.native, raw=bearer_token(request), clock=runtime.clock
    )
    bind_clinic(request, authenticated.key.clinic_id)
    return authenticated


NativeKey = Annotated[AuthenticatedKey, Depends(authenticated_native_key)]
