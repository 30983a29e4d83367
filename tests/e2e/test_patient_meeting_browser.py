"""A patient on a phone (375 px) walks the meeting page in a real headless Chromium: consent, questions,
an upload, the waiting room; a provider then takes and approves the exam through the core lifecycle
and the browser lands on ``redirect_approve``. A second walk covers the pharmacy choice and the result
page. All traffic stays on 127.0.0.1; a screenshot of each page goes to the test artifacts."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select

from clinicore.config import load_settings
from clinicore.core.models import Event, ExamOutcome, PatientExam
from clinicore.core.telehealth import lifecycle
from clinicore.core.telehealth.invites import meeting_path
from clinicore.runtime import Runtime
from tests.e2e.screens import screenshot
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from tests.factories import answer_all, attach, create_live_provider
from tests.support import ServerProcess, clinicore_env, free_port, remember_secret
from tests.web.patient.pages import PNG, ArrangedVisit, arrange_visit, directory_pharmacy

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 812}
MISSED_WINDOW = 3  # seconds, instead of 3 minutes
T = TypeVar("T")


class LandingPages:
    """The integrator's pages the patient is sent to: a loopback HTTP server in a thread."""

    def __init__(self) -> None:
        self.port = free_port()
        self.visited: list[str] = []
        visited = self.visited

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                visited.append(self.path)
                body = f"<!doctype html><title>Clinic</title><h1>Landed on {self.path}</h1>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Served:
    """A real ``clinicore serve`` and a runtime of our own on its database, to arrange visits and to act
    as the provider through the core."""

    def __init__(self, tmp_path: Path, database_url: str | None, **settings: str) -> None:
        self.data_dir = tmp_path / "data"
        self.secret_key = remember_secret(secrets.token_urlsafe(40))
        env = clinicore_env(self.data_dir, database_url, CLINICORE_SECRET_KEY=self.secret_key, **settings)
        self.server = ServerProcess(env)
        self.database_url = database_url

    def run(self, action: Callable[[Runtime], Awaitable[T]]) -> T:
        async def main() -> T:
            settings = load_settings(
                env="development",
                data_dir=self.data_dir,
                database_url=self.database_url or "",
                secret_key=self.secret_key,
                base_url=self.server.base_url,
                redis_url=None,
            )
            runtime = Runtime.from_settings(settings)
            try:
                return await action(runtime)
            finally:
                await runtime.close()

        # A thread of its own: Playwright's sync API runs an event loop in this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, main()).result()


def _serve(tmp_path: Path, database_url: str | None, **settings: str) -> Iterator[Served]:
    _require_chromium()
    served = Served(tmp_path, database_url, **settings)
    try:
        served.server.wait_ready()
        yield served
    finally:
        served.server.stop()


@pytest.fixture
def served(tmp_path: Path, subprocess_database_url: str | None) -> Iterator[Served]:
    yield from _serve(tmp_path, subprocess_database_url)


@pytest.fixture
def served_with_a_short_missed_window(
    tmp_path: Path, subprocess_database_url: str | None
) -> Iterator[Served]:
    yield from _serve(tmp_path, subprocess_database_url, CLINICORE_MISSED_WINDOW_SECONDS=str(MISSED_WINDOW))


