"""The native API (our own), mounted at ``/api``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from clinicore.runtime import Runtime
from clinicore.surfaces.native.campaigns import router as campaigns_router
from clinicore.surfaces.native.routes import router
from clinicore.surfaces.native.webhooks import router as webhooks_router
from clinicore.surfaces.subapp import create_surface_app, json_error


def render_error(status: int, code: str, message: str) -> Response:
    return json_error({"error": code, "message": message}, status)


def create_native_app(runtime: Runtime) -> FastAPI:
    return create_surface_app(
        runtime,
        title="Clinicore native API",
        routers=[router, campaigns_router, webhooks_router],
        render_error=render_error,
        description="Clinicore's own API. Authenticate with `Authorization: Bearer ck_…`.",
    )
