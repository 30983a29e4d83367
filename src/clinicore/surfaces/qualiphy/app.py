"""The Qualiphy-compatible surface, mounted at ``/qualiphy/api``.

Every endpoint is ``POST /<name>`` (a trailing slash too) with ``api_key`` in the JSON body. Errors are
Qualiphy's envelope, worded by ``errors.py``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from clinicore.kit.errors import CoreError
from clinicore.runtime import Runtime
from clinicore.surfaces.qualiphy import answers_routes, pharmacy_routes, routes
from clinicore.surfaces.qualiphy.errors import wire_message, wire_status
from clinicore.surfaces.subapp import create_surface_app, json_error


def render_error(status: int, _code: str, message: str) -> Response:
    return json_error({"http_code": status, "error_message": message}, status)


async def render_core_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, CoreError)
    return render_error(wire_status(error), error.code, wire_message(error))


def create_qualiphy_app(runtime: Runtime) -> FastAPI:
    app = create_surface_app(
        runtime,
        title="Qualiphy-compatible API",
        routers=[routes.router, answers_routes.router, pharmacy_routes.router],
        render_error=render_error,
        core_error_status=wire_status,
    )
    # Qualiphy's own words for core errors (field names, rules) replace the generic handler's.
    app.add_exception_handler(CoreError, render_core_error)
    return app
