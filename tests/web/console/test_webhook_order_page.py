"""The endpoint page's strict-order toggle: each aggregate's events one at a time and in order, or side
by side; formats that promise order keep it."""

from __future__ import annotations

import httpx

from clinicore.runtime import Runtime
from tests.core.events.receiver import running_receiver
from tests.factories import create_clinic, emit_event, run_webhook_jobs
from tests.web.console.pages import console_csrf, sign_in
from tests.web.console.test_webhooks_pages import add_endpoint

STRICT_CHECKBOX = '<input type="checkbox" name="strict_order" checked>'


class TestStrictOrderToggle:
    async def test_turning_strict_order_on_sends_one_aggregates_events_one_at_a_time_and_off_again(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        async with running_receiver(handling_delay=0.1) as receiver:
            endpoint_id = await add_endpoint(client, receiver.url())
            path = f"/console/webhooks/{endpoint_id}"
            page = await client.get(path)
            assert "side by side" in page.text
            assert 'data-testid="strict-order"' in page.text
            assert STRICT_CHECKBOX not in page.text

            response = await client.post(
                f"{path}/strict-order", data={"strict_order": "on", "csrf_token": await console_csrf(client)}
            )
            assert response.status_code == 303, response.text
            assert response.headers["location"] == f"{path}?notice=strict-order-on"
            page = await client.get(response.headers["location"])
            assert "one at a time, in order" in page.text
            assert STRICT_CHECKBOX in page.text

            # Strict: the three events of one appointment go out one after the other, in order.
            events = [await emit_event(runtime, arranged.clinic, aggregate_id="appt-1") for _ in range(3)]
            assert await run_webhook_jobs(runtime, arranged.clinic) == 3
            assert receiver.ids() == [event.id for event in events]
            assert receiver.max_in_flight == 1

            # Off again (an unchecked box is not sent): the next three go out side by side.
            response = await client.post(
                f"{path}/strict-order", data={"csrf_token": await console_csrf(client)}
            )
            assert response.headers["location"] == f"{path}?notice=strict-order-off"
            page = await client.get(response.headers["location"])
            assert "side by side" in page.text
            assert STRICT_CHECKBOX not in page.text
            for _ in range(3):
                await emit_event(runtime, arranged.clinic, aggregate_id="appt-1")
            assert await run_webhook_jobs(runtime, arranged.clinic) == 3
            assert receiver.max_in_flight == 3

    async def test_a_format_that_promises_order_has_no_toggle_and_cannot_be_turned_off(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        endpoint_id = await add_endpoint(client, "http://127.0.0.1:9/portal-hook", format="qualiphy")
        path = f"/console/webhooks/{endpoint_id}"
        page = await client.get(path)
        assert "(always, for this format)" in page.text
        assert 'data-testid="strict-order"' not in page.text

        refused = await client.post(f"{path}/strict-order", data={"csrf_token": await console_csrf(client)})
        assert refused.status_code == 400
        assert (
            "strict_order: qualiphy endpoints always get each aggregate&#39;s events in order" in refused.text
        )
        assert "one at a time, in order" in (await client.get(path)).text

    async def test_without_the_csrf_token_nothing_changes(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        endpoint_id = await add_endpoint(client, "http://127.0.0.1:9/hooks")
        path = f"/console/webhooks/{endpoint_id}"
        response = await client.post(f"{path}/strict-order", data={"strict_order": "on"})
        assert response.status_code in (400, 403)
        assert STRICT_CHECKBOX not in (await client.get(path)).text
