"""Console forms as a clinic user meets them: a form the core refuses leaves the database as it was, even
when the core had written before it refused; a field that does not read, or is too long, is the page
again with a message naming it, never a server error."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import time
from types import ModuleType
from typing import Any

import httpx
import pytest

from clinicore.core.audit import service as audit_service
from clinicore.core.crm import service as crm_service
from clinicore.core.events import service as events_service
from clinicore.core.models import AgentDirection, ApiKeyKind, AppointmentStatus
from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling import hours as hours_service
from clinicore.core.scheduling.availability import LocalRange, WorkingHours
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.errors import Conflict
from clinicore.runtime import Runtime
from tests.factories import (
    ClinicFixture,
    create_agent,
    create_clinic,
    create_endpoint,
    create_key,
    create_practitioner,
    emit_event,
    run_webhook_jobs,
)
from tests.web.console.pages import console_csrf, page_csrf, sign_in
from tests.web.console.test_scheduling_pages import MONDAY, book, utc
from tests.web.frozen_console import FrozenApp, frozen_app

NINE_TO_FIVE = [LocalRange(time(9), time(17))]
STAND_IN_REFUSAL = "the core refused after writing"


@pytest.fixture
async def frozen(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


async def signed_in_clinic(client: httpx.AsyncClient, runtime: Runtime) -> ClinicFixture:
    arranged = await create_clinic(runtime, time_zone="America/New_York")
    assert (await sign_in(client, arranged.email, arranged.password)).status_code == 303
    return arranged


def refusing_after_it_writes(monkeypatch: pytest.MonkeyPatch, core: ModuleType, function: str) -> None:
    """``core.function`` does all its work, then refuses: it stands in for a rule that refuses after a
    partial write, which no input of today's forms reaches."""
    does_the_work: Callable[..., Awaitable[Any]] = getattr(core, function)

    async def writes_then_refuses(*args: Any, **kwargs: Any) -> Any:
        await does_the_work(*args, **kwargs)
        raise Conflict(STAND_IN_REFUSAL)

    monkeypatch.setattr(core, function, writes_then_refuses)


