"""Qualiphy authentication: ``api_key`` in the JSON body (or in the multipart form of an upload).

An ``Authorization: Bearer <api_key>`` header is tolerated, as some client libraries send one. The
401 messages (recorded in ``docs/compat/qualiphy.md``): ``api_key is required``, ``Invalid api_key``,
``Clinic is inactive``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from clinicore.core.models import ApiKeyKind, Clinic
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.errors import Unauthorized
from clinicore.requests import RuntimeDep, SessionDep, bind_clinic

BODY_STATE = "qualiphy_body"


@dataclass(frozen=True, slots=True)
class QualiphyCaller:
    clinic: Clinic


async def request_fields(request: Request) -> dict[str, Any]:
    """The request's fields: the JSON object of the body, or the multipart/url-encoded form fields
    (files excluded). Anything else (no body, a JSON array, invalid JSON) gives no fields."""
    state = request.scope.setdefault("state", {})
    if BODY_STATE in state:
        cached: dict[str, Any] = state[BODY_STATE]
        return cached
    fields: dict[str, Any] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        fields = {name: value for name, value in form.multi_items() if isinstance(value, str)}
    else:
        raw = await request.body()
        if raw.strip():
            try:
                parsed = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                parsed = None
            if isinstance(parsed, dict):
                fields = parsed
    state[BODY_STATE] = fields
    return fields


def _raw_key(request: Request, fields: dict[str, Any]) -> str | None:
    value = fields.get("api_key")
    if isinstance(value, str) and value.strip():
        return value.strip()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def authenticated_qualiphy_caller(
    request: Request, session: SessionDep, runtime: RuntimeDep
) -> QualiphyCaller:
    raw = _raw_key(request, await request_fields(request))
    if raw is None:
        raise Unauthorized("api_key is required")
    try:
        caller = await tenancy_service.authenticate_key(
            session, kind=ApiKeyKind.qualiphy, raw=raw.lower(), clock=runtime.clock
        )
    except Unauthorized:
        raise Unauthorized("Invalid api_key") from None
    assert caller.clinic is not None
    bind_clinic(request, caller.clinic.id)
    if not caller.clinic.is_active:
        raise Unauthorized("Clinic is inactive")
    return QualiphyCaller(clinic=caller.clinic)


Caller = Annotated[QualiphyCaller, Depends(authenticated_qualiphy_caller)]
