"""The SMS job: send queued text messages through the configured provider, each result recorded in
its own short transaction (nothing is held open while the provider answers)."""

from __future__ import annotations

from clinicore.core.notify import sms as sms_service
from clinicore.kit.db import transaction
from clinicore.runtime import Runtime


async def send_queued_sms(runtime: Runtime, provider: sms_service.SmsProvider | None = None) -> int:
    provider = provider or sms_service.sms_provider_for(runtime.settings)
    async with transaction(runtime.sessions) as session:
        claimed = await sms_service.claim_due_sms(session, clock=runtime.clock)
    for sms in claimed:
        error = None
        message_id = None
        try:
            message_id = await provider.send(to_number=sms.to_number, body=sms.body)
        except sms_service.SmsSendError as exc:
            error = str(exc)
        async with transaction(runtime.sessions) as session:
            await sms_service.record_sms_result(
                session,
                sms_id=sms.id,
                provider=provider.name,
                provider_message_id=message_id,
                error=error,
                clock=runtime.clock,
            )
    return len(claimed)
