"""Structured JSON logs and Prometheus metrics, and the ASGI middleware that feeds both.

A request log line carries request id, clinic id, method, route template, status and latency:
never a query string, header, body, key, password, token or patient field.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import secrets
import sys
import time
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("clinicore_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "clinicore_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

# Field names that must never be logged even if a caller passes them by mistake.
_FORBIDDEN_FIELDS = re.compile(
    r"pass|secret|token|key|auth|cookie|email|phone|name|dob|address", re.IGNORECASE
)
_ALLOWED_FIELDS = frozenset(
    {
        "event",
        "level",
        "timestamp",
        "logger",
        "request_id",
        "clinic_id",
        "route",
        "method",
        "status",
        "latency_ms",
        "worker",
        "job",
        "count",
        "exc_info",
        "error",
        "host",
        "port",
        "url",
        "database",
        "exception",
        "kind",
        "attempt",
        "duration_ms",
    }
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.-]{8,64}$")


def _drop_sensitive_fields(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for field in [f for f in event if f not in _ALLOWED_FIELDS and _FORBIDDEN_FIELDS.search(f)]:
        event[field] = "[redacted]"
    return event


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """JSON lines on ``stream`` (stderr) for our logs and for the standard library's (uvicorn, alembic)."""
    stream = stream or sys.stderr
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_sensitive_fields,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "aiosqlite", "asyncio", "httpx", "httpcore", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True  # it logs query strings; we log route templates


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path_format = getattr(route, "path_format", None) or getattr(route, "path", None)
    if path_format is None:
        return "unmatched"
    return f"{scope.get('root_path', '')}{path_format}"


class RequestObservabilityMiddleware:
    """Request id, one access log line and metrics for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = get_logger("clinicore.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)
            clinic_id = state.get("clinic_id")
            self.log.info(
                "request",
                method=scope["method"],
                route=route,
                status=status,
                latency_ms=round(elapsed * 1000, 2),
                clinic_id=str(clinic_id) if clinic_id else None,
            )
            structlog.contextvars.unbind_contextvars("request_id")


# --- who may read the metrics ---------------------------------------


def may_read_metrics(client_host: str | None, authorization: str | None, token: str | None) -> bool:
    """With a token, only ``Authorization: Bearer <token>`` may read ``/metrics``; without one, only a
    caller on the loopback interface (a scraper on the same host or behind a local sidecar)."""
    if token is not None:
        expected = f"Bearer {token}".encode()
        return hmac.compare_digest((authorization or "").encode(), expected)
    try:
        return client_host is not None and ipaddress.ip_address(client_host).is_loopback
    except ValueError:
        return False
