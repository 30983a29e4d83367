from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from clinicore.core.events.retries import LONGEST_COUNTED_GAP
from clinicore.core.models import Clinic, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from clinicore.worker.emails import send_queued_emails
from tests.core.events.receiver import Answer, Receiver
from tests.core.events.smtp_sink import SmtpSink, running_smtp_sink
from tests.factories import create_clinic, create_endpoint, emit_event, reload_endpoint, run_webhook_jobs


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with running_smtp_sink() as sink:
        yield sink


async def next_attempt_due(runtime: Runtime, endpoint: WebhookEndpoint) -> datetime | None:
    async with runtime.sessions() as session:
        return await session.scalar(
            select(func.min(WebhookDelivery.next_attempt_at)).where(
                WebhookDelivery.endpoint_id == endpoint.id,
                WebhookDelivery.status == WebhookDeliveryStatus.pending,
            )
        )


async def keep_failing_until_disabled(
    runtime: Runtime,
    clock: FrozenClock,
    clinic: Clinic,
    endpoint: WebhookEndpoint,
    *,
    give_up_after: timedelta,
) -> datetime:
    """Send (and fail) whatever is due, emitting a new event whenever nothing is pending, moving the
    clock to each next attempt; return when the endpoint was disabled."""
    deadline = clock.now() + give_up_after
    while (await reload_endpoint(runtime, endpoint)).enabled:
        assert clock.now() < deadline, "the endpoint was never disabled"
        due = await next_attempt_due(runtime, endpoint)
        if due is None:
            await emit_event(runtime, clinic)
        else:
            clock.set(max(due, clock.now()))
        await run_webhook_jobs(runtime, clinic)
    disabled_at = (await reload_endpoint(runtime, endpoint)).disabled_at
    assert disabled_at is not None
    return disabled_at


class TestFiveDayRule:
    async def test_an_endpoint_failing_for_five_days_is_disabled_and_its_admins_are_emailed(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver, smtp_sink: SmtpSink
    ) -> None:
        with_smtp = dataclasses.replace(
            clocked,
            settings=clocked.settings.model_copy(
                update={"smtp_host": "127.0.0.1", "smtp_port": smtp_sink.port}
            ),
        )
        arranged = await create_clinic(with_smtp, name="Harbor Medspa")
        endpoint = (
            await create_endpoint(with_smtp, arranged.clinic, receiver.url("/hooks?token=abc"))
        ).endpoint
        receiver.default_answer = Answer(500)
        started = clock.now()

        disabled_at = await keep_failing_until_disabled(
            with_smtp, clock, arranged.clinic, endpoint, give_up_after=timedelta(days=7)
        )

        # Disabled by the first failure after 5 days: at most one retry gap (jittered) after the mark.
        assert timedelta(days=5) <= disabled_at - started <= timedelta(days=5) + LONGEST_COUNTED_GAP
        disabled = await reload_endpoint(with_smtp, endpoint)
        assert disabled.disabled_reason == "every delivery failed for 5 days"
        assert disabled.failing_since == started
        # More than one message failed in those 5 days: the first one ran out of retries after ~3 days.
        assert len(set(receiver.ids())) >= 2

        assert await send_queued_emails(with_smtp) >= 1
        [email] = smtp_sink.to(arranged.email)
        origin = f"http://127.0.0.1:{receiver.port}"
        assert email.message["Subject"] == f"Webhook endpoint disabled: {origin}"
        assert "Harbor Medspa" in email.body and "every delivery failed for 5 days" in email.body
        assert f"{with_smtp.settings.base_url}/console/webhooks/{endpoint.id}" in email.body
        assert "token=abc" not in email.body  # the receiver's own token stays out of emails
        await send_queued_emails(with_smtp)
        assert smtp_sink.to(arranged.email) == [email]  # sent once

    async def test_one_failure_before_our_own_outage_does_not_count_as_five_days_of_trying(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        endpoint = (await create_endpoint(clocked, arranged.clinic, receiver.url())).endpoint
        receiver.default_answer = Answer(503)
        await emit_event(clocked, arranged.clinic)
        await run_webhook_jobs(clocked, arranged.clinic)

        clock.advance(timedelta(days=6))  # the worker was down
        await run_webhook_jobs(clocked, arranged.clinic)
        assert (await reload_endpoint(clocked, endpoint)).enabled
        back_up = clock.now()

        disabled_at = await keep_failing_until_disabled(
            clocked, clock, arranged.clinic, endpoint, give_up_after=timedelta(days=2)
        )
        assert disabled_at - back_up >= timedelta(hours=12)

    async def test_a_success_ends_the_failing_streak(
        self, clocked: Runtime, clock: FrozenClock, receiver: Receiver
    ) -> None:
        arranged = await create_clinic(clocked)
        endpoint = (await create_endpoint(clocked, arranged.clinic, receiver.url())).endpoint
        receiver.answer_next(Answer(500))
        await emit_event(clocked, arranged.clinic)
        await run_webhook_jobs(clocked, arranged.clinic)
        assert (await reload_endpoint(clocked, endpoint)).failing_since == clock.now()
        clock.advance(timedelta(seconds=6))
        await run_webhook_jobs(clocked, arranged.clinic)
        healed = await reload_endpoint(clocked, endpoint)
        assert healed.failing_since is None and healed.failing_attempt_seconds == 0
