"""A test event sent to a QualifyBase-format endpoint renders in QualifyBase's envelope (issue 15, item 8):
it used to raise in the renderer, so every retry failed the same way until the endpoint was disabled."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from clinicore.core.events.service import TEST_EVENT_TYPE
from clinicore.core.models import Event, WebhookEndpoint, WebhookFormat
from clinicore.surfaces.qualifybase.webhooks import render_qualifybase


def test_a_test_event_renders_in_the_qualifybase_envelope() -> None:
    endpoint_id = str(uuid.uuid4())
    event = Event(
        id="evt_01TEST",
        type=TEST_EVENT_TYPE,
        payload={"endpoint_id": endpoint_id, "message": "A test event from Clinicore."},
        occurred_at=datetime(2026, 12, 1, 18, 0, tzinfo=UTC),
    )
    rendered = render_qualifybase(event, WebhookEndpoint(format=WebhookFormat.qualifybase))
    body = json.loads(rendered.body)
    assert body["type"] == "webhook.test"
    assert body["id"] == "evt_01TEST"
    assert body["data"] == {"test": {"endpoint_id": endpoint_id, "message": "A test event from Clinicore."}}
    assert rendered.headers["X-QualifyBase-Event"] == "webhook.test"
