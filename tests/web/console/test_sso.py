"""Single sign-on through HTTP: the partner API's ephemeral token, ``/signin/authenticate`` and where it
lands, the one-hour session, the role's permissions on the pages it lands on, and ``frame-ancestors``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from clinicore.core.models import Partner
from clinicore.core.staff import roles
from clinicore.runtime import Runtime
from clinicore.web.security_headers import parse_policy
from tests.factories import create_clinic
from tests.support import remember_secret
from tests.surfaces.intakeq.conftest import (
    PARTNER_URL,
    PartnerAccount,
    PracticeAccount,
    create_partner_account,
    open_practice,
)
from tests.web.frozen_console import FrozenApp, frozen_app


@pytest.fixture
async def app(runtime: Runtime) -> AsyncIterator[FrozenApp]:
    async with frozen_app(runtime) as opened:
        yield opened


@pytest.fixture
async def partner(runtime: Runtime, app: FrozenApp) -> PartnerAccount:
    return await create_partner_account(app.runtime, app.client)


@pytest.fixture
async def practice(partner: PartnerAccount) -> PracticeAccount:
    return await open_practice(partner)


async def ephemeral(
    partner: PartnerAccount, practice_id: str, user: str | None = None, **headers: str
) -> httpx.Response:
    params = {"userId": user} if user is not None else {}
    return await partner.client.get(
        f"{PARTNER_URL}/practice/{practice_id}/ephemeral", params=params, headers=headers or partner.headers
    )


async def token_for(
    partner: PartnerAccount, practice: PracticeAccount, user: str | None = None
) -> dict[str, Any]:
    response = await ephemeral(partner, practice.practice["Id"], user)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    remember_secret(body["Token"])
    return body


async def authenticate(client: httpx.AsyncClient, **params: str) -> httpx.Response:
    return await client.get("/signin/authenticate", params=params)


async def main_id(practice: PracticeAccount) -> str:
    listed = (await practice.get("/practitioners")).json()
    return str(next(p["Id"] for p in listed if p["Email"] == practice.practice["Email"]))


class TestEphemeralToken:
    async def test_the_main_user_by_default_and_a_practitioner_by_either_id(
        self, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        main = await token_for(partner, practice)
        assert set(main) == {"Token", "UserId"} and main["UserId"] == await main_id(practice)
        assert len(main["Token"]) == 64
        other = await practice.create_practitioner(ExternalPractitionerId="crm-42")
        assert (await token_for(partner, practice, "crm-42"))["UserId"] == other["Id"]
        assert (await token_for(partner, practice, other["Id"].upper()))["UserId"] == other["Id"]

    async def test_keys_of_the_wrong_kind_or_none_are_401(
        self, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        practice_id = practice.practice["Id"]
        for headers in ({"X-Auth-Key": practice.key}, {"X-Auth-Key": "0" * 48}, {"X-Auth-Key": " "}):
            response = await ephemeral(partner, practice_id, **headers)
            assert response.status_code == 401 and "Message" in response.json()

    async def test_another_partners_practice_or_user_is_a_404(
        self, runtime: Runtime, app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        other_partner = await create_partner_account(app.runtime, app.client)
        elsewhere = await open_practice(other_partner)
        stranger = await elsewhere.create_practitioner()
        assert (await ephemeral(other_partner, practice.practice["Id"])).status_code == 404
        assert (await ephemeral(partner, "FFFFFFFF")).status_code == 404
        for user in (stranger["Id"], "nobody", "x" * 300):
            response = await ephemeral(partner, practice.practice["Id"], user)
            assert response.status_code == 404 and response.json() == {"Message": "user not found"}
        too_long = await ephemeral(partner, practice.practice["Id"], "x" * 5000)
        assert too_long.status_code == 400 and too_long.json()["Message"].startswith("userId:")

    async def test_a_disabled_practitioner_and_a_deleted_practice_get_no_token(
        self, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        other = await practice.create_practitioner()
        assert (await practice.post(f"/practitioners/{other['Id']}/disable")).status_code == 200
        response = await ephemeral(partner, practice.practice["Id"], other["Id"])
        assert response.status_code == 400 and "disabled" in response.json()["Message"]
        deleted = await partner.client.delete(
            f"{PARTNER_URL}/practice/{practice.practice['Id']}", headers=partner.headers
        )
        assert deleted.status_code == 200
        assert (await ephemeral(partner, practice.practice["Id"])).status_code == 404


class TestAuthenticate:
    async def test_a_token_signs_in_once_for_an_hour_and_lands_on_the_dashboard(
        self, app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        token = await token_for(partner, practice)
        browser = app.new_client()
        response = await authenticate(browser, token=token["Token"], userId=token["UserId"])
        assert response.status_code == 303 and response.headers["location"] == "/console"
        cookie = response.headers["set-cookie"]
        assert "Max-Age=3600" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert (await browser.get("/console")).status_code == 200

        again = await authenticate(app.new_client(), token=token["Token"], userId=token["UserId"])
        assert again.status_code == 401 and "already used" in again.text
        assert practice.practice["PracticeName"] in again.text  # the practice's brand

        app.clock.advance(timedelta(minutes=59))
        assert (await browser.get("/console")).status_code == 200
        app.clock.advance(timedelta(minutes=1))
        expired = await browser.get("/console")
        assert expired.status_code == 303 and expired.headers["location"].startswith("/login")

    async def test_each_path_lands_on_its_page(
        self, app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        intake_id = uuid.uuid4()
        cases = {
            "intakes": "/console/intakes",
            "templates": "/console/forms",
            "Settings": "/console/settings",
            "report": "/console/reports",
            "nonsense": "/console",
            "https://evil.example/": "/console",
        }
        for path, page in cases.items():
            token = await token_for(partner, practice)
            response = await authenticate(
                app.new_client(), token=token["Token"], userId=token["UserId"], path=path
            )
            assert (response.status_code, response.headers["location"]) == (303, page), path
        token = await token_for(partner, practice)
        response = await app.new_client().get(
            "/signin/authenticate",
            params={
                "TOKEN": token["Token"],
                "userid": token["UserId"],
                "path": "intake",
                "pathKey": intake_id.hex,
            },
        )
        assert response.headers["location"] == f"/console/intakes/{intake_id}"
        token = await token_for(partner, practice)
        response = await authenticate(
            app.new_client(), token=token["Token"], userId=token["UserId"], path="intake", pathKey="../../x"
        )
        assert response.headers["location"] == "/console/intakes"

    async def test_refusals_are_a_401_page_and_a_refused_use_spends_the_token(
        self, app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        other = await practice.create_practitioner()
        token = await token_for(partner, practice, other["Id"])
        wrong_user = await authenticate(
            app.new_client(), token=token["Token"], userId=await main_id(practice)
        )
        assert wrong_user.status_code == 401 and "set-cookie" not in wrong_user.headers
        right_user = await authenticate(app.new_client(), token=token["Token"], userId=other["Id"])
        assert right_user.status_code == 401
        for params in (
            {},
            {"token": ""},
            {"token": "z" * 5000, "userId": "u"},
            {"token": "%00", "userId": "u"},
        ):
            response = await app.new_client().get("/signin/authenticate", params=params)
            assert response.status_code == 401 and "Cannot sign in" in response.text

        expiring = await token_for(partner, practice)
        app.clock.advance(timedelta(minutes=5))
        late = await authenticate(app.new_client(), token=expiring["Token"], userId=expiring["UserId"])
        assert late.status_code == 401

    async def test_disabling_a_signed_in_practitioner_ends_its_session(
        self, app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        other = await practice.create_practitioner()
        token = await token_for(partner, practice, other["Id"])
        browser = app.new_client()
        await authenticate(browser, token=token["Token"], userId=other["Id"])
        assert (await browser.get("/console")).status_code == 200
        await practice.post(f"/practitioners/{other['Id']}/disable")
        assert (await browser.get("/console")).status_code == 303


class TestPermissionsAndFrames:
    async def test_a_role_without_reports_gets_a_403_page(
        self, app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        async with app.runtime.sessions() as session, session.begin():
            await roles.define_role(
                session,
                partner_id=partner.partner.id,
                name="Front Desk",
                permissions=roles.Permissions(open_forms=True),
            )
        desk = await practice.create_practitioner(RoleName="Front Desk")
        token = await token_for(partner, practice, desk["Id"])
        browser = app.new_client()
        landed = await authenticate(browser, token=token["Token"], userId=desk["Id"], path="report")
        assert landed.headers["location"] == "/console/reports"
        refused = await browser.get("/console/reports")
        assert refused.status_code == 403 and "may not see reports" in refused.text
        assert (await browser.get("/console/intakes")).status_code == 200

    async def test_console_pages_may_be_framed_by_the_partners_origins_only(
        self, runtime: Runtime, app: FrozenApp, partner: PartnerAccount, practice: PracticeAccount
    ) -> None:
        async with app.runtime.sessions() as session, session.begin():
            row = await session.get(Partner, partner.partner.id)
            assert row is not None
            row.frame_origins = ["https://app.partner.example", "http://127.0.0.1:8123", "bad origin'; x"]
        token = await token_for(partner, practice)
        browser = app.new_client()
        await authenticate(browser, token=token["Token"], userId=token["UserId"])
        page = await browser.get("/console")
        assert frame_ancestors_of(page) == "'self' https://app.partner.example http://127.0.0.1:8123"
        assert 'data-parent-origins="https://app.partner.example http://127.0.0.1:8123"' in page.text
        assert frame_ancestors_of(await browser.get("/login")) == "'self'"

        made = await create_clinic(app.runtime)  # a clinic without a partner
        own = app.new_client()
        await own.post("/login", data={})  # no CSRF: refused, still framed by 'self' only
        signed = await sign_in_by_password(own, made.email, made.password)
        assert frame_ancestors_of(signed) == "'self'"


def frame_ancestors_of(response: httpx.Response) -> str:
    return parse_policy(response.headers["content-security-policy"])["frame-ancestors"]


async def sign_in_by_password(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await client.get("/login")
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    await client.post(
        "/login", data={"csrf_token": csrf, "email": email, "password": password, "next": "/console"}
    )
    return await client.get("/console")
