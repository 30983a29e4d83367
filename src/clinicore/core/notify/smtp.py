"""Email over SMTP with ``aiosmtplib``, configured by ``CLINICORE_SMTP_*``."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from clinicore.config import Settings

SMTP_TIMEOUT_SECONDS = 30


def smtp_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


async def send_email(settings: Settings, *, to_address: str, subject: str, body: str) -> None:
    """Send one plain-text email; raises ``aiosmtplib.SMTPException`` or ``OSError`` on failure."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to_address
    message["Subject"] = subject
    message.set_content(body)
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        start_tls=settings.smtp_starttls,
        timeout=SMTP_TIMEOUT_SECONDS,
    )
