"""The pages that hold the call: the waiting room learns where to connect once a provider takes the exam,
the provider's exam page shows the call while the exam is in consultation, and both carry the ICE servers
of ``CLINICORE_ICE_SERVERS``."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from clinicore.app import create_app
from clinicore.config import Settings
from clinicore.core.models import ExamOutcome
from clinicore.core.telehealth import lifecycle
from clinicore.runtime import Runtime
from tests.web.call.sockets import PROVIDER_COOKIE, provider_cookie, take, waiting_visit
from tests.web.patient.pages import branded_clinic
from tests.web.provider.desk import create_desk_provider

ICE_SERVERS = [{"urls": "stun:stun.example.org:3478"}, {"urls": ["turn:turn.example.org"], "username": "u"}]
ICE_SCRIPT = re.compile(r'<script type="application/json" id="ice-servers">(.*?)</script>', re.S)


@pytest.fixture
async def app_with_ice_servers(settings: Settings) -> AsyncIterator[FastAPI]:
    runtime = Runtime.from_settings(settings.model_copy(update={"ice_servers": json.dumps(ICE_SERVERS)}))
    try:
        yield create_app(runtime)
    finally:
        await runtime.close()


def ice_servers_of(page: str) -> object:
    found = ICE_SCRIPT.search(page)
    assert found, "the page has no ICE servers"
    return json.loads(found.group(1))


def call_url_of(page: str) -> str | None:
    found = re.search(r'data-call-url="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


async def test_the_waiting_room_learns_its_call_once_a_provider_takes_the_exam(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    visit = await waiting_visit(runtime, await branded_clinic(runtime))
    status = (await client.get(visit.at("/status"))).json()
    assert status["call_url"] is None
    assert call_url_of((await client.get(visit.url)).text) is None
    provider = await create_desk_provider(runtime)
    await take(runtime, provider, visit)
    expected = visit.at(f"/call/{visit.patient_exams[0].id}")
    assert (await client.get(visit.at("/status"))).json()["call_url"] == expected
    page = (await client.get(visit.url)).text
    assert call_url_of(page) == expected
    assert ice_servers_of(page) == []


async def test_the_provider_sees_the_call_while_consulting_and_not_once_decided(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient
) -> None:
    visit = await waiting_visit(runtime, await branded_clinic(runtime))
    provider = await create_desk_provider(runtime)
    await take(runtime, provider, visit)
    exam_id = visit.patient_exams[0].id
    client.cookies.set(
        PROVIDER_COOKIE, (await provider_cookie(app, provider))[PROVIDER_COOKIE], path="/provider"
    )
    page = (await client.get(f"/provider/exams/{exam_id}")).text
    assert call_url_of(page) == f"/provider/exams/{exam_id}/call"
    assert ice_servers_of(page) == []
    async with runtime.sessions() as session, session.begin():
        await lifecycle.decide(
            session,
            provider_id=provider.provider.id,
            patient_exam_id=exam_id,
            outcome=ExamOutcome.approved,
            reason=None,
            links=runtime.links,
            clock=runtime.clock,
        )
    assert call_url_of((await client.get(f"/provider/exams/{exam_id}")).text) is None


async def test_both_pages_carry_the_ice_servers_of_the_setting(
    runtime: Runtime, app_with_ice_servers: FastAPI
) -> None:
    visit = await waiting_visit(runtime, await branded_clinic(runtime))
    provider = await create_desk_provider(runtime)
    await take(runtime, provider, visit)
    transport = httpx.ASGITransport(app=app_with_ice_servers, client=("127.8.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        assert ice_servers_of((await browser.get(visit.url)).text) == ICE_SERVERS
        cookie = (await provider_cookie(app_with_ice_servers, provider))[PROVIDER_COOKIE]
        browser.cookies.set(PROVIDER_COOKIE, cookie, path="/provider")
        page = (await browser.get(f"/provider/exams/{visit.patient_exams[0].id}")).text
        assert ice_servers_of(page) == ICE_SERVERS
