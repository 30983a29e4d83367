"""Building a surface's sub-app: its own OpenAPI document and its own error envelope for every error."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from clinicore.kit.errors import CoreError, RateLimited
from clinicore.kit.observability import get_logger
from clinicore.runtime import Runtime
from clinicore.surfaces.errors import STATUS_BY_CODE, status_for

# render(status, code, message) -> the vendor's error response
ErrorRenderer = Callable[[int, str, str], Response]

_CODE_BY_STATUS = {status: code for code, status in STATUS_BY_CODE.items()} | {405: "method_not_allowed"}
log = get_logger("clinicore.surfaces")


def describe_validation_error(exc: RequestValidationError) -> str:
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


def create_surface_app(
    runtime: Runtime,
    *,
    title: str,
    routers: Sequence[APIRouter],
    render_error: ErrorRenderer,
    openapi_url: str | None = "/openapi.json",
    description: str = "",
    core_error_status: Callable[[CoreError], int] = status_for,
    **fastapi_options: Any,
) -> FastAPI:
    app = FastAPI(
        title=title,
        description=description,
        openapi_url=openapi_url,
        docs_url=None,
        redoc_url=None,
        **fastapi_options,
    )
    app.state.runtime = runtime
    for router in routers:
        app.include_router(router)

    @app.exception_handler(CoreError)
    async def _core_error(_request: Request, exc: CoreError) -> Response:
        response = render_error(core_error_status(exc), exc.code, exc.message)
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
