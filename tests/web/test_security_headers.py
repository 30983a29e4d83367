"""The security headers of each page family and of the APIs (``web/security_headers.py``), through HTTP."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from clinicore.runtime import Runtime
from clinicore.web.security_headers import HSTS, SecurityHeadersMiddleware, page_policy, parse_policy
from tests.web.intake.pages import arrange_intake


def policy_of(response: httpx.Response) -> dict[str, str]:
    return parse_policy(response.headers["content-security-policy"])


def assert_page_headers(response: httpx.Response, *, frame_ancestors: str = "'self'") -> None:
    policy = policy_of(response)
    assert policy["script-src"] == "'self'", response.url
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == frame_ancestors
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in {"same-origin", "no-referrer"}
    assert "strict-transport-security" not in response.headers  # development


class TestPages:
    @pytest.mark.parametrize(
        "path",
        [
            "/login",  # console
            "/console",  # console, signed out: the redirect carries them too
            "/provider/sign-in",  # provider desk
            "/pharmacy/sign-in",  # pharmacy desk
            "/partner/login",  # partner console
            "/meet/not-a-link",  # patient meeting pages (a page that is not found is a page)
            "/documents/nothing",
            "/no-such-page",
        ],
    )
    async def test_every_page_family_has_a_policy_without_inline_script(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code < 500
        assert_page_headers(response, frame_ancestors=policy_of(response)["frame-ancestors"])
        assert policy_of(response)["frame-ancestors"] in {"'self'", "'none'"}

    async def test_the_consoles_sign_in_page_may_be_framed_by_itself_only(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/login")
        assert_page_headers(response)
        assert response.headers["x-frame-options"] == "SAMEORIGIN"

    async def test_a_page_refusing_every_frame_says_so_in_its_policy_too(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/partner/login")
        assert response.headers["x-frame-options"] == "DENY"
        assert_page_headers(response, frame_ancestors="'none'")

    async def test_the_booking_widget_may_be_embedded_anywhere(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/book/any-clinic")
        assert_page_headers(response, frame_ancestors="*")
        assert "x-frame-options" not in response.headers

    async def test_the_signed_out_frame_page_keeps_its_own_frame_ancestors_inside_the_page_policy(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/signin/out")
        assert response.status_code == 200
        assert_page_headers(response, frame_ancestors="*")

    async def test_the_intake_form_keeps_its_own_stricter_policy(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        intake = await arrange_intake(runtime, client)
        response = await client.get(intake.path)
        assert response.status_code == 200
        policy = policy_of(response)
        assert policy["default-src"] == "'none'"
        assert policy["frame-ancestors"] == "'none'"
        assert policy["style-src"].startswith("'self' 'nonce-")
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-content-type-options"] == "nosniff"

    async def test_static_files_are_not_sniffed(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/static/app.js")
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"


class TestApis:
    @pytest.mark.parametrize(
        "path",
        [
            "/qualiphy/api/exam_list",
            "/qualifybase/api/v1/exams",
            "/intakeq/api/v1/clients",
            "/intakeq/api/partner/practices",
            "/api/v1/exams",
            "/healthz",
        ],
    )
    async def test_apis_are_not_sniffed_and_carry_no_page_policy(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code < 500
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in response.headers
        assert "x-frame-options" not in response.headers


async def _page(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("page")


def _client(*, production: bool) -> httpx.AsyncClient:
    inner = Starlette(routes=[Route("/page", _page), Route("/api/thing", _page)])
    app = SecurityHeadersMiddleware(inner, api_paths=["/api"], production=production)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


class TestProduction:
    async def test_production_answers_hsts_on_pages_and_apis(self) -> None:
        async with _client(production=True) as client:
            for path in ("/page", "/api/thing"):
                assert (await client.get(path)).headers["strict-transport-security"] == HSTS

    async def test_development_sends_no_hsts(self) -> None:
        async with _client(production=False) as client:
            assert "strict-transport-security" not in (await client.get("/page")).headers


class TestPagePolicy:
    def test_a_policy_naming_only_some_directives_is_completed(self) -> None:
        policy = parse_policy(page_policy("'self'", "frame-ancestors *"))
        assert policy["frame-ancestors"] == "*"
        assert policy["script-src"] == "'self'"

    def test_a_policy_with_its_own_default_is_kept_whole(self) -> None:
        own = "default-src 'none'; frame-ancestors 'none'"
        assert page_policy("'self'", own) == own
