"""Email over SMTP with ``aiosmtplib``, configured by ``CLINICORE_SMTP_*``."""

from __future__ import annotations

from email.message import EmailMessage
from typing import TYPE_CHECKING

import aiosmtplib

from clinicore.config import Settings

if TYPE_CHECKING:
    from clinicore.core.notify.service import Attachment

SMTP_TIMEOUT_SECONDS = 30


def smtp_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


async def send_email(
    settings: Settings, *, to_address: str, subject: str, body: str, attachment: Attachment | None = None
) -> None:
    """Send one plain-text email, with its attachment if any; raises ``aiosmtplib.SMTPException`` or
    ``OSError`` on failure."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to_address
    message["Subject"] = subject
    message.set_content(body)
    if attachment is not None:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype or "octet-stream", filename=attachment.name
        )
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        start_tls=settings.smtp_starttls,
        timeout=SMTP_TIMEOUT_SECONDS,
    )
