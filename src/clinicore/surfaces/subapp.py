"""Building a surface's sub-app: its own OpenAPI document and its own error envelope for every error.

Core errors speak the core's words: their messages name core fields (``practitioner_id``, ``starts_at``).
A surface gives ``wire_fields`` (core field name -> its wire name) and every core error it renders names the
wire field instead: the error's ``field`` is renamed and each core field name in the message is replaced,
whole word. A key ``"<subject>.<field>"`` applies only to errors about that subject (``CoreError.subject``)
and wins over a plain key: QualifyBase calls an appointment's ``starts_at`` ``scheduled_at`` but a block's
``starts_at``.

No text a client sends may reach the database unless it can be stored: ``refuse_unstorable_input`` runs
before every route of every surface and refuses (400, the surface's own envelope, naming the field) a NUL
character (PostgreSQL refuses it) or a lone surrogate (no UTF-8 for it) in a query parameter or a JSON body,
never silently stripped; in a path parameter it names nothing that exists (404).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from clinicore.kit.errors import CoreError, InvalidInput, NotFound, RateLimited
from clinicore.kit.observability import get_logger
from clinicore.kit.text import Unstorable
from clinicore.kit.text import unstorable as unstorable_text
from clinicore.runtime import Runtime
from clinicore.surfaces.errors import STATUS_BY_CODE, status_for

# render(status, code, message) -> the vendor's error response
ErrorRenderer = Callable[[int, str, str], Response]
# core field name (or "<subject>.<core field name>") -> the surface's wire field name
WireFields = Mapping[str, str]
NO_WIRE_FIELDS: WireFields = MappingProxyType({})

_CODE_BY_STATUS = {status: code for code, status in STATUS_BY_CODE.items()} | {405: "method_not_allowed"}
log = get_logger("clinicore.surfaces")
# The largest JSON body read here; a surface may allow less (IntakeQ: 64 KB).
MAX_JSON_BODY_BYTES = 1024 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def describe_validation_error(exc: RequestValidationError) -> str:
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


# How an API surface says why a text was refused (kit/text.py decides whether it is).
UNSTORABLE_WORDS = {
    Unstorable.nul: "must not contain NUL characters",
    Unstorable.lone_surrogate: "must be valid Unicode text (a lone surrogate was sent)",
}


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored, in an API's words, or None when it can."""
    reason = unstorable_text(text)
    return UNSTORABLE_WORDS[reason] if reason else None


