"""A deactivated clinic's API keys are refused on every surface (issue 15, item 8): QualifyBase and native
answer 401 in their envelope, as Qualiphy answers ``Clinic is inactive``; reactivated, the same keys work."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from clinicore.core.models import ApiKeyKind, Clinic
from clinicore.core.tenancy.deactivation import CLINIC_INACTIVE, refuse_inactive_clinic
from clinicore.kit.errors import Unauthorized
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_key


async def set_active(runtime: Runtime, clinic: Clinic, active: bool) -> None:
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(Clinic).where(Clinic.id == clinic.id).values(is_active=active))


@pytest.mark.parametrize(
    ("kind", "path", "envelope"),
    [
        (ApiKeyKind.qualifybase, "/qualifybase/api/v1/me", "error"),
        (ApiKeyKind.native, "/api/me", "error"),
    ],
)
async def test_a_deactivated_clinics_key_is_refused_until_it_is_active_again(
    runtime: Runtime, client: httpx.AsyncClient, kind: ApiKeyKind, path: str, envelope: str
) -> None:
    arranged = await create_clinic(runtime)
    key = await create_key(runtime, arranged.clinic, kind)
    headers = {"Authorization": f"Bearer {key}"}
    assert (await client.get(path, headers=headers)).status_code == 200

    await set_active(runtime, arranged.clinic, False)
    refused = await client.get(path, headers=headers)
    assert refused.status_code == 401
    assert envelope in refused.json()
    assert "deactivated" in refused.text

    await set_active(runtime, arranged.clinic, True)
    assert (await client.get(path, headers=headers)).status_code == 200


async def test_qualiphy_keeps_its_own_words(runtime: Runtime, client: httpx.AsyncClient) -> None:
    arranged = await create_clinic(runtime)
    key = await create_key(runtime, arranged.clinic, ApiKeyKind.qualiphy)
    await set_active(runtime, arranged.clinic, False)
    refused = await client.post("/qualiphy/api/exam_list", json={"api_key": key})
    assert refused.status_code == 401
    assert refused.json() == {"http_code": 401, "error_message": "Clinic is inactive"}


async def test_the_core_rule_names_itself(runtime: Runtime) -> None:
    arranged = await create_clinic(runtime)
    refuse_inactive_clinic(arranged.clinic)  # active: nothing happens
    arranged.clinic.is_active = False
    with pytest.raises(Unauthorized) as refused:
        refuse_inactive_clinic(arranged.clinic)
    assert refused.value.rule == CLINIC_INACTIVE
