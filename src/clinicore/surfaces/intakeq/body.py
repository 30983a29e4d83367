"""Reading IntakeQ request bodies and query strings the way integrators send them.

A body is JSON (``Content-Type`` compared without case: ``Application/Json`` is JSON; none at all is
taken as JSON too), at most ``MAX_BODY_BYTES``; unknown fields are ignored. Invalid JSON, a body that is
not an object, or a field of the wrong type is a 400 naming the field. Query parameter names are matched
without case, as ASP.NET does; unknown ones are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError
from starlette.exceptions import HTTPException

from clinicore.kit.errors import InvalidInput
from clinicore.kit.inputs import NOT_GIVEN, Given
from clinicore.surfaces.subapp import json_texts, refuse_unstorable

M = TypeVar("M", bound=BaseModel)
MAX_BODY_BYTES = 64 * 1024
MAX_QUERY_VALUE = 320


class Body(BaseModel):
    """Base of every IntakeQ request model: unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _id_as_text(value: Any) -> Any:
    """Ids are strings; a client that sends a number (``"ExternalPracticeId": 1234``) means its digits."""
    if isinstance(value, bool):
        raise ValueError("must be a string")
    if isinstance(value, int):
        return str(value)
    return value


def _list_of(value: Any) -> Any:
    """A list field sent as one bare value is a list of that value."""
    if value is None or isinstance(value, list):
        return value
    return [value]


def _switch(value: Any) -> Any:
    """true/false, or the words ``"true"``/``"false"`` in any case; nothing else (not "yes", not 1)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("must be true or false")


Switch = Annotated[bool, BeforeValidator(_switch)]
IdText = Annotated[str, BeforeValidator(_id_as_text), StringConstraints(max_length=200)]
IdList = Annotated[list[IdText], BeforeValidator(_list_of)]
NameText = Annotated[str, StringConstraints(max_length=200)]
EmailText = Annotated[str, StringConstraints(max_length=320)]


def given(body: BaseModel, name: str) -> Any:
    """The field as sent (``None`` when sent as null), or ``NOT_GIVEN`` when left out."""
    return getattr(body, name) if name in body.model_fields_set else NOT_GIVEN


def given_text(body: BaseModel, name: str) -> Given[str]:
    """A text field that may not be cleared: null counts as empty (the core says what that means)."""
    value = given(body, name)
    return "" if value is None else value


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return not media_type or media_type == "application/json" or media_type.endswith("+json")


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, f"the request body is larger than {MAX_BODY_BYTES // 1024} KB")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise HTTPException(413, f"the request body is larger than {MAX_BODY_BYTES // 1024} KB")
    return bytes(raw)


def _describe(error: ValidationError) -> tuple[str, str | None]:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first.get("loc", ()))
    field = str(first["loc"][0]) if first.get("loc") else None
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    return (f"{location}: {message}" if location else message), field


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """The dependency that reads the request body as ``model``."""

    async def read(request: Request) -> M:
        if not _is_json(request.headers.get("content-type", "")):
            raise HTTPException(415, "the request body must be JSON (Content-Type: application/json)")
        raw = await _read_limited(request)
        try:
            document = json.loads(raw) if raw.strip() else None
        except (ValueError, RecursionError):
            raise InvalidInput("the request body is not valid JSON") from None
        if not isinstance(document, dict):
            raise InvalidInput("the request body must be a JSON object")
        refuse_unstorable(json_texts(document))  # the shared rule, named in IntakeQ's fields
        try:
            return model.model_validate(document)
        except ValidationError as exc:
            message, field = _describe(exc)
            raise InvalidInput(message, field=field) from None

    read.__name__ = f"read_{model.__name__}"
    return read


def documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a body read by ``json_body`` (FastAPI does not see it as a body parameter)."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def query_value(request: Request, name: str) -> str | None:
    """A query parameter by name, matched without case (the first one sent)."""
    wanted = name.lower()
    for key, value in request.query_params.multi_items():
        if key.lower() == wanted:
            if len(value) > MAX_QUERY_VALUE:
                raise InvalidInput(f"{name}: at most {MAX_QUERY_VALUE} characters", field=name)
            refuse_unstorable([(name, value)])
            return value
    return None


def query_flag(request: Request, name: str) -> bool:
    value = (query_value(request, name) or "").strip().lower()
    if value in ("", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise InvalidInput(f"{name}: must be true or false", field=name)


def query_page(request: Request, name: str = "page") -> int:
    value = (query_value(request, name) or "").strip()
    if not value:
        return 1
    if not value.isdigit() or len(value) > 6:
        raise InvalidInput(f"{name}: must be a whole number from 1", field=name)
    return int(value)
