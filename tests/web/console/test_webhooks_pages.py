from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import httpx

from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from clinicore.web.console.clinic_time import ClinicTime
from tests.core.events.receiver import Answer, Receiver, running_receiver
from tests.factories import ClinicFixture, create_clinic, emit_event, run_webhook_jobs
from tests.support import remember_secret
from tests.web.console.pages import console_csrf, sign_in

_SECRET = re.compile(r'data-testid="endpoint-secret">(whsec_[^<]+)<')
_ENDPOINT_LOCATION = re.compile(r"^/console/webhooks/([0-9a-f-]{36})\?notice=created$")


def shown_secret(html: str) -> str:
    match = _SECRET.search(html)
    assert match, "no secret on the page"
    return remember_secret(match.group(1))


def attempt_rows(html: str) -> list[tuple[str, str]]:
    """(outcome, event id) of each attempt row, as listed."""
    return re.findall(r'data-attempt-outcome="([a-z_]+)" data-event-id="([^"]+)"', html)


async def add_endpoint(
    client: httpx.AsyncClient, url: str, events: str = "", *, format: str = "native"
) -> str:
    response = await client.post(
        "/console/webhooks",
        data={"format": format, "url": url, "events": events, "csrf_token": await console_csrf(client)},
    )
    assert response.status_code == 303, response.text
    match = _ENDPOINT_LOCATION.match(response.headers["location"])
    assert match
    return match.group(1)


async def signed_in_with_endpoint(
    client: httpx.AsyncClient, runtime: Runtime, receiver: Receiver
) -> tuple[ClinicFixture, str]:
    arranged = await create_clinic(runtime)
    await sign_in(client, arranged.email, arranged.password)
    endpoint_id = await add_endpoint(client, receiver.url())
    shown_secret((await client.get(f"/console/webhooks/{endpoint_id}")).text)
    return arranged, endpoint_id


