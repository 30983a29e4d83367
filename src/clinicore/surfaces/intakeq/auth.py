"""IntakeQ authentication: ``X-Auth-Key`` carries a partner key on the partner API and a practice key on
``/api/v1``. A key of the other kind, an unknown, revoked or empty key are all a 401."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clinicore.core.models import ApiKeyKind
from clinicore.core.tenancy.schemas import ClinicCaller, PartnerCaller
from clinicore.surfaces.auth import authenticated, authenticated_partner

MISSING_KEY = "missing API key: send it in the X-Auth-Key header"
INVALID_KEY = "invalid API key"


async def read_auth_key(request: Request) -> str | None:
    """The ``X-Auth-Key`` header (header names are matched without case)."""
    raw = request.headers.get("x-auth-key", "").strip()
    return raw or None


PracticeKey = Annotated[
    ClinicCaller,
    Depends(
        authenticated(
            ApiKeyKind.intakeq_practice, read_key=read_auth_key, missing=MISSING_KEY, invalid=INVALID_KEY
        )
    ),
]
PartnerKey = Annotated[
    PartnerCaller, Depends(authenticated_partner(read_key=read_auth_key, missing=MISSING_KEY))
]
