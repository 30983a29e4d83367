"""Webhook renderers: one per endpoint format, each turning an event into the format's body.

A surface registers its renderer in its ``webhooks`` module (``clinicore.surfaces.<vendor>.webhooks``),
which the worker imports at start. A renderer gives the body and the format's own headers; a format
whose vendor signs differently also registers a signer (``register_signer``), called for every attempt
with the delivery id, the endpoint's current secrets (two during a rotation), the webhook-timestamp and
the body. The engine then adds the Standard Webhooks headers, which every format carries.

A format that has a body for a few event types only (Qualiphy's events 1/2/3) registers them with its
renderer: its endpoints may subscribe to those types only, default to them, and get no test event.

Deliveries to a format nobody has registered yet are kept, not lost: they wait until it is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
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
_only_event_types: dict[str, tuple[str, ...]] = {}
_event_type_labels: dict[str, str] = {}
_strict_order_formats: set[str] = set()


def register_renderer(
    format: WebhookFormat | str,
    renderer: Renderer,
    *,
    event_types: Collection[str] | None = None,
    events_label: str | None = None,
    strict_order: bool = False,
) -> None:
    """Register the format's renderer. ``event_types``: the only event types it has a body for (every
    type when absent); ``events_label`` names them as the format's users know them, for messages;
    ``strict_order``: the format promises its receivers each aggregate's events in order."""
    key = str(format)
    _renderers[key] = renderer
    _only_event_types.pop(key, None)
    _event_type_labels.pop(key, None)
    _strict_order_formats.discard(key)
    if strict_order:
        _strict_order_formats.add(key)
    if event_types is not None:
        _only_event_types[key] = tuple(dict.fromkeys(event_types))
        if events_label:
            _event_type_labels[key] = events_label


def renderer_for(format: str) -> Renderer | None:
    return _renderers.get(format)


def register_signer(format: WebhookFormat | str, signer: FormatSigner) -> None:
    _signers[str(format)] = signer


def signer_for(format: str) -> FormatSigner | None:
    return _signers.get(format)


def registered_formats() -> frozenset[str]:
    return frozenset(_renderers)


def renderable_event_types(format: str) -> tuple[str, ...] | None:
    """The only event types the format has a body for, or None when it renders every event."""
    return _only_event_types.get(format)


def event_types_label(format: str) -> str | None:
    """How the format's users name its event types ("Qualiphy events 1, 2 and 3"), when it has one."""
    return _event_type_labels.get(format)


def always_strict_order(format: str) -> bool:
    """Whether the format's receivers are promised each aggregate's events in order: the choice is not
    theirs, so its endpoints are always strict."""
    return format in _strict_order_formats


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
