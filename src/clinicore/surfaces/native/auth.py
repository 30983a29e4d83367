"""Native API authentication: ``Authorization: Bearer ck_…``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from clinicore.core.models import ApiKeyKind
from clinicore.core.tenancy.schemas import ClinicCaller
from clinicore.surfaces.auth import authenticated

NativeKey = Annotated[ClinicCaller, Depends(authenticated(ApiKeyKind.native))]
