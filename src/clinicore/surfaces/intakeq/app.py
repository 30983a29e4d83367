"""The IntakeQ-compatible surfaces.

Practice API at ``/intakeq/api/v1``, partner API at ``/intakeq/api/partner``.

IntakeQ is an ASP.NET service; errors take the ASP.NET Web API shape ``{"Message": "..."}``
(docs/compat/intakeq.md). The endpoints arrive with the IntakeQ issues.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from clinicore.runtime import Runtime
from clinicore.surfaces.subapp import create_surface_app, json_error


def render_error(status: int, _code: str, message: str) -> Response:
    return json_error({"Message": message}, status)


def create_intakeq_practice_app(runtime: Runtime) -> FastAPI:
    return create_surface_app(
        runtime, title="IntakeQ-compatible practice API", routers=[], render_error=render_error
    )


def create_intakeq_partner_app(runtime: Runtime) -> FastAPI:
    return create_surface_app(
        runtime, title="IntakeQ-compatible partner API", routers=[], render_error=render_error
    )
