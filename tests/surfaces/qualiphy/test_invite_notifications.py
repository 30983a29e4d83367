"""The invite's email and SMS: queued with the invite (unless the clinic turned auto invites off),
the email received by a real SMTP server, the SMS recorded by the log provider or sent to Twilio's
Messages API (a real loopback HTTP server standing in for it)."""

from __future__ import annotations

import base64
import dataclasses
import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs

import pytest
from sqlalchemy import update

from clinicore.core.models import Clinic, OutboundEmail, OutboundSms
from clinicore.core.notify import service as notify_service
from clinicore.core.notify import sms as sms_service
from clinicore.runtime import Runtime
from clinicore.worker.emails import send_queued_emails
from clinicore.worker.sms import send_queued_sms
from tests.core.events.receiver import Answer, Receiver, running_receiver
from tests.core.events.smtp_sink import SmtpSink, running_smtp_sink
from tests.surfaces.qualiphy.conftest import NOW, QualiphyClinic
from tests.surfaces.qualiphy.test_exam_invite import invite, invite_body, read_meeting


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with running_smtp_sink() as sink:
        yield sink


@pytest.fixture
async def twilio() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


def a_patient() -> tuple[str, str]:
    """A fresh email and phone, so that this test's messages are told apart from other tests'."""
    digits = f"{secrets.randbelow(10**7):07d}"
    return f"pat-{secrets.token_hex(4)}@patients.example.com", f"+1212{digits}"


async def emails_to(runtime: Runtime, address: str) -> list[OutboundEmail]:
    async with runtime.sessions() as session:
        return list(await notify_service.emails_to(session, to_address=address))


async def sms_to(runtime: Runtime, number: str) -> list[OutboundSms]:
    async with runtime.sessions() as session:
        return list(await sms_service.sms_to(session, to_number=number))


async def set_clinic(qp: QualiphyClinic, **values: object) -> None:
    async with qp.runtime.sessions() as session, session.begin():
        await session.execute(update(Clinic).where(Clinic.id == qp.arranged.clinic.id).values(**values))


