"""Sign-in pages as an attacker tries them: login CSRF bound to the secret key, throttling that holds.

The console's sign-in, the provider desk's and the intake page's password form (kit/login_csrf.py,
web/intake/session.py), and the console's throttling over HTTP (core/tenancy/sign_in_throttle.py).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from clinicore.kit import login_csrf
from clinicore.runtime import Runtime
from clinicore.web.console.session import LOGIN_CSRF_COOKIE
from clinicore.web.intake import session as access_cookie
from clinicore.web.provider.session import PROVIDER_DESK
from tests.factories import create_clinic
from tests.web.console.pages import csrf_token, sign_in
from tests.web.intake.pages import arrange_intake, csrf_of
from tests.web.provider.desk import create_desk_provider

ATTACKER_VALUE = "attacker-chosen-value-0123456789"


@asynccontextmanager
async def client_at(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def random_address() -> str:
    return f"10.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


class TestConsoleLoginCsrf:
    async def test_a_cookie_and_a_field_of_the_same_attacker_value_do_not_sign_in(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        client.cookies.set(LOGIN_CSRF_COOKIE, ATTACKER_VALUE, path="/login")
        response = await client.post(
            "/login",
            data={"email": arranged.email, "password": arranged.password, "csrf_token": ATTACKER_VALUE},
        )
        assert response.status_code == 403
        assert "clinicore_session" not in client.cookies

    async def test_the_form_token_is_not_the_cookie_but_its_hmac(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        page = await client.get("/login")
        pre_session_id = client.cookies[LOGIN_CSRF_COOKIE]
        assert csrf_token(page.text) != pre_session_id
        assert csrf_token(page.text) == login_csrf.login_token(
            runtime.settings.secret_key, purpose="console", pre_session_id=pre_session_id
        )

    async def test_a_token_of_another_pre_session_is_refused(
        self, app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        async with client_at(app, random_address()) as attacker:
            attackers_token = csrf_token((await attacker.get("/login")).text)
        await client.get("/login")  # the victim's own pre-session
        response = await client.post(
            "/login",
            data={"email": arranged.email, "password": arranged.password, "csrf_token": attackers_token},
        )
        assert response.status_code == 403

    async def test_a_token_computed_with_another_secret_is_refused(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await client.get("/login")
        guessed = login_csrf.login_token(
            "not-the-secret-key", purpose="console", pre_session_id=client.cookies[LOGIN_CSRF_COOKIE]
        )
        response = await client.post(
            "/login", data={"email": arranged.email, "password": arranged.password, "csrf_token": guessed}
        )
        assert response.status_code == 403

    async def test_the_page_we_served_signs_in(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        assert (await sign_in(client, arranged.email, arranged.password)).status_code == 303


class TestDeskLoginCsrf:
    async def test_a_cookie_and_a_field_of_the_same_attacker_value_do_not_sign_in(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        provider = await create_desk_provider(runtime)
        client.cookies.set(PROVIDER_DESK.login_csrf_cookie, ATTACKER_VALUE, path=PROVIDER_DESK.sign_in_path)
        response = await client.post(
            PROVIDER_DESK.sign_in_path,
            data={"email": provider.email, "password": provider.password, "csrf_token": ATTACKER_VALUE},
        )
        assert response.status_code == 403
        assert PROVIDER_DESK.session_cookie not in client.cookies

    async def test_the_console_token_opens_no_desk(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        provider = await create_desk_provider(runtime)
        await client.get(PROVIDER_DESK.sign_in_path)
        console_token = login_csrf.login_token(
            runtime.settings.secret_key,
            purpose="console",
            pre_session_id=client.cookies[PROVIDER_DESK.login_csrf_cookie],
        )
        response = await client.post(
            PROVIDER_DESK.sign_in_path,
            data={"email": provider.email, "password": provider.password, "csrf_token": console_token},
        )
        assert response.status_code == 403

    async def test_the_page_we_served_signs_in(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        provider = await create_desk_provider(runtime)
        page = await client.get(PROVIDER_DESK.sign_in_path)
        response = await client.post(
            PROVIDER_DESK.sign_in_path,
            data={
                "email": provider.email,
                "password": provider.password,
                "csrf_token": csrf_token(page.text),
            },
        )
        assert response.status_code == 303


class TestIntakePasswordCsrf:
    async def test_a_cookie_and_a_field_of_the_same_attacker_value_do_not_open_the_form(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        intake = await arrange_intake(runtime, client)
        client.cookies.set(access_cookie.PASSWORD_CSRF_COOKIE, ATTACKER_VALUE)
        response = await client.post(
            intake.path, data={"csrf_token": ATTACKER_VALUE, "password": intake.password}
        )
        assert response.status_code == 403
        assert "clinicore_intake=" not in response.headers.get("set-cookie", "")

    async def test_the_page_we_served_opens_the_form(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        intake = await arrange_intake(runtime, client)
        page = await client.get(intake.path)
        assert csrf_of(page) != client.cookies[access_cookie.PASSWORD_CSRF_COOKIE]
        response = await client.post(
            intake.path, data={"csrf_token": csrf_of(page), "password": intake.password}
        )
        assert "clinicore_intake=" in response.headers.get("set-cookie", "")


class TestConsoleThrottlingOverHttp:
    async def test_forty_parallel_guesses_get_at_most_the_limit_of_401s(
        self, app: FastAPI, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        limit = runtime.settings.login_attempts_per_window
        address = random_address()
        async with client_at(app, address) as reader:
            pages = []
            for _ in range(40):
                reader.cookies.clear()
                page = await reader.get("/login")
                pages.append((reader.cookies[LOGIN_CSRF_COOKIE], csrf_token(page.text)))

        async def guess(number: int, pre_session_id: str, token: str) -> int:
            async with client_at(app, address) as guesser:
                guesser.cookies.set(LOGIN_CSRF_COOKIE, pre_session_id, path="/login")
                response = await guesser.post(
                    "/login",
                    data={"email": arranged.email, "password": f"wrong-{number}", "csrf_token": token},
                )
                return response.status_code

        statuses = await asyncio.gather(*(guess(n, *page) for n, page in enumerate(pages)))
        assert statuses.count(401) == limit
        assert statuses.count(429) == 40 - statuses.count(401)

    async def test_spellings_of_one_address_share_its_counter(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        limit = runtime.settings.login_attempts_per_window
        local, domain = arranged.email.split("@")
        spellings = [
            arranged.email.upper(),
            f"{local}@{domain.replace('.', '。')}",
            f" {local.title()}@{domain}",
        ]
        for number in range(limit):
            response = await sign_in(client, spellings[number % len(spellings)], "wrong-password")
            assert response.status_code == 401
        assert (await sign_in(client, arranged.email, arranged.password)).status_code == 429

    async def test_the_owner_on_a_new_address_signs_in_while_a_guesser_is_backed_off(
        self, app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        for _ in range(runtime.settings.login_attempts_per_window + 2):
            await sign_in(client, arranged.email, "wrong-password")
        assert (await sign_in(client, arranged.email, arranged.password)).status_code == 429
        async with client_at(app, random_address()) as owner:
            assert (await sign_in(owner, arranged.email, arranged.password)).status_code == 303
