"""The app factory: one ASGI app with each surface mounted as its own sub-app, pages and health."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from clinicore.config import Environment, Settings
from clinicore.kit.body_limit import BodyLimitMiddleware, LimitFor, describe_size
from clinicore.kit.errors import CoreError, Forbidden, NotFound
from clinicore.kit.observability import RequestObservabilityMiddleware, may_read_metrics
from clinicore.requests import FORM_OVERHEAD_BYTES
from clinicore.runtime import Runtime
from clinicore.surfaces.registry import SURFACES, surface_answering_errors_for
from clinicore.surfaces.subapp import ErrorRenderer
from clinicore.web.book.routes import router as booking_widget_router
from clinicore.web.calendars import router as calendar_feed_router
from clinicore.web.call.rooms import router as call_rooms_router
from clinicore.web.call.routes import router as call_router
from clinicore.web.console.booking_widget import router as console_booking_widget_router
from clinicore.web.console.calendar_actions import router as console_calendar_actions_router
from clinicore.web.console.crm import router as console_crm_router
from clinicore.web.console.exams import router as console_exams_router
from clinicore.web.console.form_pages import router as console_form_pages_router
from clinicore.web.console.intakes import router as console_intakes_router
from clinicore.web.console.prescriptions import router as console_prescriptions_router
from clinicore.web.console.providers import router as console_providers_router
from clinicore.web.console.routes import router as console_router
from clinicore.web.console.scheduling import router as console_scheduling_router
from clinicore.web.console.services_page import router as console_services_router
from clinicore.web.console.session import CsrfRejected, SignInRequired, sign_in_url
from clinicore.web.console.settings_pages import router as console_settings_router
from clinicore.web.console.sso import router as console_sso_router
from clinicore.web.console.staff_pages import router as console_staff_router
from clinicore.web.console.webhooks import router as console_webhooks_router
from clinicore.web.documents import router as documents_router
from clinicore.web.intake.routes import router as intake_form_router
from clinicore.web.partner.routes import router as partner_console_router
from clinicore.web.patient.routes import router as patient_router
from clinicore.web.pharmacy.routes import router as pharmacy_desk_router
from clinicore.web.provider.routes import router as provider_desk_router
from clinicore.web.security_headers import SecurityHeadersMiddleware
from clinicore.web.templating import STATIC_DIR, templates
from clinicore.worker.loop import Worker


def surface_error_renderer(path: str) -> ErrorRenderer | None:
    """A path that never reaches a surface's sub-app (for instance an encoded slash in an id) still
    answers in that surface's envelope, never the framework's {"detail": ...}."""
    surface = surface_answering_errors_for(path)
    return surface.render_error if surface is not None else None


# The routes that take a file upload (multipart): their bodies may reach the upload limit plus the room
# their form needs around the file (the intake form posts its answers beside it). Every other request
# body is capped at ``max_body_bytes`` (or its surface's own, smaller cap).
UPLOAD_PATHS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"/qualiphy/api/exam_attachment_upload/?"), FORM_OVERHEAD_BYTES),
    (re.compile(r"/meet/[^/]+/attachments"), FORM_OVERHEAD_BYTES),
    (re.compile(r"/intake/[^/]+/(save|submit)"), 512 * 1024),
)


def body_limit_for(settings: Settings) -> LimitFor:
    def limit_for(path: str) -> int:
        for pattern, framing in UPLOAD_PATHS:
            if pattern.fullmatch(path):
                return settings.max_upload_bytes + framing
        surface = surface_answering_errors_for(path)
        if surface is not None and surface.max_body_bytes is not None:
            return min(surface.max_body_bytes, settings.max_body_bytes)
        return settings.max_body_bytes

    return limit_for


def _body_too_large(scope: Scope, limit: int, message: str) -> Response:
    """The 413 of a body refused before the app read it: in the surface's envelope, or a page."""
    path = scope.get("path", "")
    renderer = surface_error_renderer(path)
    if renderer is not None:
        return renderer(413, "payload_too_large", message)
    return _error_page(
        Request(scope), 413, "Too large", f"What you sent is larger than {describe_size(limit)}: send less."
    )


def create_app(runtime: Runtime, *, embedded_worker: bool = False) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = Worker(runtime) if embedded_worker else None
        task = asyncio.create_task(worker.run_forever()) if worker else None
        try:
            yield
        finally:
            if worker and task:
                worker.stop()
                await task
            await runtime.close()

    app = FastAPI(title="Clinicore", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.runtime = runtime

    for surface in SURFACES:
        app.mount(surface.mount_path, surface.create_app(runtime))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        try:
            async with runtime.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ready", "database": "ok"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        client_host = request.client.host if request.client else None
        authorization = request.headers.get("authorization")
        if not may_read_metrics(client_host, authorization, runtime.settings.metrics_token):
            return PlainTextResponse("Not allowed", status_code=403)
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(console_router)
    app.include_router(console_webhooks_router)
    app.include_router(console_form_pages_router)
    app.include_router(console_staff_router)
    app.include_router(console_settings_router)
    app.include_router(console_scheduling_router)
    app.include_router(console_crm_router)
    app.include_router(console_exams_router)
    app.include_router(console_providers_router)
    app.include_router(console_prescriptions_router)
    app.include_router(calendar_feed_router)
    app.include_router(documents_router)
    app.include_router(provider_desk_router)
    app.include_router(pharmacy_desk_router)
    app.include_router(partner_console_router)
    app.include_router(patient_router)
    app.include_router(intake_form_router)
    app.include_router(call_router)
    app.include_router(call_rooms_router)
    app.include_router(console_sso_router)
    app.include_router(console_intakes_router)
    app.include_router(booking_widget_router)
    app.include_router(console_calendar_actions_router)
    app.include_router(console_booking_widget_router)
    app.include_router(console_services_router)

    @app.exception_handler(SignInRequired)
    async def _sign_in_required(_request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(sign_in_url(exc.next_path), status_code=303)

    @app.exception_handler(CsrfRejected)
    async def _csrf_rejected(request: Request, _exc: CsrfRejected) -> Response:
        return _error_page(
            request,
            403,
            "Form expired",
            "This form is out of date or did not come from us. Go back, reload the page and try again.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        renderer = surface_error_renderer(request.url.path)
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if renderer is not None:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
            return renderer(exc.status_code, code, message)
        title = "Not found" if exc.status_code == 404 else message
        return _error_page(request, exc.status_code, title, "There is no page at this address.")

    @app.exception_handler(CoreError)
    async def _core_error(request: Request, exc: CoreError) -> Response:
        status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden) else 400
        title = {404: "Not found", 403: "Not allowed"}.get(status, "Cannot do that")
        return _error_page(request, status, title, exc.message)

    # Added first, so it runs inside the access log and every 413 is logged as any answer.
    app.add_middleware(
        BodyLimitMiddleware, limit_for=body_limit_for(runtime.settings), refusal_for=_body_too_large
    )
    app.add_middleware(
        SecurityHeadersMiddleware,
        api_paths=[surface.mount_path for surface in SURFACES],
        production=runtime.settings.env is Environment.production,
    )
    app.add_middleware(RequestObservabilityMiddleware)
    # Outermost, so throttling, logs and /metrics see the client behind a configured proxy (none by default:
    # `clinicore serve` turns uvicorn's own X-Forwarded-For handling off).
    if runtime.settings.trusted_proxy_list:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=runtime.settings.trusted_proxy_list)
    return app


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    return templates.TemplateResponse(
        request, "error.html", {"title": title, "message": message, "user": None}, status_code=status
    )