class TestQueued:
    async def test_an_invite_queues_one_email_and_one_sms_with_the_meeting_link(
        self, qp: QualiphyClinic
    ) -> None:
        email, phone = a_patient()
        body = await invite(qp, invite_body(qp.catalog.botox.id, email=email, phone_number=phone[2:]))

        [queued_email] = await emails_to(qp.runtime, email)
        assert queued_email.clinic_id == qp.arranged.clinic.id and queued_email.status == "pending"
        assert queued_email.subject == "Glow Medspa: your telehealth visit is ready"
        assert body["meeting_url"] in queued_email.body and "Jane" in queued_email.body
        assert "1990" not in queued_email.body and "06-30" not in queued_email.body  # never the dob
        [queued_sms] = await sms_to(qp.runtime, phone)
        assert queued_sms.status == "pending" and queued_sms.clinic_id == qp.arranged.clinic.id
        assert (
            queued_sms.body
            == f"Glow Medspa: your telehealth visit is ready. Start here: {body['meeting_url']}"
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert meeting.invites_sent == 1 and meeting.last_invited_at == NOW

    async def test_the_clinics_brand_name_signs_the_messages(self, qp: QualiphyClinic) -> None:
        await set_clinic(qp, brand_name="Glow Aesthetics")
        email, phone = a_patient()
        await invite(qp, invite_body(qp.catalog.botox.id, email=email, phone_number=phone))
        [queued_email] = await emails_to(qp.runtime, email)
        assert queued_email.subject.startswith("Glow Aesthetics:")
        [queued_sms] = await sms_to(qp.runtime, phone)
        assert queued_sms.body.startswith("Glow Aesthetics:")

    async def test_with_auto_invites_off_nothing_is_sent(self, qp: QualiphyClinic) -> None:
        await set_clinic(qp, auto_invites=False)
        email, phone = a_patient()
        body = await invite(qp, invite_body(qp.catalog.botox.id, email=email, phone_number=phone))
        assert await emails_to(qp.runtime, email) == []
        assert await sms_to(qp.runtime, phone) == []
        assert (await read_meeting(qp, body["meeting_uuid"])).invites_sent == 0

    async def test_a_refused_invite_sends_nothing(self, qp: QualiphyClinic) -> None:
        email, phone = a_patient()
        response = await qp.post(
            "exam_invite",
            **invite_body(qp.catalog.glp1.id, qp.catalog.hair.id, email=email, phone_number=phone),
        )
        assert response.status_code == 400
        assert await emails_to(qp.runtime, email) == [] and await sms_to(qp.runtime, phone) == []


class TestSent:
    async def test_the_invite_email_reaches_a_real_smtp_server(
        self, qp: QualiphyClinic, smtp_sink: SmtpSink
    ) -> None:
        runtime = dataclasses.replace(
            qp.runtime,
            settings=qp.runtime.settings.model_copy(
                update={"smtp_host": "127.0.0.1", "smtp_port": smtp_sink.port}
            ),
        )
        email, phone = a_patient()
        body = await invite(qp, invite_body(qp.catalog.botox.id, email=email, phone_number=phone))

        while await send_queued_emails(runtime):
            pass
        [received] = smtp_sink.to(email)
        assert received.message["Subject"] == "Glow Medspa: your telehealth visit is ready"
        assert body["meeting_url"] in received.body
        [row] = await emails_to(qp.runtime, email)
        assert row.status == "sent" and row.sent_at == NOW

    async def test_the_log_provider_records_the_sms_as_sent(self, qp: QualiphyClinic) -> None:
        email, phone = a_patient()
        await invite(qp, invite_body(qp.catalog.botox.id, email=email, phone_number=phone))

        while await send_queued_sms(qp.runtime):
            pass
        [row] = await sms_to(qp.runtime, phone)
        assert (row.status, row.provider, row.sent_at, row.attempt_count) == ("sent", "log", NOW, 1)
        assert row.claimed_until is None
        assert await send_queued_sms(qp.runtime) == 0  # sent once

    async def test_the_twilio_provider_posts_the_message(self, qp: QualiphyClinic, twilio: Receiver) -> None:
        twilio.default_answer = Answer(201, {"content-type": "application/json"}, b'{"sid": "SM0123456789"}')
        runtime = dataclasses.replace(
            qp.runtime,
            settings=qp.runtime.settings.model_copy(
                update={
                    "sms_provider": "twilio",
                    "twilio_account_sid": "AC0123",
                    "twilio_auth_token": "tok-secret",
                    "twilio_from_number": "+15550001111",
                    "twilio_api_base_url": twilio.url(""),
                }
            ),
        )
        email, phone = a_patient()
        body = await invite(qp, invite_body(qp.catalog.botox.id, email=email, phone_number=phone))

        while await send_queued_sms(runtime):
            pass
        mine = [item for item in twilio.received if phone in parse_qs(item.body.decode()).get("To", [])]
        [request] = mine
        assert request.path == "/2010-04-01/Accounts/AC0123/Messages.json"
        form = parse_qs(request.body.decode())
        assert form["From"] == ["+15550001111"]
        assert form["Body"] == [
            f"Glow Medspa: your telehealth visit is ready. Start here: {body['meeting_url']}"
        ]
        assert request.headers["authorization"] == "Basic " + base64.b64encode(b"AC0123:tok-secret").decode()
        [row] = await sms_to(qp.runtime, phone)
        assert (row.status, row.provider, row.provider_message_id) == ("sent", "twilio", "SM0123456789")

    async def test_a_twilio_failure_is_retried_later(self, qp: QualiphyClinic, twilio: Receiver) -> None:
        twilio.default_answer = Answer(500, body=b'{"message": "down"}')
        provider = sms_service.TwilioSmsProvider(
            account_sid="AC0123", auth_token="tok", from_number="+15550001111", api_base_url=twilio.url("")
        )
        email, phone = a_patient()
        await invite(qp, invite_body(qp.catalog.botox.id, email=email, phone_number=phone))

        while await send_queued_sms(qp.runtime, provider):
            pass
        [row] = await sms_to(qp.runtime, phone)
        assert (row.status, row.attempt_count, row.provider) == ("pending", 1, "twilio")
        assert row.last_error is not None and row.last_error.startswith("twilio: HTTP 500")
        assert row.next_attempt_at > NOW and row.sent_at is None


def test_the_log_provider_is_the_default(runtime: Runtime) -> None:
    assert isinstance(sms_service.sms_provider_for(runtime.settings), sms_service.LogSmsProvider)