def shoot(page: Page, name: str) -> None:
    screenshot(page, f"patient-{name}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the {name} page is {width} px wide on a 375 px phone"


def meeting_url(served: Served, visit: ArrangedVisit) -> str:
    return f"{served.server.base_url}{visit.url}"


def take_and_decide(served: Served, patient_exams: list[PatientExam], outcome: ExamOutcome) -> None:
    async def act(runtime: Runtime) -> None:
        provider = await create_live_provider(runtime)
        for patient_exam in patient_exams:
            async with runtime.sessions() as session, session.begin():
                await lifecycle.take_exam(session, provider_id=provider.id, patient_exam_id=patient_exam.id)
                await lifecycle.decide(
                    session,
                    provider_id=provider.id,
                    patient_exam_id=patient_exam.id,
                    outcome=outcome,
                    reason=None if outcome == ExamOutcome.approved else "Not a candidate today.",
                    links=runtime.links,
                )

    served.run(act)


def test_a_patient_on_a_phone_reaches_the_waiting_room_and_lands_on_redirect_approve(
    served: Served, tmp_path: Path
) -> None:
    landing = LandingPages()
    try:
        approve = landing.url("/approved")
        visit = served.run(lambda runtime: arrange_visit(runtime, ("botox",), redirect_approve=approve))
        id_photo = tmp_path / "id.png"
        id_photo.write_bytes(PNG)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
            page.goto(meeting_url(served, visit))
            assert page.is_visible("text=Telehealth consent")
            assert page.is_visible("text=Glow Aesthetics")
            shoot(page, "consent")
            page.check("input[name=consent]")
            page.click("text=Start my visit")

            page.wait_for_selector("text=Are you currently pregnant or breastfeeding?")
            shoot(page, "questions")
            questions = page.locator("fieldset.question")
            questions.nth(0).locator("input[type=radio]").nth(1).check()  # No
            questions.nth(1).locator("input[type=checkbox]").nth(2).check()  # Other
            questions.nth(1).locator("input.other").fill("asthma")
            questions.nth(2).locator("textarea").fill("None")
            page.click("text=Continue")

            page.wait_for_selector("text=Your documents")
            shoot(page, "documents")
            page.set_input_files("input[type=file][data-label=ID]", str(id_photo))
            page.click("text=Upload")

            page.wait_for_selector("text=Waiting room")
            assert page.is_visible("text=A provider will join you shortly")
            assert page.inner_text("[data-testid=place]").strip().isdigit()
            shoot(page, "waiting-room")

            take_and_decide(served, visit.patient_exams, ExamOutcome.approved)
            page.wait_for_url(approve, timeout=20_000)
            assert "/approved" in landing.visited
            browser.close()
    finally:
        landing.stop()


def test_a_patient_chooses_a_pharmacy_and_sees_the_result_page(served: Served) -> None:
    async def arrange(runtime: Runtime) -> tuple[ArrangedVisit, Any]:
        pharmacy = await directory_pharmacy(runtime, name="Lakeside Pharmacy")
        visit = await arrange_visit(
            runtime, ("uti",), pharmacy_routing="retail", patient_chooses_pharmacy=True
        )
        await answer_all(runtime, visit.patient_exams[0])
        await attach(runtime, visit.patient_exams[0], label="ID", file_name="id.png")
        return visit, pharmacy

    visit, pharmacy = served.run(arrange)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        page.goto(meeting_url(served, visit))
        page.check("input[name=consent]")
        page.click("text=Start my visit")

        page.wait_for_selector("text=Choose your pharmacy")
        page.fill("input[name=zip_code]", pharmacy.zip_code)
        page.click("button:has-text('Search')")
        page.wait_for_selector(f"text={pharmacy.name}")
        shoot(page, "pharmacy-choice")
        page.click("text=Choose this pharmacy")

        page.wait_for_selector("text=Your pharmacy")
        assert page.is_visible(f"text={pharmacy.name}")
        shoot(page, "pharmacy-confirmation")
        page.click("text=Confirm and continue")
        page.wait_for_selector("text=Waiting room")

        take_and_decide(served, visit.patient_exams, ExamOutcome.rejected)
        page.wait_for_url("**/result?*", timeout=20_000)
        assert page.is_visible("text=could not approve")
        shoot(page, "result")

        page.goto(meeting_url(served, visit))
        assert page.is_visible("text=This visit has ended")
        shoot(page, "visit-ended")
        page.goto(f"{served.server.base_url}{meeting_path(visit.meeting.id)}?signature=0")
        assert page.is_visible("text=Link not found")
        shoot(page, "link-not-found")
        browser.close()


def test_no_provider_within_the_missed_window_sends_the_patient_to_redirect_missed(
    served_with_a_short_missed_window: Served,
) -> None:
    served = served_with_a_short_missed_window
    landing = LandingPages()
    try:
        missed = landing.url("/missed")

        async def arrange(runtime: Runtime) -> ArrangedVisit:
            visit = await arrange_visit(runtime, ("botox",), redirect_missed=missed)
            await answer_all(runtime, visit.patient_exams[0])
            await attach(runtime, visit.patient_exams[0], label="ID", file_name="id.png")
            return visit

        visit = served.run(arrange)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
            page.goto(meeting_url(served, visit))
            page.check("input[name=consent]")
            page.click("text=Start my visit")
            page.wait_for_selector("text=Waiting room")
            # Nobody takes the exam: the worker marks it Missed and the waiting room moves on.
            page.wait_for_url(missed, timeout=30_000)
            assert "/missed" in landing.visited
            browser.close()
    finally:
        landing.stop()

    async def outcome_and_events(runtime: Runtime) -> tuple[str | None, list[str]]:
        async with runtime.sessions() as session:
            exam = await session.get(PatientExam, visit.patient_exams[0].id)
            assert exam is not None
            events = await session.scalars(
                select(Event.type).where(Event.aggregate_id == str(visit.meeting.id)).order_by(Event.sequence)
            )
            return exam.outcome, list(events)

    outcome, events = served.run(outcome_and_events)
    assert outcome == ExamOutcome.missed.value
    assert events[-1] == "patient_exam.completed"  # Qualiphy's event 1, with the Missed outcome
