"""The native API (our own), mounted at ``/api``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from clinicore.runtime import Runtime
from clinicore.surfaces.native.campaigns import router as campaigns_router
from clinicore.surfaces.native.routes import router
from clinicore.surfaces.native.webhooks import router as webhooks_router
from clinicore.surfaces.openapi_document import NATIVE_ERROR, NATIVE_KEY, openapi_of
from clinicore.surfaces.subapp import create_surface_app, json_error


def render_error(status: int, code: str, message: str) -> Response:
    return json_error({"error": code, "message": message}, status)


def create_native_app(runtime: Runtime) -> FastAPI:
    app = create_surface_app(
        runtime,
        title="Clinicore native API",
        routers=[router, campaigns_router, webhooks_router],
        render_error=render_error,
        description="Clinicore's own API. Authenticate with `Authorization: Bearer ck_…`.",
    )
    app.openapi = openapi_of(app, security_scheme=NATIVE_KEY, error_schema=NATIVE_ERROR)  # type: ignore[method-assign]
    return app
