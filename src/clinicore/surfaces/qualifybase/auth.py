"""QualifyBase authentication and rate limiting: ``Authorization: Bearer qbk_live_…``, 120 requests a minute.

A key in the query string is refused: QualifyBase's doc says keys go only in the header, and a URL ends
up in proxies' and browsers' logs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clinicore.core.models import ApiKeyKind
from clinicore.core.tenancy.deactivation import refuse_inactive_clinic
from clinicore.core.tenancy.schemas import ClinicCaller
from clinicore.kit.errors import RateLimited, Unauthorized
from clinicore.runtime import Runtime
from clinicore.surfaces.auth import authenticated, bearer_token

RATE_LIMIT_HEADERS_STATE = "rate_limit_headers"
_KEY_PARAMETERS = frozenset({"api_key", "apikey", "key", "token", "access_token", "qb_key"})


def refuse_key_in_query(request: Request) -> None:
    for name, value in request.query_params.multi_items():
        if name.lower() in _KEY_PARAMETERS or value.startswith("qbk_"):
            raise Unauthorized(
                "API keys are accepted only in the Authorization: Bearer header, never in the URL"
            )


async def _bearer_key_only(request: Request) -> str | None:
    refuse_key_in_query(request)
    return bearer_token(request)


async def _rate_limit(request: Request, caller: ClinicCaller, runtime: Runtime) -> None:
    refuse_inactive_clinic(caller.clinic)  # before counting: a deactivated clinic's key spends nothing
    decision = await runtime.rate_limiter.hit(
        runtime.settings.qualifybase_rate_limit, "qualifybase", str(caller.key.id)
    )
    request.scope.setdefault("state", {})[RATE_LIMIT_HEADERS_STATE] = decision.headers
    if not decision.allowed:
        raise RateLimited(
            "rate limit exceeded: 120 requests per minute per API key",
            retry_after=max(1, decision.reset_after),
        )


QualifyBaseKey = Annotated[
    ClinicCaller, Depends(authenticated(ApiKeyKind.qualifybase, read_key=_bearer_key_only, then=_rate_limit))
]
