"""A deactivated clinic's users cannot sign in to the console, and a session opened before the clinic was
deactivated ends at its next request (core/tenancy/deactivation.py, the door's one rule)."""

from __future__ import annotations

import httpx

from clinicore.core.models import Clinic
from clinicore.runtime import Runtime
from tests.factories import create_clinic
from tests.web.console.pages import sign_in


async def _set_active(runtime: Runtime, clinic_id: object, active: bool) -> None:
    async with runtime.sessions() as session:
        clinic = await session.get(Clinic, clinic_id)
        assert clinic is not None
        clinic.is_active = active
        await session.commit()


async def test_a_deactivated_clinics_user_cannot_sign_in(client: httpx.AsyncClient, runtime: Runtime) -> None:
    arranged = await create_clinic(runtime)
    await _set_active(runtime, arranged.clinic.id, False)
    response = await sign_in(client, arranged.email, arranged.password)
    assert response.status_code == 401
    assert "deactivated" in response.text
    assert "clinicore_session" not in client.cookies


async def test_an_open_session_ends_when_the_clinic_is_deactivated(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    arranged = await create_clinic(runtime)
    signed_in = await sign_in(client, arranged.email, arranged.password)
    assert signed_in.status_code == 303
    assert (await client.get("/console")).status_code == 200
    await _set_active(runtime, arranged.clinic.id, False)
    answer = await client.get("/console")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")
    await _set_active(runtime, arranged.clinic.id, True)
