"""The Qualiphy-compatible surface, mounted at ``/qualiphy/api``.

Qualiphy answers every error as ``{"http_code": <status>, "error_message": "..."}``; the endpoints
arrive with the Qualiphy issue.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from clinicore.runtime import Runtime
from clinicore.surfaces.subapp import create_surface_app, json_error


def render_error(status: int, _code: str, message: str) -> Response:
    return json_error({"http_code": status, "error_message": message}, status)


def create_qualiphy_app(runtime: Runtime) -> FastAPI:
    return create_surface_app(runtime, title="Qualiphy-compatible API", routers=[], render_error=render_error)
