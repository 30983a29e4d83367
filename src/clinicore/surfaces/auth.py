"""Credential parsing shared by the surfaces that take ``Authorization: Bearer``."""

from __future__ import annotations

from fastapi import Request

from clinicore.kit.errors import Unauthorized


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token: send Authorization: Bearer <key>")
    return token.strip()
