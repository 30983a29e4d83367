"""The email job: send queued emails over SMTP, each recorded in its own short transaction."""

from __future__ import annotations

import aiosmtplib

from clinicore.core.notify import service as notify_service
from clinicore.core.notify.smtp import send_email, smtp_configured
from clinicore.kit.db import transaction
from clinicore.runtime import Runtime


async def send_queued_emails(runtime: Runtime) -> int:
    """Send due emails; while SMTP is not configured they stay queued, to go once it is."""
    if not smtp_configured(runtime.settings):
        return 0
    async with transaction(runtime.sessions) as session:
        claimed = await notify_service.claim_due_emails(session, clock=runtime.clock)
    for email in claimed:
        error = None
        try:
            await send_email(
                runtime.settings,
                to_address=email.to_address,
                subject=email.subject,
                body=email.body,
                attachment=email.attachment,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        async with transaction(runtime.sessions) as session:
            await notify_service.record_email_result(
                session, email_id=email.id, error=error, clock=runtime.clock
            )
    return len(claimed)
