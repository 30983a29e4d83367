"""The Qualiphy-compatible surface, mounted at ``/qualiphy/api``.

Every endpoint is ``POST /<name>`` (a trailing slash too) with ``api_key`` in the JSON body. Qualiphy
answers every error as ``{"http_code": <status>, "error_message": "..."}`` with 400, 401 or 500: a core
``not_found`` or ``conflict`` is a 400 here, as the vendor's doc lists no other status.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from clinicore.kit.errors import CoreError
from clinicore.runtime import Runtime
from clinicore.surfaces.errors import status_for
from clinicore.surfaces.qualiphy import answers_routes, pharmacy_routes, routes
from clinicore.surfaces.subapp import create_surface_app, json_error


def render_error(status: int, _code: str, message: str) -> Response:
    return json_error({"http_code": status, "error_message": message}, status)


def qualiphy_status(error: CoreError) -> int:
    status = status_for(error)
    return 400 if status in (404, 409) else status


def create_qualiphy_app(runtime: Runtime) -> FastAPI:
    return create_surface_app(
        runtime,
        title="Qualiphy-compatible API",
        routers=[routes.router, answers_routes.router, pharmacy_routes.router],
        render_error=render_error,
        core_error_status=qualiphy_status,
    )
