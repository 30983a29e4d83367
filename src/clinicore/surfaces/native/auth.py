"""Native API authentication: ``Authorization: Bearer ck_…``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clinicore.core.models import ApiKeyKind
from clinicore.core.tenancy.deactivation import refuse_inactive_clinic
from clinicore.core.tenancy.schemas import ClinicCaller
from clinicore.runtime import Runtime
from clinicore.surfaces.auth import authenticated


async def _refuse_inactive_clinic(_request: Request, caller: ClinicCaller, _runtime: Runtime) -> None:
    refuse_inactive_clinic(caller.clinic)


NativeKey = Annotated[ClinicCaller, Depends(authenticated(ApiKeyKind.native, then=_refuse_inactive_clinic))]
