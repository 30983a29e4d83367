from __future__ import annotations

from clinicore.core.models import ApiKeyKind
from tests.factories import create_agent, create_campaign, create_key
from tests.surfaces.qualifybase.conftest import QualifyBaseClinic

DOC_CONTACT = {
    "name": "Alex Smith",
    "phone": "+14155551212",
    "interest": "implants",
    "city": "San Francisco",
    "country": "US",
    "email": "alex@example.com",
}


class TestCampaigns:
    async def test_campaigns_list_with_their_contact_totals(self, qb: QualifyBaseClinic) -> None:
        agent = await create_agent(qb.runtime, qb.arranged.clinic)
        campaign = await create_campaign(qb.runtime, qb.arranged.clinic, target_country="US")
        await qb.client.post(f"/campaigns/{campaign.id}/contacts", json=DOC_CONTACT)
        listed = (await qb.client.get("/campaigns")).json()["campaigns"]
        assert len(listed) == 1
        assert set(listed[0]) == {
            "id",
            "name",
            "status",
            "agent_id",
            "target_country",
            "total_contacts",
            "created_at",
        }
        assert listed[0]["total_contacts"] == 1 and listed[0]["status"] == "active"
        assert listed[0]["target_country"] == "US"
        assert agent.id  # an agent exists but the campaign has none assigned
        assert listed[0]["agent_id"] is None

    async def test_adding_a_contact_returns_validation_status_attempts_and_timestamps(
        self, qb: QualifyBaseClinic
    ) -> None:
        campaign = await create_campaign(qb.runtime, qb.arranged.clinic, target_country="US")
        response = await qb.client.post(f"/campaigns/{campaign.id}/contacts", json=DOC_CONTACT)
        assert response.status_code == 201
        body = response.json()
        assert body["validation_status"] == "valid" and body["attempts"] == 0 and body["status"] == "pending"
        assert body["created_at"].endswith("Z") and body["campaign_id"] == str(campaign.id)
        duplicate = await qb.client.post(f"/campaigns/{campaign.id}/contacts", json=DOC_CONTACT)
        assert duplicate.json()["validation_status"] == "duplicate"
        abroad = await qb.client.post(
            f"/campaigns/{campaign.id}/contacts",
            json=DOC_CONTACT | {"phone": "+442079460958", "country": "GB"},
        )
        assert abroad.json()["validation_status"] == "country_mismatch"

    async def test_required_fields_and_bad_phone(self, qb: QualifyBaseClinic) -> None:
        campaign = await create_campaign(qb.runtime, qb.arranged.clinic)
        for missing in ("name", "phone", "interest", "city"):
            body = {key: value for key, value in DOC_CONTACT.items() if key != missing}
            response = await qb.client.post(f"/campaigns/{campaign.id}/contacts", json=body)
            assert response.status_code == 400 and response.json()["message"].startswith(missing), missing
        bad = await qb.client.post(f"/campaigns/{campaign.id}/contacts", json=DOC_CONTACT | {"phone": "555"})
        assert bad.status_code == 400 and bad.json()["message"].startswith("phone")

    async def test_another_clinics_campaign_is_not_found(
        self, qb: QualifyBaseClinic, other_qb: QualifyBaseClinic
    ) -> None:
        theirs = await create_campaign(other_qb.runtime, other_qb.arranged.clinic)
        response = await qb.client.post(f"/campaigns/{theirs.id}/contacts", json=DOC_CONTACT)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": "campaign not found"}


class TestOutcomes:
    async def test_a_dialer_records_outcomes_and_contacts_filter_by_status(
        self, qb: QualifyBaseClinic
    ) -> None:
        campaign = await create_campaign(qb.runtime, qb.arranged.clinic, max_attempts=2)
        dialer = await create_key(qb.runtime, qb.arranged.clinic, ApiKeyKind.native, name="dialer")
        native = {"Authorization": f"Bearer {dialer}"}
        ids = []
        for number in range(3):
            body = DOC_CONTACT | {"phone": f"+1415555121{number}"}
            ids.append((await qb.client.post(f"/campaigns/{campaign.id}/contacts", json=body)).json()["id"])

        async def attempt(contact_id: str, **body: object) -> dict[str, object]:
            response = await qb.client.post(
                f"http://testserver/api/campaign-contacts/{contact_id}/attempts", json=body, headers=native
            )
            assert response.status_code == 201, response.json()
            return response.json()

        assert (await attempt(ids[0], outcome="qualified"))["status"] == "qualified"
        assert (await attempt(ids[1], outcome="no_answer"))["status"] == "pending"
        exhausted = await attempt(ids[1], outcome="no_answer")
        assert exhausted["status"] == "exhausted" and exhausted["attempts"] == 2
        callback = await attempt(ids[2], outcome="callback_requested", callback_at="2031-03-04T15:00:00Z")
        assert callback["status"] == "callback_requested"

        qualified = (await qb.client.get("/campaigns/contacts?status=qualified")).json()["contacts"]
        assert [contact["id"] for contact in qualified] == [ids[0]]
        assert len((await qb.client.get("/campaigns/contacts")).json()["contacts"]) == 3

        after_the_end = await qb.client.post(
            f"http://testserver/api/campaign-contacts/{ids[0]}/attempts",
            json={"outcome": "no_answer"},
            headers=native,
        )
        assert after_the_end.status_code == 409
        no_time = await qb.client.post(
            f"http://testserver/api/campaign-contacts/{ids[2]}/attempts",
            json={"outcome": "callback_requested"},
            headers=native,
        )
        assert no_time.status_code == 400 and no_time.json()["message"].startswith("callback_at")
