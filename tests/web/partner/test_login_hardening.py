"""The partner console's sign-in as an attacker tries it: the login CSRF token is an HMAC of the secret
key and the pre-session cookie (kit/login_csrf.py, purpose ``partner``), and the throttling is the one
every password sign-in has (core/tenancy/sign_in_throttle.py, realm ``partner``), over HTTP."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from clinicore.kit import login_csrf
from clinicore.runtime import Runtime
from clinicore.web.partner.session import LOGIN_CSRF_COOKIE, SESSION_COOKIE, SIGN_IN_PATH
from clinicore.web.provider.session import PROVIDER_DESK
from tests.factories.partners import create_partner_user
from tests.web.console.pages import csrf_token
from tests.web.partner.pages import sign_in_partner

ATTACKER_VALUE = "attacker-chosen-value-0123456789"


@asynccontextmanager
async def client_at(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def random_address() -> str:
    return f"10.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


async def post_sign_in(client: httpx.AsyncClient, email: str, password: str, token: str) -> httpx.Response:
    return await client.post(SIGN_IN_PATH, data={"email": email, "password": password, "csrf_token": token})


class TestPartnerLoginCsrf:
    async def test_a_cookie_and_a_field_of_the_same_attacker_value_do_not_sign_in(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        partner = await create_partner_user(runtime)
        client.cookies.set(LOGIN_CSRF_COOKIE, ATTACKER_VALUE, path=SIGN_IN_PATH)
        response = await post_sign_in(client, partner.email, partner.password, ATTACKER_VALUE)
        assert response.status_code == 403
        assert SESSION_COOKIE not in client.cookies

    async def test_the_form_token_is_not_the_cookie_but_its_hmac(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        page = await client.get(SIGN_IN_PATH)
        pre_session_id = client.cookies[LOGIN_CSRF_COOKIE]
        assert csrf_token(page.text) != pre_session_id
        assert csrf_token(page.text) == login_csrf.login_token(
            runtime.settings.secret_key, purpose="partner", pre_session_id=pre_session_id
        )

    async def test_a_token_of_another_purpose_is_refused(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        partner = await create_partner_user(runtime)
        await client.get(SIGN_IN_PATH)
        pre_session_id = client.cookies[LOGIN_CSRF_COOKIE]
        for purpose in ("console", PROVIDER_DESK.login_csrf_cookie):
            other = login_csrf.login_token(
                runtime.settings.secret_key, purpose=purpose, pre_session_id=pre_session_id
            )
            response = await post_sign_in(client, partner.email, partner.password, other)
            assert response.status_code == 403
        assert SESSION_COOKIE not in client.cookies

    async def test_a_token_of_another_pre_session_is_refused(
        self, app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        partner = await create_partner_user(runtime)
        async with client_at(app, random_address()) as attacker:
            attackers_token = csrf_token((await attacker.get(SIGN_IN_PATH)).text)
        await client.get(SIGN_IN_PATH)  # the victim's own pre-session
        response = await post_sign_in(client, partner.email, partner.password, attackers_token)
        assert response.status_code == 403

    async def test_the_page_we_served_signs_in(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        partner = await create_partner_user(runtime)
        assert (await sign_in_partner(client, partner.email, partner.password)).status_code == 303
        assert SESSION_COOKIE in client.cookies


class TestPartnerThrottlingOverHttp:
    async def test_forty_parallel_guesses_get_at_most_the_limit_of_401s(
        self, app: FastAPI, runtime: Runtime
    ) -> None:
        partner = await create_partner_user(runtime)
        limit = runtime.settings.login_attempts_per_window
        address = random_address()
        async with client_at(app, address) as reader:
            pages = []
            for _ in range(40):
                reader.cookies.clear()
                page = await reader.get(SIGN_IN_PATH)
                pages.append((reader.cookies[LOGIN_CSRF_COOKIE], csrf_token(page.text)))

        async def guess(number: int, pre_session_id: str, token: str) -> int:
            async with client_at(app, address) as guesser:
                guesser.cookies.set(LOGIN_CSRF_COOKIE, pre_session_id, path=SIGN_IN_PATH)
                response = await post_sign_in(guesser, partner.email, f"wrong-{number}", token)
                return response.status_code

        statuses = await asyncio.gather(*(guess(n, *page) for n, page in enumerate(pages)))
        assert 0 < statuses.count(401) <= limit
        assert statuses.count(429) == 40 - statuses.count(401)

    async def test_upper_case_and_full_width_spellings_share_the_counter(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        partner = await create_partner_user(runtime)
        limit = runtime.settings.login_attempts_per_window
        local, domain = partner.email.split("@")
        full_width = "".join(chr(ord(letter) + 0xFEE0) if letter.isalpha() else letter for letter in domain)
        spellings = [partner.email.upper(), f"{local}@{full_width}", f"{local}@{domain.replace('.', '。')}"]
        for number in range(limit):
            response = await sign_in_partner(client, spellings[number % len(spellings)], "wrong-password")
            assert response.status_code == 401
        refused = await sign_in_partner(client, partner.email, partner.password)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert SESSION_COOKIE not in client.cookies

    async def test_the_owner_on_another_address_signs_in_while_a_guesser_is_backed_off(
        self, app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        partner = await create_partner_user(runtime)
        for _ in range(runtime.settings.login_attempts_per_window + 2):
            await sign_in_partner(client, partner.email, "wrong-password")
        assert (await sign_in_partner(client, partner.email, partner.password)).status_code == 429
        async with client_at(app, random_address()) as owner:
            assert (await sign_in_partner(owner, partner.email, partner.password)).status_code == 303
