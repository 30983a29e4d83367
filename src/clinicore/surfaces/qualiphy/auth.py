"""Qualiphy authentication: ``api_key`` in the JSON body (or in the multipart form of an upload).

An ``Authorization: Bearer <api_key>`` header is tolerated, as some client libraries send one. The
401 messages (recorded in ``docs/compat/qualiphy.md``): ``api_key is required``, ``Invalid api_key``,
``Clinic is inactive``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request

from clinicore.core.models import ApiKeyKind
from clinicore.core.tenancy.deactivation import refuse_inactive_clinic
from clinicore.core.tenancy.schemas import ClinicCaller
from clinicore.kit.errors import Unauthorized
from clinicore.runtime import Runtime
from clinicore.surfaces.auth import authenticated

BODY_STATE = "qualiphy_body"


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


async def _key_in_body(request: Request) -> str | None:
    return _raw_key(request, await request_fields(request))


async def _refuse_inactive_clinic(_request: Request, caller: ClinicCaller, _runtime: Runtime) -> None:
    try:
        refuse_inactive_clinic(caller.clinic)
    except Unauthorized:
        raise Unauthorized("Clinic is inactive") from None  # Qualiphy's words


async def _lower_case_key(request: Request) -> str | None:
    raw = await _key_in_body(request)
    return raw.lower() if raw is not None else None


Caller = Annotated[
    ClinicCaller,
    Depends(
        authenticated(
            ApiKeyKind.qualiphy,
            read_key=_lower_case_key,
            missing="api_key is required",
            invalid="Invalid api_key",
            then=_refuse_inactive_clinic,
        )
    ),
]
