"""The Qualiphy-compatible surface, mounted at ``/qualiphy/api``.

Every endpoint is ``POST /<name>`` (a trailing slash too) with ``api_key`` in the JSON body. Errors are
Qualiphy's envelope, worded by ``errors.py``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from pydantic import BaseModel

from clinicore.runtime import Runtime
from clinicore.surfaces.qualiphy import (
    answers_routes,
    answers_wire,
    pharmacy_routes,
    pharmacy_wire,
    routes,
    wire,
)
from clinicore.surfaces.qualiphy.errors import WIRE_FIELDS, rule_message, wire_status
from clinicore.surfaces.subapp import create_surface_app, json_error


def render_error(status: int, _code: str, message: str) -> Response:
    return json_error({"http_code": status, "error_message": message}, status)


# The JSON body of each operation (the routes read the body themselves, to accept JSON and forms alike, so
# the document is told here). Every body also carries ``api_key``.
REQUEST_BODIES: dict[str, type[BaseModel] | None] = {
    "/exam_list": None,
    "/exam_invite": wire.ExamInvite,
    "/exam_invite_resend": wire.PatientExamRequest,
    "/exam_invite_cancel": wire.PatientExamRequest,
    "/exam_questions": answers_wire.ExamQuestionsRequest,
    "/exam_submit_answers": answers_wire.SubmitAnswersRequest,
    "/partner_pharmacy_list": pharmacy_wire.PartnerPharmacyListRequest,
    "/partner_pharmacy_treatment_packages": pharmacy_wire.TreatmentPackagesRequest,
    "/custom_pharmacy_search": pharmacy_wire.CustomPharmacySearchRequest,
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"http_code": {"type": "integer"}, "error_message": {"type": "string"}},
    "required": ["http_code", "error_message"],
}
ERROR_RESPONSES = {
    "400": "The body does not fit: the message names the field",
    "401": "api_key is missing, unknown, revoked, or its clinic is deactivated",
    "413": "The body is larger than the limit",
    "429": "Too many requests",
}
API_KEY = {"type": "string", "description": "The clinic's Qualiphy API key"}


def _request_body(model: type[BaseModel] | None, components: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    if model is not None:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
    schema["properties"] = {"api_key": API_KEY, **schema.get("properties", {})}
    schema["required"] = ["api_key", *schema.get("required", [])]
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The document with each operation's JSON body and its error answers in Qualiphy's envelope."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version="1.0.0", routes=app.routes, servers=[{"url": "/qualiphy/api"}]
    )
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for path, item in document["paths"].items():
        for operation in item.values():
            if path in REQUEST_BODIES:
                operation["requestBody"] = _request_body(REQUEST_BODIES[path], components)
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, description in ERROR_RESPONSES.items():
                responses[status] = {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
    app.openapi_schema = document
    return document


def create_qualiphy_app(runtime: Runtime) -> FastAPI:
    app = create_surface_app(
        runtime,
        title="Qualiphy-compatible API",
        routers=[routes.router, answers_routes.router, pharmacy_routes.router],
        render_error=render_error,
        core_error_status=wire_status,
        wire_fields=WIRE_FIELDS,
        word_rule=rule_message,
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