class TestEndpoints:
    async def test_adding_an_endpoint_shows_its_secret_and_lists_it(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        assert "Webhooks" in (await client.get("/console")).text
        endpoint_id = await add_endpoint(
            client, "http://127.0.0.1:9/hooks", events="appointment.*, lead.created"
        )
        page = await client.get(f"/console/webhooks/{endpoint_id}?notice=created")
        assert page.status_code == 200
        assert "Endpoint added." in page.text
        assert shown_secret(page.text).startswith("whsec_")
        listed = await client.get("/console/webhooks")
        assert f'data-endpoint-id="{endpoint_id}"' in listed.text
        assert "appointment.*, lead.created" in listed.text

    async def test_a_refused_url_is_explained_and_the_form_kept(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        response = await client.post(
            "/console/webhooks",
            data={
                "format": "native",
                "url": "ftp://files.example/x",
                "events": "lead.created",
                "csrf_token": await console_csrf(client),
            },
        )
        assert response.status_code == 400
        assert "url: must start with http:// or https://" in response.text
        assert 'value="ftp://files.example/x"' in response.text

    async def test_forms_without_the_csrf_token_change_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        response = await client.post(
            "/console/webhooks", data={"format": "native", "url": "http://127.0.0.1:9/"}
        )
        assert response.status_code == 403
        assert "data-endpoint-id" not in (await client.get("/console/webhooks")).text

    async def test_another_clinics_endpoint_is_not_found(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        theirs = await create_clinic(runtime)
        await sign_in(client, theirs.email, theirs.password)
        their_endpoint = await add_endpoint(client, "http://127.0.0.1:9/hooks")
        mine = await create_clinic(runtime)
        await sign_in(client, mine.email, mine.password)
        assert (await client.get(f"/console/webhooks/{their_endpoint}")).status_code == 404
        response = await client.post(
            f"/console/webhooks/{their_endpoint}/disable", data={"csrf_token": await console_csrf(client)}
        )
        assert response.status_code == 404

    async def test_rotating_the_secret_shows_the_new_one(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        endpoint_id = await add_endpoint(client, "http://127.0.0.1:9/hooks")
        old = shown_secret((await client.get(f"/console/webhooks/{endpoint_id}")).text)
        response = await client.post(
            f"/console/webhooks/{endpoint_id}/rotate-secret", data={"csrf_token": await console_csrf(client)}
        )
        assert response.headers["location"] == f"/console/webhooks/{endpoint_id}?notice=rotated"
        page = await client.get(response.headers["location"])
        assert shown_secret(page.text) != old
        assert "The previous secret also signs until" in page.text

    async def test_deleting_an_endpoint(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        endpoint_id = await add_endpoint(client, "http://127.0.0.1:9/hooks")
        response = await client.post(
            f"/console/webhooks/{endpoint_id}/delete", data={"csrf_token": await console_csrf(client)}
        )
        assert response.headers["location"] == "/console/webhooks"
        assert (await client.get(f"/console/webhooks/{endpoint_id}")).status_code == 404


class TestQualiphyEndpoints:
    async def test_a_qualiphy_endpoint_is_added_for_events_1_2_3_without_a_test_event(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        form = await client.get("/console/webhooks")
        assert re.search(r'<option value="qualiphy"\s*>Qualiphy \(events 1/2/3\)</option>', form.text)

        endpoint_id = await add_endpoint(client, "http://127.0.0.1:9/portal-hook", format="qualiphy")

        page = await client.get(f"/console/webhooks/{endpoint_id}?notice=created")
        assert "Endpoint added." in page.text
        assert "patient_exam.completed, prescription.confirmed, prescription.shipped" in page.text
        assert "Send a test event" not in page.text
        assert 'data-testid="no-test-event"' in page.text
        listed = await client.get("/console/webhooks")
        assert f'data-endpoint-id="{endpoint_id}"' in listed.text

    async def test_a_qualiphy_endpoint_naming_other_events_is_explained_and_the_form_kept(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        response = await client.post(
            "/console/webhooks",
            data={
                "format": "qualiphy",
                "url": "http://127.0.0.1:9/portal-hook",
                "events": "patient_exam.completed appointment.*",
                "csrf_token": await console_csrf(client),
            },
        )
        assert response.status_code == 400
        assert (
            "events: qualiphy endpoints receive only patient_exam.completed, prescription.confirmed, "
            "prescription.shipped (Qualiphy events 1, 2 and 3); &#39;appointment.*&#39; is not one of them"
        ) in response.text
        assert '<option value="qualiphy" selected>' in response.text
        assert "data-endpoint-id" not in (await client.get("/console/webhooks")).text


class TestTestEventsAndAttempts:
    async def test_a_test_event_is_sent_and_its_attempt_is_listed(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        async with running_receiver() as receiver:
            arranged, endpoint_id = await signed_in_with_endpoint(client, runtime, receiver)
            response = await client.post(
                f"/console/webhooks/{endpoint_id}/test", data={"csrf_token": await console_csrf(client)}
            )
            assert response.headers["location"] == f"/console/webhooks/{endpoint_id}?notice=test-sent"
            await run_webhook_jobs(runtime, arranged.clinic)
        [webhook] = receiver.received
        assert webhook.json()["type"] == "webhook.test"
        page = await client.get(f"/console/webhooks/{endpoint_id}")
        assert attempt_rows(page.text) == [("delivered", webhook.webhook_id)]
        assert "HTTP 200" in page.text and "webhook.test" in page.text

    async def test_attempts_can_be_filtered_by_result_type_and_time(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        clock = FrozenClock(datetime.now(UTC))
        clocked = dataclasses.replace(runtime, clock=clock)
        async with running_receiver() as receiver:
            arranged, endpoint_id = await signed_in_with_endpoint(client, runtime, receiver)
            receiver.answer_next(Answer(503, body=b"maintenance"))
            appointment = await emit_event(clocked, arranged.clinic, "appointment.created")
            await run_webhook_jobs(clocked, arranged.clinic)
            clock.advance(timedelta(minutes=10))
            lead = await emit_event(clocked, arranged.clinic, "lead.created", aggregate_type="lead")
            await run_webhook_jobs(clocked, arranged.clinic)

        path = f"/console/webhooks/{endpoint_id}"
        everything = await client.get(path)
        assert attempt_rows(everything.text) == [
            ("delivered", lead.id),
            ("delivered", appointment.id),
            ("retrying", appointment.id),
        ]
        assert "maintenance" in everything.text
        failed = await client.get(path, params={"status": "failed"})
        assert attempt_rows(failed.text) == [("retrying", appointment.id)]
        leads = await client.get(path, params={"event_type": "lead.created"})
        assert attempt_rows(leads.text) == [("delivered", lead.id)]
        local = ClinicTime(arranged.clinic.time_zone)
        since = local.input_value(clock.now() - timedelta(minutes=1))
        recent = await client.get(path, params={"since": since})
        assert attempt_rows(recent.text) == [("delivered", lead.id), ("delivered", appointment.id)]
        nonsense = await client.get(path, params={"since": "yesterday"})
        assert nonsense.status_code == 400
        assert "since: enter a date and time" in nonsense.text


class TestReplays:
    async def test_replay_this_message(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        async with running_receiver() as receiver:
            arranged, endpoint_id = await signed_in_with_endpoint(client, runtime, receiver)
            event = await emit_event(runtime, arranged.clinic)
            await run_webhook_jobs(runtime, arranged.clinic)
            response = await client.post(
                f"/console/webhooks/{endpoint_id}/events/{event.id}/replay",
                data={"csrf_token": await console_csrf(client)},
            )
            assert (
                response.headers["location"] == f"/console/webhooks/{endpoint_id}?notice=replayed&replayed=1"
            )
            assert "Queued again. 1 event queued." in (await client.get(response.headers["location"])).text
            await run_webhook_jobs(runtime, arranged.clinic)
        assert receiver.ids() == [event.id, event.id]

    async def test_replay_everything_between_two_local_times(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
        clock = FrozenClock(start)
        clocked = dataclasses.replace(runtime, clock=clock)
        async with running_receiver() as receiver:
            arranged, endpoint_id = await signed_in_with_endpoint(client, runtime, receiver)
            events = []
            for _ in range(3):
                events.append(await emit_event(clocked, arranged.clinic))
                await run_webhook_jobs(clocked, arranged.clinic)
                clock.advance(timedelta(hours=1))
            local = ClinicTime(arranged.clinic.time_zone)
            response = await client.post(
                f"/console/webhooks/{endpoint_id}/replay",
                data={
                    "since": local.input_value(start + timedelta(minutes=30)),
                    "until": "",
                    "csrf_token": await console_csrf(client),
                },
            )
            assert (
                response.headers["location"] == f"/console/webhooks/{endpoint_id}?notice=replayed&replayed=2"
            )
            clock.advance(timedelta(minutes=1))  # queued at the real time, a moment ahead of the test clock
            await run_webhook_jobs(clocked, arranged.clinic)
        assert receiver.ids() == [events[0].id, events[1].id, events[2].id, events[1].id, events[2].id]

    async def test_disable_then_enable_sends_the_backlog(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        async with running_receiver() as receiver:
            arranged, endpoint_id = await signed_in_with_endpoint(client, runtime, receiver)
            path = f"/console/webhooks/{endpoint_id}"
            await client.post(f"{path}/disable", data={"csrf_token": await console_csrf(client)})
            page = await client.get(path)
            assert "disabled: disabled by a user" in page.text
            assert 'data-testid="enable-endpoint"' in page.text
            missed = await emit_event(runtime, arranged.clinic)
            assert await run_webhook_jobs(runtime, arranged.clinic) == 0
            refused = await client.post(f"{path}/test", data={"csrf_token": await console_csrf(client)})
            assert refused.status_code == 409
            assert "enable it before sending a test event" in refused.text

            response = await client.post(
                f"{path}/enable", data={"replay_backlog": "on", "csrf_token": await console_csrf(client)}
            )
            assert response.headers["location"] == f"{path}?notice=enabled&replayed=1"
            await run_webhook_jobs(runtime, arranged.clinic)
        assert receiver.ids() == [missed.id]
