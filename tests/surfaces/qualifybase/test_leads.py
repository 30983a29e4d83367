from __future__ import annotations

import asyncio

from clinicore.core.models import AgentDirection
from tests.factories import create_agent
from tests.surfaces.qualifybase.conftest import QualifyBaseClinic

DOC_EXAMPLE = {
    "full_name": "Alex Smith",
    "phone": "+14155551212",
    "email": "alex@example.com",
    "treatment_interest": "implants",
    "country": "US",
    "city": "San Francisco",
    "source": "paid_ads",
    "external_source": "make_facebook_lead_ads",
    "external_id": "fb_lead_987654321",
}


class TestCreateLead:
    async def test_the_docs_example_creates_a_lead_and_echoes_the_row(self, qb: QualifyBaseClinic) -> None:
        agent = await create_agent(qb.runtime, qb.arranged.clinic)
        response = await qb.client.post("/leads", json=DOC_EXAMPLE | {"agent_id": str(agent.id)})
        assert response.status_code == 201
        body = response.json()
        assert body["agent_id"] == str(agent.id)
        assert {key: body[key] for key in DOC_EXAMPLE} == DOC_EXAMPLE
        assert body["created_at"].endswith("Z")

    async def test_the_same_external_ids_update_the_lead_with_200(self, qb: QualifyBaseClinic) -> None:
        created = (await qb.client.post("/leads", json=DOC_EXAMPLE)).json()
        updated = await qb.client.post(
            "/leads", json=DOC_EXAMPLE | {"city": "Oakland", "notes": "called back"}
        )
        assert updated.status_code == 200
        assert updated.json()["id"] == created["id"]
        assert updated.json()["city"] == "Oakland"
        assert updated.json()["email"] == "alex@example.com"  # untouched fields stay
        listed = (await qb.client.get("/leads")).json()["leads"]
        assert [lead["id"] for lead in listed] == [created["id"]]

    async def test_parallel_identical_upserts_make_one_lead(self, qb: QualifyBaseClinic) -> None:
        payload = DOC_EXAMPLE | {"external_id": "race-1"}
        responses = await asyncio.gather(*(qb.client.post("/leads", json=payload) for _ in range(8)))
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] * 7 + [201]
        assert len({response.json()["id"] for response in responses}) == 1

    async def test_phone_is_stored_in_e164(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.post("/leads", json={"phone": "(415) 555-1212", "country": "US"})
        assert response.status_code == 201
        assert response.json()["phone"] == "+14155551212"

    async def test_without_external_ids_every_call_creates(self, qb: QualifyBaseClinic) -> None:
        first = await qb.client.post("/leads", json={"email": "same@example.com"})
        second = await qb.client.post("/leads", json={"email": "same@example.com"})
        assert first.status_code == second.status_code == 201
        assert first.json()["id"] != second.json()["id"]


class TestLeadValidation:
    async def test_phone_or_email_is_required(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.post("/leads", json={"full_name": "Nobody"})
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_input",
            "message": "phone or email: at least one is required",
        }

    async def test_bad_values_name_the_field(self, qb: QualifyBaseClinic) -> None:
        cases = {
            "phone": {"phone": "12"},
            "email": {"email": "not-an-email"},
            "source": {"email": "a@example.com", "source": "billboard"},
            "external_metadata": {"email": "a@example.com", "external_metadata": {"blob": "x" * 5000}},
            "external_id": {"email": "a@example.com", "external_source": "crm"},
            "country": {"email": "a@example.com", "country": "ZZ"},
        }
        for field, body in cases.items():
            response = await qb.client.post("/leads", json=body)
            assert response.status_code == 400, field
            assert response.json()["error"] == "invalid_input"
            assert response.json()["message"].startswith(field), (field, response.json())

    async def test_external_metadata_must_be_an_object(self, qb: QualifyBaseClinic) -> None:
        response = await qb.client.post(
            "/leads", json={"email": "a@example.com", "external_metadata": [1, 2]}
        )
        assert response.status_code == 400

    async def test_inbound_unknown_and_foreign_agents_are_refused(
        self, qb: QualifyBaseClinic, other_qb: QualifyBaseClinic
    ) -> None:
        inbound = await create_agent(qb.runtime, qb.arranged.clinic, direction=AgentDirection.inbound)
        foreign = await create_agent(other_qb.runtime, other_qb.arranged.clinic)
        for agent_id in (str(inbound.id), str(foreign.id), "00000000-0000-4000-8000-000000000000"):
            response = await qb.client.post("/leads", json={"email": "a@example.com", "agent_id": agent_id})
            assert response.status_code == 400
            assert response.json()["message"].startswith("agent_id:")


class TestListLeads:
    async def test_filters_and_paging(self, qb: QualifyBaseClinic) -> None:
        agent = await create_agent(qb.runtime, qb.arranged.clinic)
        for number in range(3):
            await qb.client.post("/leads", json={"email": f"web{number}@example.com", "source": "website"})
        await qb.client.post(
            "/leads", json={"email": "ig@example.com", "source": "instagram", "agent_id": str(agent.id)}
        )

        by_source = (await qb.client.get("/leads?source=website")).json()
        assert len(by_source["leads"]) == 3
        by_agent = (await qb.client.get(f"/leads?agent_id={agent.id}")).json()
        assert [lead["email"] for lead in by_agent["leads"]] == ["ig@example.com"]
        page = (await qb.client.get("/leads?limit=2")).json()
        assert len(page["leads"]) == 2 and page["has_more"] is True
        rest = (await qb.client.get("/leads?limit=2&offset=2")).json()
        assert len(rest["leads"]) == 2 and rest["has_more"] is False
        assert (await qb.client.get("/leads?updated_since=2100-01-01")).json()["leads"] == []
        assert (await qb.client.get("/leads?updated_since=yesterday")).status_code == 400
        assert (await qb.client.get("/leads?limit=101")).status_code == 400

    async def test_another_clinics_leads_are_invisible(
        self, qb: QualifyBaseClinic, other_qb: QualifyBaseClinic
    ) -> None:
        await other_qb.client.post("/leads", json={"email": "theirs@example.com"})
        assert (await qb.client.get("/leads")).json()["leads"] == []


class TestAgents:
    async def test_agents_filter_by_direction(self, qb: QualifyBaseClinic) -> None:
        outbound = await create_agent(qb.runtime, qb.arranged.clinic, name="Olivia")
        inbound = await create_agent(
            qb.runtime, qb.arranged.clinic, direction=AgentDirection.inbound, name="Ian"
        )
        everyone = (await qb.client.get("/agents")).json()["agents"]
        assert {agent["id"] for agent in everyone} == {str(outbound.id), str(inbound.id)}
        only_outbound = (await qb.client.get("/agents?direction=outbound")).json()["agents"]
        assert [agent["id"] for agent in only_outbound] == [str(outbound.id)]
        assert set(only_outbound[0]) == {"id", "name", "direction", "phone_number", "active", "created_at"}
        assert (await qb.client.get("/agents?direction=sideways")).status_code == 400
