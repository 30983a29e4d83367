"""QualifyBase webhook deliveries: the body and the ``X-QualifyBase-*`` headers.

Body ``{"id": "evt_…", "type", "created", "data": {"appointment"|"lead"|"contact": {...}}}`` with the
same objects the REST API returns. ``X-QualifyBase-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>">`` keyed, as in Standard Webhooks, by the base64-decoded part of the ``whsec_`` secret.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from clinicore.core.events.renderers import json_bytes
from clinicore.core.events.schemas import RenderedWebhook
from clinicore.core.events.service import TEST_EVENT_TYPE
from clinicore.core.models import Event, WebhookEndpoint, WebhookFormat
from clinicore.kit.signing import secret_key
from clinicore.surfaces.descriptor import WebhookFormatSpec
from clinicore.surfaces.qualifybase import wire
from clinicore.surfaces.qualifybase.wire import format_timestamp


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def appointment_from_snapshot(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    return wire.Appointment(
        id=snapshot["id"],
        lead_id=snapshot["lead_id"],
        assigned_to=snapshot["practitioner_id"],
        status=snapshot["status"],
        title=snapshot["title"],
        notes=snapshot["notes"],
        scheduled_at=datetime.fromisoformat(snapshot["starts_at"]),
        ends_at=datetime.fromisoformat(snapshot["ends_at"]),
        version=snapshot["version"],
        created_at=datetime.fromisoformat(snapshot["created_at"]),
        updated_at=datetime.fromisoformat(snapshot["updated_at"]),
        cancelled_at=_moment(snapshot.get("cancelled_at")),
    ).model_dump(mode="json")


def lead_from_snapshot(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    return wire.Lead.model_validate(dict(snapshot)).model_dump(mode="json")


def contact_from_snapshot(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    return wire.Contact.model_validate(dict(snapshot)).model_dump(mode="json")


def delivery_data(event: Event) -> dict[str, Any]:
    payload = event.payload
    if event.type == TEST_EVENT_TYPE:  # the console's and the native API's test event, to this endpoint only
        return {"test": {"endpoint_id": payload["endpoint_id"], "message": payload["message"]}}
    if "appointment" in payload:
        data: dict[str, Any] = {"appointment": appointment_from_snapshot(payload["appointment"])}
        if "previous" in payload:
            data["previous"] = {
                "scheduled_at": format_timestamp(datetime.fromisoformat(payload["previous"]["starts_at"])),
                "ends_at": format_timestamp(datetime.fromisoformat(payload["previous"]["ends_at"])),
            }
        return data
    if "lead" in payload:
        return {"lead": lead_from_snapshot(payload["lead"])}
    if "contact" in payload:
        return {"contact": contact_from_snapshot(payload["contact"])}
    raise ValueError(f"QualifyBase has no webhook body for {event.type}")


def render_qualifybase(event: Event, _endpoint: WebhookEndpoint) -> RenderedWebhook:
    body = {
        "id": event.id,
        "type": event.type,
        "created": format_timestamp(event.occurred_at),
        "data": delivery_data(event),
    }
    return RenderedWebhook(
        body=json_bytes(body),
        headers={"content-type": "application/json", "X-QualifyBase-Event": event.type},
    )


def qualifybase_signature(secrets: Sequence[str], *, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex>[,v1=<hex>]``: one v1 per active secret (two during a rotation)."""
    signed = f"{timestamp}.".encode() + body
    parts = [f"t={timestamp}"]
    for secret in secrets:
        parts.append("v1=" + hmac.new(secret_key(secret), signed, hashlib.sha256).hexdigest())
    return ",".join(parts)


def qualifybase_headers(
    delivery_id: uuid.UUID, secrets: Sequence[str], timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "X-QualifyBase-Delivery": str(delivery_id),
        "X-QualifyBase-Signature": qualifybase_signature(secrets, timestamp=timestamp, body=body),
    }


WEBHOOKS = WebhookFormatSpec(
    format=WebhookFormat.qualifybase, renderer=render_qualifybase, signer=qualifybase_headers
)
