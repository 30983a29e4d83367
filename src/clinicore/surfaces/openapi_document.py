"""What a surface's OpenAPI document must say that FastAPI cannot infer from the routes.

- How a caller authenticates (``securitySchemes``, applied to every operation).
- An action answered with an empty 200 (``Response(status_code=200)``) has no body: FastAPI would declare
  a JSON body of any shape, which no client can parse.
- No 422: every surface answers a request that does not fit with a 400 in its own envelope; the error
  answers a surface gives are declared on every operation, in that envelope (``error_schema``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

Document = dict[str, Any]


def _is_any_json(response: dict[str, Any]) -> bool:
    schema: object = response.get("content", {}).get("application/json", {}).get("schema", None)
    return schema == {}


ERROR_STATUSES = {
    "400": "The request does not fit: the message names the field",
    "401": "The key is missing, unknown or revoked, or its clinic is deactivated",
    "403": "The key may not do this",
    "404": "No such resource (of this clinic)",
    "409": "The resource's state does not allow it",
    "413": "The body is larger than the limit",
    "429": "Too many requests",
}


def finished_document(
    document: Document, *, security_scheme: dict[str, Any] | None, error_schema: dict[str, Any] | None = None
) -> Document:
    if error_schema is not None:
        document.setdefault("components", {}).setdefault("schemas", {})["Error"] = error_schema
    if security_scheme is not None:
        document.setdefault("components", {})["securitySchemes"] = {"apiKey": security_scheme}
        document["security"] = [{"apiKey": []}]
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            responses.pop("422", None)
            done = responses.get("200")
            if done is not None and _is_any_json(done):
                responses["200"] = {"description": "Done (an empty body)"}
            if error_schema is not None:
                for status, description in ERROR_STATUSES.items():
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                            },
                        },
                    )
    return document


def openapi_of(
    app: FastAPI, *, security_scheme: dict[str, Any] | None, error_schema: dict[str, Any] | None = None
) -> Callable[[], Document]:
    """The app's ``openapi`` method, finished as above and built once."""

    def openapi() -> Document:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            app.openapi_schema = finished_document(
                document, security_scheme=security_scheme, error_schema=error_schema
            )
        return app.openapi_schema

    return openapi


INTAKEQ_KEY = {"type": "apiKey", "in": "header", "name": "X-Auth-Key", "description": "The API key"}
NATIVE_KEY = {"type": "http", "scheme": "bearer", "description": "ck_… API key"}
NATIVE_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    "required": ["error", "message"],
}
