"""The QualifyBase-compatible surface, mounted at ``/qualifybase/api/v1``.

Errors are ``{"error": "<code>", "message": "..."}``; the endpoints arrive with the scheduling issue.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from clinicore.runtime import Runtime
from clinicore.surfaces.subapp import create_surface_app, json_error


def render_error(status: int, code: str, message: str) -> Response:
    return json_error({"error": code, "message": message}, status)


def create_qualifybase_app(runtime: Runtime) -> FastAPI:
    return create_surface_app(
        runtime, title="QualifyBase-compatible API", routers=[], render_error=render_error
    )
