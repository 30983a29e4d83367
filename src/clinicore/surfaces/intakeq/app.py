"""The IntakeQ-compatible surfaces.

Practice API at ``/intakeq/api/v1`` (``X-Auth-Key``: a practice key), partner API at
``/intakeq/api/partner`` (``X-Auth-Key``: the partner key).

IntakeQ is an ASP.NET service; errors take the ASP.NET Web API shape ``{"Message": "..."}``, naming
IntakeQ's fields (``mappers.WIRE_FIELDS``). Bad input of any kind is a 400: a rule the core refuses with
a conflict too, and an unknown id given in a body; only the resource a path names is a 404
(docs/compat/intakeq.md).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from clinicore.kit.errors import Conflict, CoreError, NotFound
from clinicore.runtime import Runtime
from clinicore.surfaces.errors import status_for
from clinicore.surfaces.intakeq.appointment_mappers import APPOINTMENT_WIRE_FIELDS
from clinicore.surfaces.intakeq.appointment_routes import router as appointment_router
from clinicore.surfaces.intakeq.client_mappers import CLIENT_WIRE_FIELDS
from clinicore.surfaces.intakeq.client_routes import router as client_router
from clinicore.surfaces.intakeq.intake_routes import router as intake_router
from clinicore.surfaces.intakeq.mappers import WIRE_FIELDS
from clinicore.surfaces.intakeq.partner_routes import router as partner_router
from clinicore.surfaces.intakeq.practice_routes import router as practice_router
from clinicore.surfaces.openapi_document import INTAKEQ_KEY, openapi_of
from clinicore.surfaces.subapp import create_surface_app, json_error


def render_error(status: int, _code: str, message: str) -> Response:
    return json_error({"Message": message}, status)


def wire_status(error: CoreError) -> int:
    if isinstance(error, Conflict) or (isinstance(error, NotFound) and error.field is not None):
        return 400
    return status_for(error)


def create_intakeq_practice_app(runtime: Runtime) -> FastAPI:
    app = create_surface_app(
        runtime,
        title="IntakeQ-compatible practice API",
        routers=[practice_router, intake_router, client_router, appointment_router],
        render_error=render_error,
        core_error_status=wire_status,
        wire_fields=WIRE_FIELDS | CLIENT_WIRE_FIELDS | APPOINTMENT_WIRE_FIELDS,
    )
    app.openapi = openapi_of(app, security_scheme=INTAKEQ_KEY)  # type: ignore[method-assign]
    return app


def create_intakeq_partner_app(runtime: Runtime) -> FastAPI:
    app = create_surface_app(
        runtime,
        title="IntakeQ-compatible partner API",
        routers=[partner_router],
        render_error=render_error,
        core_error_status=wire_status,
        wire_fields=WIRE_FIELDS,
    )
    app.openapi = openapi_of(app, security_scheme=INTAKEQ_KEY)  # type: ignore[method-assign]
    return app