def json_texts(document: Any) -> Iterator[tuple[str, str]]:
    """Every string of a JSON document (keys too), with where it is (``contacts.0.name``); iterative, so
    that no nesting depth json.loads accepts can overflow the stack here."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        location, value = stack.pop()
        if isinstance(value, str):
            yield location or "body", value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield location or "body", str(key)
                stack.append((f"{location}.{key}" if location else str(key), item))
        elif isinstance(value, list):
            stack.extend(
                (f"{location}.{index}" if location else str(index), item) for index, item in enumerate(value)
            )


def refuse_unstorable(texts: Iterator[tuple[str, str]] | Sequence[tuple[str, str]]) -> None:
    """A 400 (``InvalidInput`` naming the field) for the first text that cannot be stored."""
    for location, text in texts:
        reason = unstorable(text)
        if reason is not None:
            raise InvalidInput(f"{location}: {reason}", field=location)


def _is_form(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("multipart/form-data", "application/x-www-form-urlencoded")


def _finite_number(text: str) -> float:
    """JSON numbers that no database stores (``1e400`` reads as infinity) are a 400, not a 500."""
    number = float(text)
    if not math.isfinite(number):
        raise InvalidInput("the request body holds a number too large to store")
    return number


def _no_constant(name: str) -> float:
    raise InvalidInput(f"the request body holds {name}, which is not a JSON number")


async def _json_document(request: Request) -> Any:
    """The body as JSON (at most ``MAX_JSON_BODY_BYTES``, else a 413), or None when there is none to read
    here: a form, empty, or not JSON (the surface's own parser says what is wrong with it). Whatever the
    ``Content-Type`` says: Qualiphy's integrators send JSON as ``text/plain`` too. JSON nested deeper than
    the parser can go is a 400 here, before any surface's parser meets it."""
    if request.method not in _BODY_METHODS or _is_form(request.headers.get("content-type", "")):
        return None
    declared = request.headers.get("content-length", "")
    too_large = f"the request body is larger than {MAX_JSON_BODY_BYTES // 1024} KB"
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_JSON_BODY_BYTES:
        raise StarletteHTTPException(413, too_large)
    raw = await request.body()  # kept for the route's own reading (a consumed stream is gone)
    if len(raw) > MAX_JSON_BODY_BYTES:
        raise StarletteHTTPException(413, too_large)
    if not raw.strip():
        return None
    try:
        return json.loads(raw, parse_float=_finite_number, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidInput("the request body is nested too deeply") from None
    except ValueError:
        return None


async def refuse_unstorable_input(request: Request) -> None:
    """Run before every route of a surface: no path parameter, query parameter (name or value) or JSON
    body string that cannot be stored gets past it. A path parameter that cannot be stored names
    nothing that exists: a 404, as any unknown id."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and unstorable(value) is not None:
            raise NotFound(f"{name} not found")  # nothing stored can have that id
    for name, value in request.query_params.multi_items():
        refuse_unstorable([(name, name), (name, value)])
    refuse_unstorable(json_texts(await _json_document(request)))


@dataclass(frozen=True, slots=True)
class WireWords:
    """A core error's message and field in a surface's words."""

    message: str
    field: str | None


def wire_field_names(wire_fields: WireFields, subject: str | None) -> dict[str, str]:
    """The renames for an error about ``subject``: the plain keys, with the ``subject.`` keys over them."""
    names = {core: wire for core, wire in wire_fields.items() if "." not in core}
    if subject:
        prefix = f"{subject}."
        names |= {
            core.removeprefix(prefix): wire for core, wire in wire_fields.items() if core.startswith(prefix)
        }
    return names


def in_wire_words(error: CoreError, wire_fields: WireFields) -> WireWords:
    """The error's field renamed, and every core field name in its message replaced (whole words only)."""
    names = wire_field_names(wire_fields, error.subject)
    field = names.get(error.field, error.field) if error.field else error.field
    if not names:
        return WireWords(message=error.message, field=field)
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.])({alternatives})(?!\w)")
    return WireWords(message=pattern.sub(lambda match: names[match[1]], error.message), field=field)


def code_for(error: CoreError, status: int) -> str:
    """The error's code, unless the surface answers it with another code's status (then that code's)."""
    if STATUS_BY_CODE.get(error.code, status) == status:
        return error.code
    return _CODE_BY_STATUS.get(status, error.code)


# A surface's own sentence for a rule the core names, or None to keep the core's (in wire words).
RuleWording = Callable[[CoreError], str | None]


def no_rule_wording(_error: CoreError) -> str | None:
    return None


def create_surface_app(
    runtime: Runtime,
    *,
    title: str,
    routers: Sequence[APIRouter],
    render_error: ErrorRenderer,
    openapi_url: str | None = "/openapi.json",
    description: str = "",
    core_error_status: Callable[[CoreError], int] = status_for,
    wire_fields: WireFields = NO_WIRE_FIELDS,
    word_rule: RuleWording = no_rule_wording,
    **fastapi_options: Any,
) -> FastAPI:
    """``word_rule`` lets a surface tell a rule the core names (``CoreError.rule``) in its vendor's
    words; any other core error is told in ``wire_fields`` words."""
    dependencies = [Depends(refuse_unstorable_input), *fastapi_options.pop("dependencies", [])]
    app = FastAPI(
        title=title,
        description=description,
        openapi_url=openapi_url,
        docs_url=None,
        redoc_url=None,
        dependencies=dependencies,
        **fastapi_options,
    )
    app.state.runtime = runtime
    for router in routers:
        app.include_router(router)

    @app.exception_handler(CoreError)
    async def _core_error(_request: Request, exc: CoreError) -> Response:
        status = core_error_status(exc)
        message = word_rule(exc) or in_wire_words(exc, wire_fields).message
        response = render_error(status, code_for(exc, status), message)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        return render_error(400, "invalid_input", describe_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        code = _CODE_BY_STATUS.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        response = render_error(exc.status_code, code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected_error(_request: Request, exc: Exception) -> Response:
        log.error("unhandled error", error=type(exc).__name__)
        return render_error(500, "internal_error", "internal server error")

    return app


def json_error(body: dict[str, Any], status: int) -> JSONResponse:
    return JSONResponse(body, status_code=status)
