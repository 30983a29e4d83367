"""A provider signs in to the desk, takes a waiting exam from the queue and approves it, in a real
headless Chromium (no video: that is the next slice)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from clinicore.config import load_settings
from clinicore.core.models import Clinic, Event, PatientExam
from clinicore.core.telehealth import catalog, lifecycle
from clinicore.runtime import Runtime
from tests.e2e.screens import screenshot
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from tests.factories import answer_all, create_meeting
from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

pytestmark = pytest.mark.browser


async def _waiting_exam(database_url: str, data_dir: Path, clinic_id: str) -> int:
    """A live NY exam of the demo clinic whose patient answered and waits (as the meeting page leaves it)."""
    runtime = Runtime.from_settings(
        load_settings(env="development", data_dir=data_dir, database_url=database_url, redis_url=None)
    )
    try:
        async with runtime.sessions() as session:
            clinic = await session.get(Clinic, uuid.UUID(clinic_id))
            assert clinic is not None
            exams = await catalog.list_exams(session, clinic_id=clinic.id)
        botox = next(exam for exam in exams if exam.title == "GFE - Botox")
        created = await create_meeting(runtime, clinic, [botox], tele_state="NY", first_name="Robin")
        await answer_all(runtime, created.patient_exam)
        async with runtime.sessions() as session, session.begin():
            await lifecycle.join_waiting_room(
                session, meeting_id=created.meeting.id, patient_exam_id=created.patient_exam.id
            )
        return created.patient_exam.id
    finally:
        await runtime.close()


async def _outcomes(database_url: str, data_dir: Path, patient_exam_id: int) -> list[str]:
    runtime = Runtime.from_settings(
        load_settings(env="development", data_dir=data_dir, database_url=database_url, redis_url=None)
    )
    try:
        async with runtime.sessions() as session:
            exam = await session.get(PatientExam, patient_exam_id)
            assert exam is not None
            events = await session.scalars(
                select(Event).where(Event.aggregate_id == str(exam.meeting_id)).order_by(Event.sequence)
            )
            return [event.payload["patient_exam"]["outcome"] for event in events]
    finally:
        await runtime.close()


def test_a_provider_signs_in_takes_an_exam_and_approves_it(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    _require_chromium()
    data_dir = tmp_path / "data"
    env = clinicore_env(data_dir, subprocess_database_url)
    demo = json.loads(run_clinicore("demo", "--json", env=env).stdout)
    for field in ("console_password", "provider_password"):
        remember_secret(demo[field])
    database_url = subprocess_database_url or f"sqlite+aiosqlite:///{data_dir / 'clinicore.db'}"
    patient_exam_id = asyncio.run(_waiting_exam(database_url, data_dir, demo["clinic_id"]))
    server = ServerProcess(env)
    try:
        server.wait_ready()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 375, "height": 812})  # a phone
            page.goto(f"{server.base_url}/provider")
            assert page.url.startswith(f"{server.base_url}/provider/sign-in")
            page.fill("input[name=email]", demo["provider_email"])
            page.fill("input[name=password]", demo["provider_password"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.base_url}/provider")
            row = page.locator(f'[data-testid=waiting-queue] tr[data-patient-exam-id="{patient_exam_id}"]')
            assert row.is_visible()
            screenshot(page, "provider-queue")
            row.locator("button", has_text="Take").click()
            page.wait_for_url(f"{server.base_url}/provider/exams/{patient_exam_id}?notice=taken")
            assert page.is_visible("text=Robin")
            screenshot(page, "provider-exam")
            page.check("input[name=outcome][value=approved]")
            page.click("text=Save decision")
            page.wait_for_url(f"{server.base_url}/provider/exams/{patient_exam_id}?notice=decided")
            assert page.inner_text("[data-testid=exam-status]") == "completed (Approved)"
            browser.close()
    finally:
        server.stop()
    assert asyncio.run(_outcomes(database_url, data_dir, patient_exam_id)) == ["Approved"]