class TestARefusedFormChangesNothing:
    async def test_weekly_hours_stay_when_the_core_refuses_after_replacing_them(
        self, frozen: FrozenApp, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        arranged = await signed_in_clinic(frozen.client, frozen.runtime)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        path = f"/console/practitioners/{practitioner.id}"
        token = await page_csrf(frozen.client, path)
        refusing_after_it_writes(monkeypatch, hours_service, "set_weekly_hours")

        response = await frozen.client.post(
            f"{path}/hours", data={"day0": "10:00-11:00", "day5": "09:00-12:00", "csrf_token": token}
        )

        assert response.status_code == 409
        assert STAND_IN_REFUSAL in response.text
        assert 'name="day0" value="10:00-11:00"' in response.text  # the form keeps what was typed
        hours = await weekly_hours_of(frozen, arranged, practitioner.id)
        assert hours.weekly == {day: NINE_TO_FIVE for day in range(5)}
        page = await frozen.client.get(path)
        assert 'name="day0" value="09:00-17:00"' in page.text and 'name="day5" value=""' in page.text

    async def test_an_agent_edit_with_a_bad_phone_keeps_the_agents_name_and_direction(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen.client, frozen.runtime)
        agent = await create_agent(frozen.runtime, arranged.clinic, name="Ava")
        # The core renames the agent and changes its direction before it reads the phone number.
        response = await frozen.client.post(
            f"/console/agents/{agent.id}",
            data={
                "name": "Renamed",
                "direction": "inbound",
                "phone_number": "12345",
                "csrf_token": await page_csrf(frozen.client, "/console/agents"),
            },
        )

        assert response.status_code == 400
        assert "phone_number: not a" in response.text
        async with frozen.runtime.sessions() as session:
            saved = await crm_service.get_agent(session, clinic_id=arranged.clinic.id, agent_id=agent.id)
            assert (saved.name, saved.direction) == ("Ava", AgentDirection.outbound)
        assert "Renamed" not in (await frozen.client.get("/console/agents")).text

    async def test_an_endpoint_stays_disabled_when_enabling_it_is_refused_after_the_backlog_was_queued(
        self, client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        arranged = await signed_in_clinic(client, runtime)
        endpoint = (await create_endpoint(runtime, arranged.clinic, "http://127.0.0.1:9/hooks")).endpoint
        path = f"/console/webhooks/{endpoint.id}"
        assert (
            await client.post(f"{path}/disable", data={"csrf_token": await console_csrf(client)})
        ).status_code == 303
        await emit_event(runtime, arranged.clinic)
        assert await run_webhook_jobs(runtime, arranged.clinic) == 0  # fanned out, not sent: the backlog
        audited_before = await audit_actions(runtime, arranged)
        refusing_after_it_writes(monkeypatch, events_service, "enable_endpoint")

        response = await client.post(
            f"{path}/enable", data={"replay_backlog": "on", "csrf_token": await console_csrf(client)}
        )

        assert response.status_code == 409
        assert STAND_IN_REFUSAL in response.text
        async with runtime.sessions() as session:
            found = await events_service.get_endpoint(
                session, clinic_id=arranged.clinic.id, endpoint_id=endpoint.id
            )
            assert (found.enabled, found.disabled_reason) == (False, "disabled by a user")
            assert (await events_service.pending_counts(session, [found])).get(found.id, 0) == 0
        assert await audit_actions(runtime, arranged) == audited_before

    async def test_a_qualiphy_key_keeps_working_when_its_rotation_is_refused_after_it_was_revoked(
        self, client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        arranged = await signed_in_clinic(client, runtime)
        current = await create_key(runtime, arranged.clinic, ApiKeyKind.qualiphy)
        token = await console_csrf(client)
        refusing_after_it_writes(monkeypatch, tenancy_service, "create_key")

        response = await client.post("/console/keys", data={"kind": "qualiphy", "csrf_token": token})

        assert response.status_code == 409
        assert STAND_IN_REFUSAL in response.text
        assert 'data-testid="new-key-secret"' not in response.text
        async with runtime.sessions() as session:
            keys = await tenancy_service.list_keys(session, clinic_id=arranged.clinic.id)
            assert [(key.kind, key.revoked_at) for key in keys] == [(ApiKeyKind.qualiphy, None)]
        assert f'data-testid="reveal-qualiphy">{current}<' in (await client.get("/console/keys")).text


async def weekly_hours_of(frozen: FrozenApp, arranged: ClinicFixture, practitioner_id: Any) -> WorkingHours:
    async with frozen.runtime.sessions() as session:
        return await hours_service.working_hours_of(
            session,
            clinic_id=arranged.clinic.id,
            practitioner_id=practitioner_id,
            first_day=MONDAY,
            last_day=MONDAY,
        )


async def audit_actions(runtime: Runtime, arranged: ClinicFixture) -> list[str]:
    async with runtime.sessions() as session:
        entries = await audit_service.recent_entries(session, clinic_id=arranged.clinic.id, limit=100)
    return [entry.action for entry in entries]


class TestFieldsThatDoNotRead:
    async def test_a_cancel_reason_longer_than_the_column_is_refused_and_the_appointment_kept(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen.client, frozen.runtime)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        appointment = await book(frozen, arranged.clinic, practitioner, utc(MONDAY, 11))
        response = await frozen.client.post(
            f"/console/calendar/appointments/{appointment.id}/cancel",
            data={"reason": "x" * 501, "csrf_token": await page_csrf(frozen.client, "/console/calendar")},
        )
        assert response.status_code == 400
        assert "reason: at most 500 characters" in response.text
        async with frozen.runtime.sessions() as session:
            kept = await booking_service.get_appointment(
                session, clinic_id=arranged.clinic.id, appointment_id=appointment.id
            )
            assert kept.status == AppointmentStatus.confirmed

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"day": "9999-12-31", "start": "23:00", "length": "30"}, "date: enter a date between the years"),
            ({"day": "2031-03-04", "start": "25:00", "length": "30"}, "time: enter a time as HH:MM"),
            (
                {"day": "2031-03-04", "start": "10:00", "length": "9" * 30},
                "ends_at: an appointment lasts at most",
            ),
            ({"day": "2031-03-04", "start": "10:00", "length": "half"}, "length: enter a whole number"),
            (
                {"day": "2031-03-04", "start": "10:00", "length": "30", "title": "t" * 301},
                "title: at most 300 characters",
            ),
            (
                {"day": "2031-03-04", "start": "10:00", "length": "30", "practitioner_id": "dr-who"},
                "practitioner: unknown choice",
            ),
        ],
    )
    async def test_a_booking_that_does_not_read_is_the_calendar_again_naming_the_field(
        self, frozen: FrozenApp, data: dict[str, str], message: str
    ) -> None:
        arranged = await signed_in_clinic(frozen.client, frozen.runtime)
        await create_practitioner(frozen.runtime, arranged.clinic)
        token = await page_csrf(frozen.client, "/console/calendar")
        response = await frozen.client.post(
            "/console/calendar/appointments", data={"title": "Consult", **data, "csrf_token": token}
        )
        assert response.status_code == 400
        assert message in response.text
        async with frozen.runtime.sessions() as session:
            assert await booking_service.list_appointments(session, clinic_id=arranged.clinic.id) == []

    async def test_hours_too_long_to_read_are_refused_naming_the_day(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen.client, frozen.runtime)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        path = f"/console/practitioners/{practitioner.id}"
        response = await frozen.client.post(
            f"{path}/hours",
            data={"day0": "09:00-10:00, " * 100, "csrf_token": await page_csrf(frozen.client, path)},
        )
        assert response.status_code == 400
        assert "Monday: at most 200 characters" in response.text
        assert (await weekly_hours_of(frozen, arranged, practitioner.id)).weekly[0] == NINE_TO_FIVE

    async def test_an_agent_name_longer_than_the_column_is_refused(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen.client, frozen.runtime)
        response = await frozen.client.post(
            "/console/agents",
            data={
                "name": "A" * 201,
                "direction": "outbound",
                "csrf_token": await page_csrf(frozen.client, "/console/agents"),
            },
        )
        assert response.status_code == 400
        assert "name: at most 200 characters" in response.text
        async with frozen.runtime.sessions() as session:
            assert await crm_service.list_agents(session, clinic_id=arranged.clinic.id) == []

    async def test_a_callback_time_left_in_the_field_of_another_outcome_is_ignored(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen.client, frozen.runtime)
        async with frozen.runtime.sessions() as session, session.begin():
            campaign = await crm_service.create_campaign(
                session, clinic_id=arranged.clinic.id, name="Spring", clock=frozen.clock
            )
            contact = await crm_service.add_contact(
                session,
                clinic_id=arranged.clinic.id,
                campaign_id=campaign.id,
                name="Sam Lee",
                phone="+16502530000",
                interest="Botox",
                city="Austin",
                clock=frozen.clock,
            )
        path = f"/console/campaigns/{campaign.id}/contacts/{contact.id}"
        response = await frozen.client.post(
            f"{path}/attempts",
            data={
                "outcome": "no_answer",
                "callback_at": "not a time",
                "csrf_token": await page_csrf(frozen.client, path),
            },
        )
        assert response.status_code == 303
        async with frozen.runtime.sessions() as session:
            saved = await crm_service.get_contact(
                session, clinic_id=arranged.clinic.id, contact_id=contact.id
            )
            assert (saved.attempts, saved.callback_at) == (1, None)

    async def test_a_date_outside_the_years_a_page_reads_is_refused_not_a_server_error(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen.client, frozen.runtime)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic)
        path = f"/console/practitioners/{practitioner.id}"
        response = await frozen.client.post(
            f"{path}/overrides/clear",
            data={"day": "0001-01-01", "csrf_token": await page_csrf(frozen.client, path)},
        )
        assert response.status_code == 400
        assert "date: enter a date between the years 1900 and 2199" in response.text
        assert (await weekly_hours_of(frozen, arranged, practitioner.id)).overrides == {}

    async def test_a_replay_window_the_core_refuses_keeps_the_times_typed(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await signed_in_clinic(client, runtime)
        endpoint = (await create_endpoint(runtime, arranged.clinic, "http://127.0.0.1:9/hooks")).endpoint
        response = await client.post(
            f"/console/webhooks/{endpoint.id}/replay",
            data={
                "since": "2031-03-03T10:00",
                "until": "2031-03-03T09:00",
                "csrf_token": await console_csrf(client),
            },
        )
        assert response.status_code == 400
        assert "since: must be before until" in response.text
        assert 'name="since" required value="2031-03-03T10:00"' in response.text
        assert 'name="until" value="2031-03-03T09:00"' in response.text
