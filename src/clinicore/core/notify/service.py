"""Notifications: emails are queued in the caller's transaction (so a rolled-back change sends
nothing) and sent by the worker, retried for about a day."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import EmailStatus, OutboundEmail, OutboundSms
from clinicore.core.notify import repository
from clinicore.kit.clock import Clock, system_clock

EMAIL_RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
# Longer than any SMTP conversation: a send still running is never taken over by another worker.
EMAIL_LEASE = timedelta(minutes=2)
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with an email (an appointment's ``.ics``)."""

    name: str
    content_type: str  # "text/calendar"
    content: bytes


@dataclass(frozen=True, slots=True)
class QueuedEmail:
    id: uuid.UUID
    to_address: str
    subject: str
    body: str
    attachment: Attachment | None = None


async def queue_email(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID | None,
    to_address: str,
    subject: str,
    body: str,
    clock: Clock = system_clock,
    attachment: Attachment | None = None,
) -> OutboundEmail:
    now = clock.now()
    email = OutboundEmail(
        clinic_id=clinic_id,
        to_address=to_address,
        subject=subject[:300],
        body=body,
        attachment_name=attachment.name if attachment is not None else None,
        attachment_type=attachment.content_type if attachment is not None else None,
        attachment_content=attachment.content if attachment is not None else None,
        status=EmailStatus.pending,
        attempt_count=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(email)
    await session.flush()
    return email


async def claim_due_emails(session: AsyncSession, *, clock: Clock, limit: int = 20) -> Sequence[QueuedEmail]:
    now = clock.now()
    claimed = []
    for email in await repository.due_messages(session, OutboundEmail, now=now, limit=limit):
        email.claimed_until = now + EMAIL_LEASE
        attachment = None
        if email.attachment_name and email.attachment_type and email.attachment_content is not None:
            attachment = Attachment(
                name=email.attachment_name,
                content_type=email.attachment_type,
                content=email.attachment_content,
            )
        claimed.append(
            QueuedEmail(
                id=email.id,
                to_address=email.to_address,
                subject=email.subject,
                body=email.body,
                attachment=attachment,
            )
        )
    return claimed


async def record_email_result(
    session: AsyncSession, *, email_id: uuid.UUID, error: str | None, clock: Clock
) -> None:
    email = await repository.get_email(session, email_id)
    if email is None:
        return
    record_attempt(email, error=error, now=clock.now())


def record_attempt(message: OutboundEmail | OutboundSms, *, error: str | None, now: datetime) -> None:
    """One send attempt of an outbox message: sent, or retried after the next delay, or failed."""
    message.attempt_count += 1
    message.claimed_until = None
    if error is None:
        message.status = EmailStatus.sent
        message.sent_at = now
        message.last_error = None
        return
    message.last_error = error[:MAX_ERROR_LENGTH]
    if message.attempt_count > len(EMAIL_RETRY_DELAYS):
        message.status = EmailStatus.failed
    else:
        message.next_attempt_at = now + EMAIL_RETRY_DELAYS[message.attempt_count - 1]


async def emails_to(session: AsyncSession, *, to_address: str) -> Sequence[OutboundEmail]:
    return await repository.emails_to(session, to_address)
