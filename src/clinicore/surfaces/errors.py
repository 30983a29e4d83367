"""Mapping core error codes to HTTP statuses; each surface chooses its own envelope."""

from __future__ import annotations

from clinicore.kit.errors import CoreError

STATUS_BY_CODE = {
    "invalid_input": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
}


def status_for(error: CoreError) -> int:
    return STATUS_BY_CODE.get(error.code, 400)
