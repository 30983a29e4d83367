from __future__ import annotations

import httpx

from clinicore.runtime import Runtime
from tests.factories import create_clinic
from tests.web.console.pages import console_csrf, csrf_token, sign_in


class TestSignIn:
    async def test_signing_in_opens_the_console_of_the_users_clinic(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime, name="Harbor Medspa")
        response = await sign_in(client, arranged.email, arranged.password)
        assert response.status_code == 303
        assert response.headers["location"] == "/console"
        cookie = response.headers["set-cookie"]
        assert "clinicore_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        dashboard = await client.get("/console")
        assert dashboard.status_code == 200
        assert "Harbor Medspa" in dashboard.text

    async def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        wrong_password = await sign_in(client, arranged.email, "not-the-password")
        unknown_email = await sign_in(client, "nobody@clinic.example", arranged.password)
        for response in (wrong_password, unknown_email):
            assert response.status_code == 401
            assert "Wrong email or password." in response.text
        assert (await client.get("/console")).status_code == 303

    async def test_console_pages_redirect_to_sign_in_when_signed_out(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/console/keys")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/console/keys"

    async def test_sign_in_only_redirects_to_local_paths(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        page = await client.get("/login?next=//evil.example/steal")
        response = await client.post(
            "/login",
            data={
                "email": arranged.email,
                "password": arranged.password,
                "csrf_token": csrf_token(page.text),
                "next": "//evil.example/steal",
            },
        )
        assert response.headers["location"] == "/console"

    async def test_signing_out_ends_the_session(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        session_cookie = client.cookies["clinicore_session"]
        response = await client.post("/logout", data={"csrf_token": await console_csrf(client)})
        assert response.status_code == 303
        # Even a client that kept the old cookie is signed out: the session is gone on the server.
        client.cookies.set("clinicore_session", session_cookie)
        assert (await client.get("/console")).status_code == 303


class TestCsrf:
    async def test_sign_in_without_the_forms_token_is_rejected(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await client.get("/login")
        response = await client.post("/login", data={"email": arranged.email, "password": arranged.password})
        assert response.status_code == 403
        assert "clinicore_session" not in client.cookies

    async def test_sign_in_with_a_forged_token_is_rejected(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await client.get("/login")
        response = await client.post(
            "/login", data={"email": arranged.email, "password": arranged.password, "csrf_token": "forged"}
        )
        assert response.status_code == 403

    async def test_console_form_without_token_changes_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        before = (await client.get("/console/keys")).text.count("data-key-id=")
        response = await client.post("/console/keys", data={"kind": "native", "name": "forged"})
        assert response.status_code == 403
        response = await client.post(
            "/console/keys", data={"kind": "native", "name": "forged", "csrf_token": "x"}
        )
        assert response.status_code == 403
        assert (await client.get("/console/keys")).text.count("data-key-id=") == before

    async def test_sign_out_without_token_keeps_the_session(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        assert (await client.post("/logout", data={})).status_code == 403
        assert (await client.get("/console")).status_code == 200


class TestLoginThrottling:
    async def test_repeated_failures_are_throttled_then_released(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        limit = runtime.settings.login_attempts_per_window
        for _ in range(limit):
            assert (await sign_in(client, arranged.email, "wrong-password")).status_code == 401
        throttled = await sign_in(client, arranged.email, arranged.password)
        assert throttled.status_code == 429
        assert "Too many sign-in attempts" in throttled.text
        retry_after = int(throttled.headers["retry-after"])
        assert 0 < retry_after <= runtime.settings.login_window_seconds
        # Only this account is throttled, not everyone.
        other = await create_clinic(runtime)
        assert (await sign_in(client, other.email, other.password)).status_code == 303
