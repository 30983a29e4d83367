"""The campaign status table, move by move, and the use cases that write a campaign's status through it."""

from __future__ import annotations

import itertools

import pytest

from clinicore.core.crm import service as crm_service
from clinicore.core.crm import transitions
from clinicore.core.models import Campaign, CampaignStatus, Clinic
from clinicore.kit.errors import Conflict, InvalidInput
from clinicore.runtime import Runtime
from tests.factories import create_clinic

S = CampaignStatus

# The table as the module docstring states it, written out independently.
LEGAL = {
    (S.draft, S.active),
    (S.draft, S.completed),
    (S.active, S.paused),
    (S.active, S.completed),
    (S.paused, S.active),
    (S.paused, S.completed),
}
MOVES = [(current, new) for current, new in itertools.product(S, S) if current != new]


def move_id(move: tuple[CampaignStatus, CampaignStatus]) -> str:
    return f"{move[0]}->{move[1]}"


class TestTheTable:
    @pytest.mark.parametrize("move", MOVES, ids=move_id)
    def test_each_move_is_allowed_exactly_when_it_is_in_the_table(
        self, move: tuple[CampaignStatus, CampaignStatus]
    ) -> None:
        assert transitions.can_move(*move) is (move in LEGAL)

    @pytest.mark.parametrize("move", [move for move in MOVES if move not in LEGAL], ids=move_id)
    def test_an_illegal_move_is_invalid_input_naming_both_statuses(
        self, move: tuple[CampaignStatus, CampaignStatus]
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            transitions.require_move(*move)
        assert refused.value.message == f"status: cannot change from {move[0]} to {move[1]}"

    @pytest.mark.parametrize("status", list(S))
    def test_staying_put_is_always_allowed(self, status: CampaignStatus) -> None:
        transitions.require_move(status, status)

    def test_only_a_completed_campaign_takes_no_contacts(self) -> None:
        assert [status for status in S if not transitions.takes_contacts(status)] == [S.completed]


async def campaign_in(runtime: Runtime, status: CampaignStatus = S.active) -> tuple[Clinic, Campaign]:
    clinic = (await create_clinic(runtime)).clinic
    async with runtime.sessions() as session, session.begin():
        campaign = await crm_service.create_campaign(
            session, clinic_id=clinic.id, name="Spring implants", status=status
        )
    return clinic, campaign


async def set_status(
    runtime: Runtime, clinic: Clinic, campaign: Campaign, status: CampaignStatus
) -> Campaign:
    async with runtime.sessions() as session, session.begin():
        return await crm_service.set_campaign_status(
            session, clinic_id=clinic.id, campaign_id=campaign.id, status=status
        )


async def status_of(runtime: Runtime, clinic: Clinic, campaign: Campaign) -> str:
    async with runtime.sessions() as session:
        return (await crm_service.get_campaign(session, clinic_id=clinic.id, campaign_id=campaign.id)).status


class TestCreate:
    @pytest.mark.parametrize("status", [S.draft, S.active])
    async def test_a_campaign_starts_as_a_draft_or_active(
        self, runtime: Runtime, status: CampaignStatus
    ) -> None:
        clinic, campaign = await campaign_in(runtime, status)
        assert await status_of(runtime, clinic, campaign) == status

    @pytest.mark.parametrize("status", [S.paused, S.completed])
    async def test_no_campaign_starts_paused_or_completed(
        self, runtime: Runtime, status: CampaignStatus
    ) -> None:
        with pytest.raises(InvalidInput, match="status: a new campaign starts as a draft or active"):
            await campaign_in(runtime, status)


class TestSetStatus:
    async def test_a_campaign_is_paused_resumed_and_completed(self, runtime: Runtime) -> None:
        clinic, campaign = await campaign_in(runtime)
        for status in (S.paused, S.active, S.completed):
            await set_status(runtime, clinic, campaign, status)
            assert await status_of(runtime, clinic, campaign) == status

    async def test_an_illegal_move_is_refused_and_the_status_stays(self, runtime: Runtime) -> None:
        clinic, campaign = await campaign_in(runtime)
        await set_status(runtime, clinic, campaign, S.completed)
        with pytest.raises(InvalidInput, match="status: cannot change from completed to active"):
            await set_status(runtime, clinic, campaign, S.active)
        assert await status_of(runtime, clinic, campaign) == S.completed

    async def test_a_campaign_never_goes_back_to_draft(self, runtime: Runtime) -> None:
        clinic, campaign = await campaign_in(runtime)
        with pytest.raises(InvalidInput):
            await set_status(runtime, clinic, campaign, S.draft)

    async def test_the_same_status_again_changes_nothing(self, runtime: Runtime) -> None:
        clinic, campaign = await campaign_in(runtime)
        again = await set_status(runtime, clinic, campaign, S.active)
        assert (again.status, again.updated_at) == (S.active, campaign.updated_at)

    async def test_a_completed_campaign_takes_no_contacts(self, runtime: Runtime) -> None:
        clinic, campaign = await campaign_in(runtime)
        await set_status(runtime, clinic, campaign, S.completed)
        with pytest.raises(Conflict, match="the campaign is completed and takes no new contacts"):
            async with runtime.sessions() as session, session.begin():
                await crm_service.add_contact(
                    session,
                    clinic_id=clinic.id,
                    campaign_id=campaign.id,
                    name="Sam",
                    phone="+14155551212",
                    interest="Botox",
                    city="Austin",
                )
