from __future__ import annotations

import re

import httpx

from clinicore.core.models import ApiKeyKind
from clinicore.runtime import Runtime
from tests.factories import create_clinic, create_key
from tests.support import remember_secret
from tests.web.console.pages import console_csrf, sign_in

_NEW_SECRET = re.compile(r'data-testid="new-key-secret">([^<]+)<')


def shown_secret(html: str) -> str:
    match = _NEW_SECRET.search(html)
    assert match, "no new key on the page"
    return remember_secret(match.group(1))


class TestCreateKey:
    async def test_a_qualifybase_key_is_shown_once_then_only_its_prefix(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        response = await client.post(
            "/console/keys",
            data={"kind": "qualifybase", "name": "Zapier", "csrf_token": await console_csrf(client)},
        )
        assert response.status_code == 201
        assert response.headers["cache-control"] == "no-store"
        secret = shown_secret(response.text)
        assert re.fullmatch(r"qbk_live_[A-Za-z0-9]{40}", secret)
        later = await client.get("/console/keys")
        assert secret not in later.text
        assert f"{secret[:17]}…" in later.text  # the non-secret lookup prefix
        assert "Zapier" in later.text

    async def test_a_native_key_created_in_the_console_works_on_the_native_api(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        response = await client.post(
            "/console/keys",
            data={"kind": "native", "name": "dialer", "csrf_token": await console_csrf(client)},
        )
        secret = shown_secret(response.text)
        me = await client.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200
        assert me.json()["clinic"]["id"] == str(arranged.clinic.id)

    async def test_an_unknown_kind_is_a_clear_error(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        response = await client.post(
            "/console/keys", data={"kind": "root", "csrf_token": await console_csrf(client)}
        )
        assert response.status_code == 400
        assert "Choose a key kind." in response.text


class TestRetrievableKeys:
    async def test_qualiphy_key_is_shown_again_and_rotation_replaces_it(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        first = await create_key(runtime, arranged.clinic, ApiKeyKind.qualiphy)
        await sign_in(client, arranged.email, arranged.password)
        page = await client.get("/console/keys")
        assert f'data-testid="reveal-qualiphy">{first}<' in page.text
        rotated = await client.post(
            "/console/keys", data={"kind": "qualiphy", "csrf_token": await console_csrf(client)}
        )
        second = shown_secret(rotated.text)
        assert second != first
        page = await client.get("/console/keys")
        assert f'data-testid="reveal-qualiphy">{second}<' in page.text
        assert first not in page.text

    async def test_intakeq_practice_key_can_be_created_and_shown(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        assert 'data-testid="reveal-intakeq_practice"' not in (await client.get("/console/keys")).text
        created = await client.post(
            "/console/keys", data={"kind": "intakeq_practice", "csrf_token": await console_csrf(client)}
        )
        secret = shown_secret(created.text)
        assert re.fullmatch(r"[0-9a-f]{40}", secret)
        assert f'data-testid="reveal-intakeq_practice">{secret}<' in (await client.get("/console/keys")).text


class TestRevokeKey:
    async def test_a_revoked_key_is_refused(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        secret = await create_key(runtime, arranged.clinic, ApiKeyKind.native)
        headers = {"Authorization": f"Bearer {secret}"}
        key_id = (await client.get("/api/me", headers=headers)).json()["key"]["id"]
        await sign_in(client, arranged.email, arranged.password)
        response = await client.post(
            f"/console/keys/{key_id}/revoke", data={"csrf_token": await console_csrf(client)}
        )
        assert response.status_code == 303
        refused = await client.get("/api/me", headers=headers)
        assert refused.status_code == 401
        assert refused.json() == {"error": "unauthorized", "message": "invalid API key"}

    async def test_another_clinics_key_cannot_be_revoked_from_the_console(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        mine = await create_clinic(runtime)
        theirs = await create_clinic(runtime)
        their_secret = await create_key(runtime, theirs.clinic, ApiKeyKind.native)
        their_key_id = (
            await client.get("/api/me", headers={"Authorization": f"Bearer {their_secret}"})
        ).json()["key"]["id"]
        await sign_in(client, mine.email, mine.password)
        response = await client.post(
            f"/console/keys/{their_key_id}/revoke", data={"csrf_token": await console_csrf(client)}
        )
        assert response.status_code == 404
        assert (
            await client.get("/api/me", headers={"Authorization": f"Bearer {their_secret}"})
        ).status_code == 200
