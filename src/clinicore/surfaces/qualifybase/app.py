"""The QualifyBase-compatible surface, mounted at ``/qualifybase/api/v1``.

Errors are ``{"error": "<code>", "message": "..."}``, naming QualifyBase's fields (``mappers.WIRE_FIELDS``);
every answer to an identified key carries the ``RateLimit-*`` headers (and ``Retry-After`` on a 429).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinicore.kit.errors import CoreError, NotFound
from clinicore.runtime import Runtime
from clinicore.surfaces.errors import status_for
from clinicore.surfaces.qualifybase.auth import RATE_LIMIT_HEADERS_STATE
from clinicore.surfaces.qualifybase.mappers import WIRE_FIELDS
from clinicore.surfaces.qualifybase.routes import router
from clinicore.surfaces.subapp import create_surface_app, json_error

DESCRIPTION = (
    "Leads, availability, booking, campaigns, webhooks and calendar blocks. Authenticate with "
    "`Authorization: Bearer qbk_live_…`; 120 requests per minute per key."
)


def render_error(status: int, code: str, message: str) -> Response:
    return json_error({"error": code, "message": message}, status)


def wire_status(error: CoreError) -> int:
    """An unknown id given in the body (a ``NotFound`` naming its field: ``assigned_to``, ``lead_id``) is
    invalid input here; only the resource a path addresses is a 404."""
    if isinstance(error, NotFound) and error.field is not None:
        return 400
    return status_for(error)


class RateLimitHeaders:
    """Copies the rate-limit decision made during authentication onto the response, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            headers = scope.get("state", {}).get(RATE_LIMIT_HEADERS_STATE)
            if message["type"] == "http.response.start" and headers:
                message["headers"] = [
                    *message.get("headers", []),
                    *((name.lower().encode(), value.encode()) for name, value in headers.items()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """OpenAPI 3.1 of this surface alone, with the bearer scheme applied to every operation."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version="1.0.0",
        description=DESCRIPTION,
        routes=app.routes,
        servers=[{"url": "/qualifybase/api/v1"}],
    )
    document["components"]["securitySchemes"] = {
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "qbk_live_… API key"}
    }
    document["security"] = [{"bearerAuth": []}]
    for path in document["paths"].values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    app.openapi_schema = document
    return document


def create_qualifybase_app(runtime: Runtime) -> FastAPI:
    app = create_surface_app(
        runtime,
        title="QualifyBase-compatible API",
        routers=[router],
        render_error=render_error,
        description=DESCRIPTION,
        core_error_status=wire_status,
        wire_fields=WIRE_FIELDS,
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(RateLimitHeaders)
    return app
