"""With Redis, the patient's socket on one server process and the provider's on another are in one room
(two apps, each with its own runtime and relay, stand for the two processes)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from clinicore.app import create_app
from clinicore.config import Settings
from clinicore.runtime import Runtime
from tests.web.call.sockets import CallSocket, in_consultation, provider_cookie
from tests.web.patient.pages import branded_clinic
from tests.web.provider.desk import create_desk_provider


@pytest.fixture
async def two_processes(settings: Settings, redis_url: str) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    runtimes = [Runtime.from_settings(settings.model_copy(update={"redis_url": redis_url})) for _ in range(2)]
    try:
        yield create_app(runtimes[0]), create_app(runtimes[1])
    finally:
        for runtime in runtimes:
            await runtime.close()


async def test_the_patient_on_one_process_and_the_provider_on_another_hear_each_other(
    runtime: Runtime, two_processes: tuple[FastAPI, FastAPI]
) -> None:
    process_a, process_b = two_processes
    provider = await create_desk_provider(runtime)
    consultation = await in_consultation(runtime, await branded_clinic(runtime), provider)
    cookies = await provider_cookie(process_b, provider)
    async with CallSocket(process_b, consultation.provider_url, cookies=cookies) as doctor:
        async with CallSocket(process_a, consultation.patient_url) as patient:
            await patient.send_json({"type": "hello", "media": True})
            assert await doctor.receive_json() == {"type": "hello", "media": True, "from": "patient"}
            await doctor.send_json({"type": "chat", "text": "Hello from process B"})
            assert await patient.receive_json() == {
                "type": "chat",
                "text": "Hello from process B",
                "from": "provider",
            }
        assert await doctor.receive_json() == {"type": "bye", "from": "patient"}
