"""The console's CRM pages through HTTP, as a signed-in clinic user: leads, agents, campaigns, contacts and
the call attempts staff record on them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from clinicore.core.crm import service as crm_service
from clinicore.core.crm.schemas import LeadInput
from clinicore.core.models import (
    Agent,
    AgentDirection,
    Campaign,
    CampaignContact,
    Clinic,
    ContactStatus,
    Lead,
)
from clinicore.core.scheduling import booking as booking_service
from clinicore.runtime import Runtime
from tests.factories import (
    ClinicFixture,
    create_agent,
    create_campaign,
    create_clinic,
    create_practitioner,
    set_booking_rules,
)
from tests.web.console.pages import csrf_token, page_csrf, sign_in
from tests.web.frozen_console import FrozenApp, frozen_app

# A valid US number in E.164 and as people type it.
PHONE = "+16502530000"
PHONE_TYPED = "(650) 253-0000"


@pytest.fixture
async def frozen(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


async def signed_in_clinic(frozen: FrozenApp) -> ClinicFixture:
    arranged = await create_clinic(frozen.runtime, time_zone="America/New_York")
    response = await sign_in(frozen.client, arranged.email, arranged.password)
    assert response.status_code == 303
    return arranged


async def add_lead(frozen: FrozenApp, clinic: Clinic, **values: object) -> Lead:
    fields = {"full_name": "Alex Smith", "email": "alex@example.com"} | values
    async with frozen.runtime.sessions() as session, session.begin():
        lead, _ = await crm_service.upsert_lead(
            session,
            clinic_id=clinic.id,
            data=LeadInput(**fields),  # type: ignore[arg-type]
            clock=frozen.clock,
        )
    return lead


async def add_contact(frozen: FrozenApp, clinic: Clinic, campaign: Campaign) -> CampaignContact:
    async with frozen.runtime.sessions() as session, session.begin():
        return await crm_service.add_contact(
            session,
            clinic_id=clinic.id,
            campaign_id=campaign.id,
            name="Sam Lee",
            phone=PHONE,
            interest="Lip filler",
            city="Austin",
            clock=frozen.clock,
        )


async def contact_now(frozen: FrozenApp, clinic: Clinic, contact: CampaignContact) -> CampaignContact:
    async with frozen.runtime.sessions() as session:
        return await crm_service.get_contact(session, clinic_id=clinic.id, contact_id=contact.id)


def listed_leads(html: str) -> list[str]:
    return re.findall(r'<tr data-lead-id="([^"]+)">', html)


class TestLeadList:
    async def test_lists_the_clinics_leads_most_recently_updated_first(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        older = await add_lead(frozen, arranged.clinic, full_name="Olive Older", phone=PHONE)
        frozen.clock.advance(timedelta(hours=1))
        newer = await add_lead(frozen, arranged.clinic, full_name="Nina Newer")
        other = await create_clinic(frozen.runtime)
        theirs = await add_lead(frozen, other.clinic, full_name="Their Lead")

        page = await frozen.client.get("/console/leads")

        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert listed_leads(page.text) == [str(newer.id), str(older.id)]
        assert "Olive Older" in page.text and PHONE in page.text
        assert "Mon 03 Mar 2031, 09:00" in page.text  # updated_at in the clinic's time zone
        assert str(theirs.id) not in page.text and "Their Lead" not in page.text

    async def test_filters_by_source_agent_and_updated_since(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        ava = await create_agent(frozen.runtime, arranged.clinic, name="Ava")
        from_website = await add_lead(frozen, arranged.clinic, source="website", agent_id=ava.id)
        frozen.clock.advance(timedelta(days=2))
        from_instagram = await add_lead(frozen, arranged.clinic, source="instagram")
        await sign_in(frozen.client, arranged.email, arranged.password)  # the first session has expired

        by_source = await frozen.client.get("/console/leads?source=instagram")
        by_agent = await frozen.client.get(f"/console/leads?agent={ava.id}")
        recent = await frozen.client.get("/console/leads?updated_since=2031-03-05")
        none_yet = await frozen.client.get("/console/leads?updated_since=2031-03-06")

        assert listed_leads(by_source.text) == [str(from_instagram.id)]
        assert listed_leads(by_agent.text) == [str(from_website.id)]
        assert listed_leads(recent.text) == [str(from_instagram.id)]
        assert listed_leads(none_yet.text) == []
        assert "No leads match these filters." in none_yet.text
        assert '<option value="instagram" selected>' in by_source.text

    async def test_a_filter_that_makes_no_sense_is_a_clear_error(self, frozen: FrozenApp) -> None:
        await signed_in_clinic(frozen)
        for query, message in (
            ("source=billboard", "source: choose one of the listed sources"),
            ("agent=not-an-id", "agent: unknown choice"),
            ("updated_since=yesterday", "updated_since: enter a date as YYYY-MM-DD"),
        ):
            response = await frozen.client.get(f"/console/leads?{query}")
            assert response.status_code == 400, query
            assert message in response.text

    async def test_a_long_list_pages_by_fifty(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        for number in range(51):
            frozen.clock.advance(timedelta(minutes=1))
            await add_lead(frozen, arranged.clinic, full_name=f"Lead {number}")
        first = await frozen.client.get("/console/leads")
        assert len(listed_leads(first.text)) == 50
        assert 'href="?page=2" rel="next"' in first.text
        second = await frozen.client.get("/console/leads?page=2")
        assert len(listed_leads(second.text)) == 1
        assert "Lead 0<" in second.text
        assert 'rel="next"' not in second.text
        for wild in ("9" * 40, "²", "-3", "0"):  # never an offset the database cannot take
            response = await frozen.client.get(f"/console/leads?page={wild}")
            assert response.status_code == 200, wild


class TestLeadDetail:
    async def test_shows_the_lead_and_its_agent(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        ava = await create_agent(frozen.runtime, arranged.clinic, name="Ava Outbound")
        lead = await add_lead(
            frozen,
            arranged.clinic,
            full_name="Dana Diaz",
            phone=PHONE_TYPED,
            city="Austin",
            country="US",
            treatment_interest="Botox",
            source="paid_ads",
            agent_id=ava.id,
            external_metadata={"utm_campaign": "spring"},
        )
        page = await frozen.client.get(f"/console/leads/{lead.id}")
        assert page.status_code == 200
        for shown in (
            "Dana Diaz",
            PHONE,
            "Austin (US)",
            "Botox",
            "paid ads",
            "Ava Outbound (outbound)",
            "spring",
        ):
            assert shown in page.text
        assert "No appointments yet." in page.text

    async def test_another_clinics_lead_is_not_found(self, frozen: FrozenApp) -> None:
        await signed_in_clinic(frozen)
        other = await create_clinic(frozen.runtime)
        theirs = await add_lead(frozen, other.clinic, full_name="Their Lead")
        response = await frozen.client.get(f"/console/leads/{theirs.id}")
        assert response.status_code == 404
        assert "Their Lead" not in response.text

    async def test_booking_from_the_lead_page_links_the_appointment_to_the_lead(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen)
        await set_booking_rules(frozen.runtime, arranged.clinic)
        practitioner = await create_practitioner(frozen.runtime, arranged.clinic, name="Dr. Rivera")
        lead = await add_lead(frozen, arranged.clinic)
        path = f"/console/leads/{lead.id}"
        response = await frozen.client.post(
            f"{path}/appointments",
            data={
                "practitioner_id": "",
                "day": "2031-03-04",
                "start": "11:00",
                "length": "30",
                "title": "First consult",
                "csrf_token": await page_csrf(frozen.client, path),
            },
        )
        assert response.status_code == 303
        async with frozen.runtime.sessions() as session:
            [appointment] = await booking_service.list_appointments(
                session, clinic_id=arranged.clinic.id, lead_id=lead.id
            )
        assert appointment.starts_at == datetime(2031, 3, 4, 16, 0, tzinfo=UTC)
        assert appointment.practitioner_id == practitioner.id
        page = await frozen.client.get(path)
        assert f'data-appointment-id="{appointment.id}"' in page.text
        assert "Tue 04 Mar 2031, 11:00–11:30" in page.text and "Dr. Rivera" in page.text

    async def test_a_booking_against_the_rules_keeps_the_lead_page_with_the_reason(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen)
        await set_booking_rules(frozen.runtime, arranged.clinic, minimum_notice_minutes=24 * 60)
        await create_practitioner(frozen.runtime, arranged.clinic)
        lead = await add_lead(frozen, arranged.clinic, full_name="Dana Diaz")
        path = f"/console/leads/{lead.id}"
        response = await frozen.client.post(
            f"{path}/appointments",
            data={
                "day": "2031-03-03",
                "start": "10:00",
                "length": "30",
                "title": "Too soon",
                "csrf_token": await page_csrf(frozen.client, path),
            },
        )
        assert response.status_code == 400
        assert "minimum notice" in response.text and "Dana Diaz" in response.text

    async def test_another_clinics_lead_cannot_be_booked(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        await set_booking_rules(frozen.runtime, arranged.clinic)
        await create_practitioner(frozen.runtime, arranged.clinic)
        other = await create_clinic(frozen.runtime)
        theirs = await add_lead(frozen, other.clinic)
        response = await frozen.client.post(
            f"/console/leads/{theirs.id}/appointments",
            data={
                "day": "2031-03-04",
                "start": "11:00",
                "length": "30",
                "title": "Consult",
                "csrf_token": await page_csrf(frozen.client, "/console/leads"),
            },
        )
        assert response.status_code == 404
        async with frozen.runtime.sessions() as session:
            assert await booking_service.list_appointments(session, clinic_id=arranged.clinic.id) == []


async def agent_now(frozen: FrozenApp, clinic: Clinic, agent: Agent) -> Agent:
    async with frozen.runtime.sessions() as session:
        return await crm_service.get_agent(session, clinic_id=clinic.id, agent_id=agent.id)


class TestAgents:
    async def test_an_agent_is_added_with_its_number_in_e164(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        response = await frozen.client.post(
            "/console/agents",
            data={
                "name": "Front desk line",
                "direction": "inbound",
                "phone_number": PHONE_TYPED,
                "csrf_token": await page_csrf(frozen.client, "/console/agents"),
            },
        )
        assert response.status_code == 303
        async with frozen.runtime.sessions() as session:
            [agent] = await crm_service.list_agents(session, clinic_id=arranged.clinic.id)
        assert (agent.name, agent.direction, agent.phone_number, agent.is_active) == (
            "Front desk line",
            AgentDirection.inbound,
            PHONE,
            True,
        )
        page = await frozen.client.get("/console/agents")
        assert f'value="{PHONE}"' in page.text

    async def test_a_number_that_is_not_a_phone_number_is_refused(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        response = await frozen.client.post(
            "/console/agents",
            data={
                "name": "Ava",
                "direction": "outbound",
                "phone_number": "12345",
                "csrf_token": await page_csrf(frozen.client, "/console/agents"),
            },
        )
        assert response.status_code == 400
        assert "phone_number: not a valid phone number" in response.text
        async with frozen.runtime.sessions() as session:
            assert await crm_service.list_agents(session, clinic_id=arranged.clinic.id) == []

    async def test_editing_renames_redirects_and_deactivates(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        agent = await create_agent(frozen.runtime, arranged.clinic, name="Ava")
        response = await frozen.client.post(
            f"/console/agents/{agent.id}",
            data={
                "name": "Ava (night)",
                "direction": "inbound",
                "phone_number": "",
                "csrf_token": await page_csrf(frozen.client, "/console/agents"),
            },
        )
        assert response.status_code == 303
        saved = await agent_now(frozen, arranged.clinic, agent)
        assert (saved.name, saved.direction, saved.is_active) == ("Ava (night)", "inbound", False)

    async def test_the_agent_form_needs_the_pages_token(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        response = await frozen.client.post(
            "/console/agents", data={"name": "Ava", "direction": "outbound", "csrf_token": "forged"}
        )
        assert response.status_code == 403
        async with frozen.runtime.sessions() as session:
            assert await crm_service.list_agents(session, clinic_id=arranged.clinic.id) == []

    async def test_another_clinics_agent_cannot_be_edited(self, frozen: FrozenApp) -> None:
        await signed_in_clinic(frozen)
        other = await create_clinic(frozen.runtime)
        theirs = await create_agent(frozen.runtime, other.clinic, name="Their agent")
        response = await frozen.client.post(
            f"/console/agents/{theirs.id}",
            data={
                "name": "Hijacked",
                "direction": "outbound",
                "active": "1",
                "csrf_token": await page_csrf(frozen.client, "/console/agents"),
            },
        )
        assert response.status_code == 404
        assert (await agent_now(frozen, other.clinic, theirs)).name == "Their agent"
        assert "Their agent" not in (await frozen.client.get("/console/agents")).text


class TestCampaigns:
    async def test_a_new_campaign_opens_its_page_and_counts_its_contacts_in_the_list(
        self, frozen: FrozenApp
    ) -> None:
        arranged = await signed_in_clinic(frozen)
        ava = await create_agent(frozen.runtime, arranged.clinic, name="Ava")
        response = await frozen.client.post(
            "/console/campaigns",
            data={
                "name": "Spring fillers",
                "agent_id": str(ava.id),
                "target_country": "us",
                "max_attempts": "2",
                "status": "active",
                "csrf_token": await page_csrf(frozen.client, "/console/campaigns"),
            },
        )
        assert response.status_code == 303
        async with frozen.runtime.sessions() as session:
            [(campaign, _)] = await crm_service.list_campaigns(session, clinic_id=arranged.clinic.id)
        assert response.headers["location"] == f"/console/campaigns/{campaign.id}"
        assert (campaign.name, campaign.agent_id, campaign.target_country, campaign.max_attempts) == (
            "Spring fillers",
            ava.id,
            "US",
            2,
        )
        detail = await frozen.client.get(response.headers["location"])
        assert "Spring fillers" in detail.text and "No contacts." in detail.text
        await add_contact(frozen, arranged.clinic, campaign)
        listing = await frozen.client.get("/console/campaigns")
        assert re.search(
            rf'data-campaign-id="{campaign.id}">.*?data-testid="total-contacts">1<', listing.text, re.S
        )

    async def test_an_inbound_agent_cannot_run_a_campaign(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        inbound = await create_agent(frozen.runtime, arranged.clinic, direction=AgentDirection.inbound)
        response = await frozen.client.post(
            "/console/campaigns",
            data={
                "name": "Wrong agent",
                "agent_id": str(inbound.id),
                "max_attempts": "3",
                "csrf_token": await page_csrf(frozen.client, "/console/campaigns"),
            },
        )
        assert response.status_code == 400
        assert "agent_id: must be one of the clinic&#39;s outbound agents" in response.text

    async def test_pausing_a_campaign(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        campaign = await create_campaign(frozen.runtime, arranged.clinic)
        path = f"/console/campaigns/{campaign.id}"
        response = await frozen.client.post(
            f"{path}/status", data={"status": "paused", "csrf_token": await page_csrf(frozen.client, path)}
        )
        assert response.status_code == 303
        assert 'data-testid="campaign-status">paused<' in (await frozen.client.get(path)).text

    async def test_a_completed_campaign_cannot_be_reopened(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        campaign = await create_campaign(frozen.runtime, arranged.clinic)
        path = f"/console/campaigns/{campaign.id}"
        token = await page_csrf(frozen.client, path)
        completed = await frozen.client.post(
            f"{path}/status", data={"status": "completed", "csrf_token": token}
        )
        assert completed.status_code == 303
        reopened = await frozen.client.post(f"{path}/status", data={"status": "active", "csrf_token": token})
        assert reopened.status_code == 400
        assert "status: cannot change from completed to active" in reopened.text
        assert 'data-testid="campaign-status">completed<' in (await frozen.client.get(path)).text

    async def test_another_clinics_campaign_is_not_found(self, frozen: FrozenApp) -> None:
        await signed_in_clinic(frozen)
        other = await create_clinic(frozen.runtime)
        theirs = await create_campaign(frozen.runtime, other.clinic, name="Their campaign")
        token = await page_csrf(frozen.client, "/console/campaigns")
        assert (await frozen.client.get(f"/console/campaigns/{theirs.id}")).status_code == 404
        added = await frozen.client.post(
            f"/console/campaigns/{theirs.id}/contacts",
            data={"name": "Sam", "phone": PHONE, "interest": "Botox", "city": "Austin", "csrf_token": token},
        )
        assert added.status_code == 404
        paused = await frozen.client.post(
            f"/console/campaigns/{theirs.id}/status", data={"status": "paused", "csrf_token": token}
        )
        assert paused.status_code == 404
        async with frozen.runtime.sessions() as session:
            assert await crm_service.list_contacts(session, clinic_id=other.clinic.id) == []
            assert (
                await crm_service.get_campaign(session, clinic_id=other.clinic.id, campaign_id=theirs.id)
            ).status == ("active")
        assert "Their campaign" not in (await frozen.client.get("/console/campaigns")).text


class TestContacts:
    async def test_adding_a_contact_validates_and_normalises_it(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        campaign = await create_campaign(frozen.runtime, arranged.clinic, target_country="US")
        path = f"/console/campaigns/{campaign.id}"
        contact = {"name": "Sam Lee", "phone": PHONE_TYPED, "interest": "Lip filler", "city": "Austin"}
        first = await frozen.client.post(
            f"{path}/contacts", data=contact | {"csrf_token": await page_csrf(frozen.client, path)}
        )
        assert first.status_code == 303
        second = await frozen.client.post(
            f"{path}/contacts", data=contact | {"csrf_token": await page_csrf(frozen.client, path)}
        )
        assert second.status_code == 303
        async with frozen.runtime.sessions() as session:
            contacts = await crm_service.list_contacts(
                session, clinic_id=arranged.clinic.id, campaign_id=campaign.id
            )
        assert sorted((c.phone, c.validation_status) for c in contacts) == [
            (PHONE, "duplicate"),
            (PHONE, "valid"),
        ]
        assert first.headers["location"] in {f"{path}/contacts/{c.id}" for c in contacts}
        listing = await frozen.client.get(path)
        assert listing.text.count(f"<td>{PHONE}</td>") == 2

    async def test_a_contact_without_a_valid_phone_is_refused(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        campaign = await create_campaign(frozen.runtime, arranged.clinic)
        path = f"/console/campaigns/{campaign.id}"
        response = await frozen.client.post(
            f"{path}/contacts",
            data={
                "name": "Sam Lee",
                "phone": "not a phone",
                "interest": "Lip filler",
                "city": "Austin",
                "csrf_token": await page_csrf(frozen.client, path),
            },
        )
        assert response.status_code == 400
        assert "phone: not a phone number" in response.text
        assert 'value="Sam Lee"' in response.text
        async with frozen.runtime.sessions() as session:
            assert await crm_service.list_contacts(session, clinic_id=arranged.clinic.id) == []

    async def test_a_contact_is_only_found_under_its_own_campaign(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        campaign = await create_campaign(frozen.runtime, arranged.clinic, name="A")
        elsewhere = await create_campaign(frozen.runtime, arranged.clinic, name="B")
        contact = await add_contact(frozen, arranged.clinic, campaign)
        assert (
            await frozen.client.get(f"/console/campaigns/{campaign.id}/contacts/{contact.id}")
        ).status_code == 200
        wrong = await frozen.client.get(f"/console/campaigns/{elsewhere.id}/contacts/{contact.id}")
        assert wrong.status_code == 404


class TestRecordAttempts:
    async def test_outcomes_move_the_contact_until_it_is_exhausted(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        campaign = await create_campaign(frozen.runtime, arranged.clinic, max_attempts=3)
        contact = await add_contact(frozen, arranged.clinic, campaign)
        path = f"/console/campaigns/{campaign.id}/contacts/{contact.id}"

        async def record(outcome: str, **extra: str) -> httpx.Response:
            token = await page_csrf(frozen.client, path)
            return await frozen.client.post(
                f"{path}/attempts", data={"outcome": outcome, "csrf_token": token} | extra
            )

        assert (await record("no_answer")).status_code == 303
        assert (await contact_now(frozen, arranged.clinic, contact)).status == ContactStatus.pending
        # Entered in the clinic's time: 15:30 in New York on 5 March is 20:30 UTC.
        called_back = await record("callback_requested", callback_at="2031-03-05T15:30", notes="after work")
        assert called_back.status_code == 303
        saved = await contact_now(frozen, arranged.clinic, contact)
        assert (saved.status, saved.callback_at) == (
            ContactStatus.callback_requested,
            datetime(2031, 3, 5, 20, 30, tzinfo=UTC),
        )
        page = await frozen.client.get(path)
        assert 'data-testid="callback-at">Wed 05 Mar 2031, 15:30<' in page.text
        assert "after work" in page.text and "Staff (console)" in page.text

        assert (await record("no_answer")).status_code == 303
        exhausted = await frozen.client.get(path)
        assert 'data-testid="contact-status">exhausted<' in exhausted.text
        assert 'data-testid="attempts">3 of 3<' in exhausted.text
        assert "no more attempts are recorded" in exhausted.text

        refused = await frozen.client.post(
            f"{path}/attempts", data={"outcome": "qualified", "csrf_token": csrf_token(exhausted.text)}
        )
        assert refused.status_code == 409
        async with frozen.runtime.sessions() as session:
            attempts = await crm_service.list_attempts(
                session, clinic_id=arranged.clinic.id, contact_id=contact.id
            )
        assert [a.outcome for a in attempts] == ["no_answer", "callback_requested", "no_answer"]
        assert {a.recorded_by for a in attempts} == {f"user:{arranged.user.id}"}

    async def test_a_qualified_call_finishes_the_contact(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        campaign = await create_campaign(frozen.runtime, arranged.clinic)
        contact = await add_contact(frozen, arranged.clinic, campaign)
        path = f"/console/campaigns/{campaign.id}/contacts/{contact.id}"
        response = await frozen.client.post(
            f"{path}/attempts",
            data={"outcome": "qualified", "csrf_token": await page_csrf(frozen.client, path)},
        )
        assert response.status_code == 303
        assert (await contact_now(frozen, arranged.clinic, contact)).status == ContactStatus.qualified
        campaign_page = await frozen.client.get(f"/console/campaigns/{campaign.id}?status=qualified")
        assert f'data-contact-id="{contact.id}"' in campaign_page.text
        pending_page = await frozen.client.get(f"/console/campaigns/{campaign.id}?status=pending")
        assert f'data-contact-id="{contact.id}"' not in pending_page.text

    async def test_a_callback_needs_a_time_in_the_future(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        campaign = await create_campaign(frozen.runtime, arranged.clinic)
        contact = await add_contact(frozen, arranged.clinic, campaign)
        path = f"/console/campaigns/{campaign.id}/contacts/{contact.id}"
        for callback_at, message in (
            ("", "callback_at: required when the outcome is callback_requested"),
            ("2031-03-03T07:00", "callback_at: must be a future time"),
            ("tomorrow", "callback_at: enter a date and time"),
        ):
            response = await frozen.client.post(
                f"{path}/attempts",
                data={
                    "outcome": "callback_requested",
                    "callback_at": callback_at,
                    "csrf_token": await page_csrf(frozen.client, path),
                },
            )
            assert response.status_code == 400, callback_at
            assert message in response.text
        assert (await contact_now(frozen, arranged.clinic, contact)).attempts == 0

    async def test_an_attempt_without_the_pages_token_is_refused(self, frozen: FrozenApp) -> None:
        arranged = await signed_in_clinic(frozen)
        campaign = await create_campaign(frozen.runtime, arranged.clinic)
        contact = await add_contact(frozen, arranged.clinic, campaign)
        response = await frozen.client.post(
            f"/console/campaigns/{campaign.id}/contacts/{contact.id}/attempts", data={"outcome": "qualified"}
        )
        assert response.status_code == 403
        assert (await contact_now(frozen, arranged.clinic, contact)).attempts == 0

    async def test_another_clinics_contact_is_not_found(self, frozen: FrozenApp) -> None:
        await signed_in_clinic(frozen)
        other = await create_clinic(frozen.runtime)
        campaign = await create_campaign(frozen.runtime, other.clinic)
        contact = await add_contact(frozen, other.clinic, campaign)
        path = f"/console/campaigns/{campaign.id}/contacts/{contact.id}"
        assert (await frozen.client.get(path)).status_code == 404
        response = await frozen.client.post(
            f"{path}/attempts",
            data={"outcome": "qualified", "csrf_token": await page_csrf(frozen.client, "/console/campaigns")},
        )
        assert response.status_code == 404
        assert (await contact_now(frozen, other.clinic, contact)).attempts == 0
