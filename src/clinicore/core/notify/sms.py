"""Text messages: queued in the caller's transaction (a rolled-back change sends nothing) and sent by
the worker through an ``SmsProvider``.

The default provider, ``log``, records each message as sent without leaving the machine: the
outbox row is what the console shows. ``twilio`` sends through the Twilio Messages API.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.config import Settings
from clinicore.core.models import EmailStatus, OutboundSms
from clinicore.core.notify import repository
from clinicore.core.notify.service import record_attempt
from clinicore.kit.clock import Clock, system_clock

# Longer than any provider call: a send still running is never taken over by another worker.
SMS_LEASE = timedelta(minutes=2)
SMS_TIMEOUT_SECONDS = 20
MAX_SMS_LENGTH = 1600  # Twilio's limit for one message body


class SmsSendError(Exception):
    """The provider refused or could not be reached; the message is retried later."""


@dataclass(frozen=True, slots=True)
class QueuedSms:
    id: uuid.UUID
    to_number: str
    body: str


class SmsProvider(Protocol):
    name: str

    async def send(self, *, to_number: str, body: str) -> str | None:
        """Send one message; return the provider's message id, or raise ``SmsSendError``."""
        ...


class LogSmsProvider:
    """Keeps the message in the outbox (marked sent) for the console; nothing leaves the machine."""

    name = "log"

    async def send(self, *, to_number: str, body: str) -> str | None:
        return None


class TwilioSmsProvider:
    """Twilio's Messages API: a form POST with HTTP basic auth (account SID and auth token)."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str = "https://api.twilio.com",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from_number = from_number
        self._url = f"{api_base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._transport = transport

    async def send(self, *, to_number: str, body: str) -> str | None:
        try:
            async with httpx.AsyncClient(
                timeout=SMS_TIMEOUT_SECONDS, transport=self._transport, follow_redirects=False
            ) as client:
                response = await client.post(
                    self._url,
                    data={"To": to_number, "From": self._from_number, "Body": body},
                    auth=(self._account_sid, self._auth_token),
                )
        except httpx.HTTPError as exc:
            raise SmsSendError(f"twilio: {type(exc).__name__}") from None
        if response.status_code not in (200, 201):
            raise SmsSendError(f"twilio: HTTP {response.status_code}: {response.text[:200]}")
        try:
            message_id = response.json().get("sid")
        except (ValueError, AttributeError):
            message_id = None
        return str(message_id) if message_id else None


def sms_provider_for(settings: Settings) -> SmsProvider:
    if settings.sms_provider == "twilio":
        if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number):
            raise SmsSendError(
                "CLINICORE_SMS_PROVIDER=twilio needs CLINICORE_TWILIO_ACCOUNT_SID, "
                "CLINICORE_TWILIO_AUTH_TOKEN and CLINICORE_TWILIO_FROM_NUMBER"
            )
        return TwilioSmsProvider(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            api_base_url=settings.twilio_api_base_url,
        )
    return LogSmsProvider()


async def queue_sms(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID | None,
    to_number: str,
    body: str,
    clock: Clock = system_clock,
) -> OutboundSms:
    """Queue a message to an E.164 number in the caller's transaction."""
    now = clock.now()
    sms = OutboundSms(
        clinic_id=clinic_id,
        to_number=to_number,
        body=body[:MAX_SMS_LENGTH],
        status=EmailStatus.pending,
        attempt_count=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(sms)
    await session.flush()
    return sms


async def sms_to(session: AsyncSession, *, to_number: str) -> Sequence[OutboundSms]:
    return await repository.sms_to(session, to_number)


async def claim_due_sms(session: AsyncSession, *, clock: Clock, limit: int = 20) -> Sequence[QueuedSms]:
    """Lease due messages to this worker (PostgreSQL: rows locked, others skip them)."""
    now = clock.now()
    claimed = []
    for sms in await repository.due_messages(session, OutboundSms, now=now, limit=limit):
        sms.claimed_until = now + SMS_LEASE
        claimed.append(QueuedSms(id=sms.id, to_number=sms.to_number, body=sms.body))
    return claimed


async def record_sms_result(
    session: AsyncSession,
    *,
    sms_id: uuid.UUID,
    provider: str,
    provider_message_id: str | None,
    error: str | None,
    clock: Clock,
) -> None:
    sms = await session.get(OutboundSms, sms_id)
    if sms is None:
        return
    sms.provider = provider
    if error is None:
        sms.provider_message_id = provider_message_id
    record_attempt(sms, error=error, now=clock.now())
