"""Webhook renderers: one per endpoint format, each turning an event into the format's body.

A surface registers its renderer in its ``webhooks`` module (``clinicore.surfaces.<vendor>.webhooks``),
which the worker imports at start. A renderer gives the body and the format's own headers; a format
whose vendor signs differently also registers a signer (``register_signer``), called for every attempt
with the delivery id, the endpoint's current secrets (two during a rotation), the webhook-timestamp and
the body. The engine then adds the Standard Webhooks headers, which every format carries.

Deliveries to a format nobody has registered yet are kept, not lost: they wait until it is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from clinicore.core.events.schemas import RenderedWebhook
from clinicore.core.models import Event, WebhookEndpoint, WebhookFormat

Renderer = Callable[[Event, WebhookEndpoint], RenderedWebhook]
# A format's own signature headers, beside the Standard Webhooks ones (QualifyBase's X-QualifyBase-*):
# (delivery id, the endpoint's active secrets, the webhook-timestamp, the body) -> headers.
FormatSigner = Callable[[uuid.UUID, Sequence[str], int, bytes], Mapping[str, str]]
JSON_CONTENT_TYPE = {"content-type": "application/json"}

_renderers: dict[str, Renderer] = {}
_signers: dict[str, FormatSigner] = {}


def register_renderer(format: WebhookFormat | str, renderer: Renderer) -> None:
    _renderers[str(format)] = renderer


def renderer_for(format: str) -> Renderer | None:
    return _renderers.get(format)


def register_signer(format: WebhookFormat | str, signer: FormatSigner) -> None:
    _signers[str(format)] = signer


def signer_for(format: str) -> FormatSigner | None:
    return _signers.get(format)


def registered_formats() -> frozenset[str]:
    return frozenset(_renderers)


def json_default(value: Any) -> Any:
    """JSON for the values a payload commonly holds."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=json_default).encode()


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render_native(event: Event, _endpoint: WebhookEndpoint) -> RenderedWebhook:
    body = {
        "id": event.id,
        "type": event.type,
        "timestamp": rfc3339(event.occurred_at),
        "data": event.payload,
    }
    return RenderedWebhook(body=json_bytes(body), headers=JSON_CONTENT_TYPE)


register_renderer(WebhookFormat.native, render_native)
