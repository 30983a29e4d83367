"""The Qualiphy-compatible surface, mounted at ``/qualiphy/api``.

Every endpoint is ``POST /<name>`` (a trailing slash too) with ``api_key`` in the JSON body. Errors are
Qualiphy's envelope, worded by ``errors.py``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from clinicore.runtime import Runtime
from clinicore.surfaces.qualiphy import answers_routes, pharmacy_routes, routes
from clinicore.surfaces.qualiphy.errors import WIRE_FIELDS, rule_message, wire_status
from clinicore.surfaces.subapp import create_surface_app, json_error


def render_error(status: int, _code: str, message: str) -> Response:
    return json_error({"http_code": status, "error_message": message}, status)


def create_qualiphy_app(runtime: Runtime) -> FastAPI:
    return create_surface_app(
        runtime,
        title="Qualiphy-compatible API",
        routers=[routes.router, answers_routes.router, pharmacy_routes.router],
        render_error=render_error,
        core_error_status=wire_status,
        wire_fields=WIRE_FIELDS,
        word_rule=rule_message,
    )
