"""Internal commands and results of the events domain."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from clinicore.core.models import WebhookAttempt, WebhookEndpoint


@dataclass(frozen=True, slots=True)
class RenderedWebhook:
    """What a format's renderer makes of one event: the body and the format's own headers."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown to the caller; stored encrypted, never logged


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A claimed delivery, rendered and signed, ready to be sent outside any transaction."""

    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    clinic_id: uuid.UUID
    event_id: str
    url: str
    body: bytes
    headers: Mapping[str, str]
    attempted_at: datetime
    # Set when the delivery could not be rendered: nothing is sent and the attempt records this.
    failure: str | None = None
    # The attempt logged ("sending") when the delivery was claimed; the record fills it in.
    attempt_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status_code: int | None
    latency_ms: int
    response_excerpt: str = ""
    error: str | None = None
    retry_after: str | None = None  # the raw Retry-After header
    abort_requested: bool = False  # webhook-delivery: abort-message

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class AttemptFilter(StrEnum):
    succeeded = "succeeded"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class AttemptQuery:
    outcome: AttemptFilter | None = None
    event_type: str | None = None
    event_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class AttemptView:
    attempt: WebhookAttempt
    event_id: str
    event_type: str


@dataclass(frozen=True, slots=True)
class Lease:
    """How a worker holds a claimed delivery while it sends it, on both databases."""

    holder: str  # "host:pid" of the claiming process
    duration: timedelta
    holder_is_alive: Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Claim:
    """Deliveries leased to a worker, and where more may be due: ``more_endpoints`` when the claim's
    limit left endpoints out, ``capped_endpoints`` where an endpoint's limit (or its strict order)
    left deliveries behind. A slot coming free elsewhere frees nothing a claim could use."""

    requests: list[WebhookRequest]
    more_endpoints: bool = False
    capped_endpoints: frozenset[uuid.UUID] = frozenset()

    @property
    def capped(self) -> bool:
        return self.more_endpoints or bool(self.capped_endpoints)
