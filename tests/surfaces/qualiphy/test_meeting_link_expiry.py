"""Meeting links expire (issue 15): the link an invite answers opens the patient's page for
``CLINICORE_MEETING_LINK_DAYS`` (30) days, then answers 410; a resend sends a new link that opens again."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from tests.surfaces.qualiphy.conftest import QualiphyClinic
from tests.surfaces.qualiphy.test_exam_invite import invite_body
from tests.surfaces.qualiphy.test_invite_notifications import sms_to


def on_test_server(url: str) -> str:
    """The link as the test client reaches it (the client's base URL is the Qualiphy surface's)."""
    parts = urlsplit(url)
    return f"http://testserver{parts.path}?{parts.query}"


async def invited(qp: QualiphyClinic, phone: str) -> dict[str, object]:
    response = await qp.post("exam_invite", **invite_body(qp.catalog.botox.id, phone_number=phone))
    assert response.status_code == 200, response.text
    return dict(response.json())


def phone_number() -> str:
    return f"+1555{secrets.randbelow(10**7):07d}"


async def test_the_link_opens_for_30_days_then_answers_410(qp: QualiphyClinic) -> None:
    body = await invited(qp, phone_number())
    link = on_test_server(str(body["meeting_url"]))
    qp.clock.advance(timedelta(days=30) - timedelta(minutes=1))
    assert (await qp.client.get(link, follow_redirects=False)).status_code == 200
    qp.clock.advance(timedelta(minutes=2))
    assert (await qp.client.get(link, follow_redirects=False)).status_code == 410


async def test_a_resend_renews_the_link(qp: QualiphyClinic) -> None:
    phone = phone_number()
    body = await invited(qp, phone)
    patient_exam_id = body["patient_exams"][0]["patient_exam_id"]  # type: ignore[index]
    qp.clock.advance(timedelta(days=31))
    assert (await qp.client.get(on_test_server(str(body["meeting_url"])))).status_code == 410

    response = await qp.post("exam_invite_resend", patient_exam_id=patient_exam_id)
    assert response.status_code == 200, response.text
    texts = await sms_to(qp.runtime, phone)
    renewed = re.findall(r"https?://\S+", texts[-1].body)[0]
    assert (await qp.client.get(on_test_server(renewed))).status_code == 200
