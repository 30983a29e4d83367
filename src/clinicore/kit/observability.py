"""Structured JSON logs and Prometheus metrics, and the ASGI middleware that feeds both.

A request log line carries request id, clinic id, method, route template, status and latency:
never a query string, header, body, key, password, token or patient field.
"""

from __future__ import annotations

import hmac
import ipaddress
import itertools
import json
import logging
import re
import secrets
import sys
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
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


@dataclass
class _AccessLog:
    """Where the access log line of every request goes once ``configure_logging`` has run: written
    directly, not through structlog's processor chain (the line's fields are fixed and safe, and the
    chain costs more than the rest of a ``/healthz``). Before that, lines go through structlog."""

    stream: TextIO | None = None
    enabled: bool = True


_ACCESS_LOG = _AccessLog()


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """JSON lines on ``stream`` (stderr) for our logs and for the standard library's (uvicorn, alembic)."""
    stream = stream or sys.stderr
    _ACCESS_LOG.stream = stream
    _ACCESS_LOG.enabled = logging.getLevelName(level) <= logging.INFO
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


def _utc_timestamp() -> str:
    """As structlog's ``TimeStamper(fmt="iso", utc=True)`` writes it."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


# Request ids: a random prefix per process and a counter (unique, cheap: no system call per request).
_REQUEST_ID_PREFIX = secrets.token_hex(4)
_request_numbers = itertools.count(1)
# The metric children per (method, route, status): ``labels()`` costs a lock and a lookup per call.
_METRIC_CHILDREN: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_METRIC_CHILDREN_LIMIT = 4096


def _metric_children(method: str, route: str, status: str) -> tuple[Any, Any]:
    key = (method, route, status)
    children = _METRIC_CHILDREN.get(key)
    if children is None:
        children = (REQUESTS.labels(method, route, status), LATENCY.labels(method, route))
        if len(_METRIC_CHILDREN) < _METRIC_CHILDREN_LIMIT:
            _METRIC_CHILDREN[key] = children
    return children


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            return incoming if _REQUEST_ID.match(incoming) else None
    return None


class RequestObservabilityMiddleware:
    """Request id, one access log line and metrics for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = get_logger("clinicore.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or f"{_REQUEST_ID_PREFIX}{next(_request_numbers):08x}"
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = time.perf_counter()
        request_id_header = (b"x-request-id", request_id.encode())

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), request_id_header]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"]
            route = route_template(scope)
            requests, latency = _metric_children(method, route, str(status))
            requests.inc()
            latency.observe(elapsed)
            clinic_id = state.get("clinic_id")
            self._log(method, route, status, elapsed, str(clinic_id) if clinic_id else None, request_id)
            structlog.contextvars.unbind_contextvars("request_id")

    def _log(
        self, method: str, route: str, status: int, elapsed: float, clinic_id: str | None, request_id: str
    ) -> None:
        fields = {
            "method": method,
            "route": route,
            "status": status,
            "latency_ms": round(elapsed * 1000, 2),
            "clinic_id": clinic_id,
        }
        stream = _ACCESS_LOG.stream
        if stream is None:
            self.log.info("request", **fields)
            return
        if not _ACCESS_LOG.enabled:
            return
        # The fields structlog's chain would give this line (configure_logging): no other is ever added.
        line = fields | {
            "event": "request",
            "request_id": request_id,
            "level": "info",
            "timestamp": _utc_timestamp(),
        }
        stream.write(json.dumps(line) + "\n")
        stream.flush()


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
