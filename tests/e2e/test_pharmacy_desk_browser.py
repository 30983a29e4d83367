"""Rx exams carried past the prescription by hand, in a real headless Chromium at phone width, with the
demo's accounts and the invite's webhook on a loopback receiver (no video: the video call has its own
browser tests).

- Partner pharmacy: a live NY exam of the demo clinic routed to the demo partner pharmacy waits; the demo
  provider takes it, approves it and sends the prescription at the provider desk; the demo pharmacy
  user signs in at the pharmacy desk, confirms it and ships it with carrier and tracking number: events
  1, 2 and 3.
- Retail pharmacy: the clinic's staff open the prescription in the console, print it (PDF) and mark it
  transmitted: events 1 and 2."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.config import load_settings
from clinicore.core.models import Clinic, Exam
from clinicore.core.pharmacy import service as pharmacy_service
from clinicore.core.telehealth import catalog, lifecycle, providers
from clinicore.runtime import Runtime
from tests.core.events.receiver import Receiver
from tests.core.telehealth.prescribed import RETAIL_ITEM, SHIPPING, approved_and_prescribed
from tests.e2e.screens import screenshot
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from tests.factories import RETAIL_PHARMACY_ROUTING, ArrangedMeeting, answer_all, create_meeting
from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
GLP1 = "GLP-1 Weight Loss (Semaglutide)"
UTI = "Urgent Care - UTI"
DEMO_PHARMACY = "Evergreen Compounding Pharmacy"
TRACKING = "1Z999AA10123456784"


@contextlib.asynccontextmanager
async def _demo_runtime(database_url: str, data_dir: Path) -> AsyncIterator[Runtime]:
    """A runtime on the served demo's database and secret key."""
    runtime = Runtime.from_settings(
        load_settings(env="development", data_dir=data_dir, database_url=database_url, redis_url=None)
    )
    try:
        yield runtime
    finally:
        await runtime.close()


async def _demo_exam(session: AsyncSession, clinic_id: str, title: str) -> tuple[Clinic, Exam]:
    clinic = await session.get(Clinic, uuid.UUID(clinic_id))
    assert clinic is not None
    exam = next(
        exam for exam in await catalog.list_exams(session, clinic_id=clinic.id) if exam.title == title
    )
    return clinic, exam


async def rx_meeting(runtime: Runtime, clinic_id: str, webhook_url: str, **meeting: Any) -> ArrangedMeeting:
    """A live NY GLP-1 exam of the demo clinic, routed to the demo pharmacy's first order set and
    shipped to the patient, with the invite's webhook at ``webhook_url``; its patient answered."""
    async with runtime.sessions() as session:
        clinic, glp1 = await _demo_exam(session, clinic_id, GLP1)
        pharmacy = await pharmacy_service.partner_pharmacy_by_name(session, name=DEMO_PHARMACY)
        assert pharmacy is not None
        order_sets = await pharmacy_service.order_sets_for_exam(
            session, clinic_id=clinic.id, pharmacy_id=pharmacy.id, exam_id=glp1.id
        )
    created = await create_meeting(
        runtime,
        clinic,
        [glp1],
        tele_state="NY",
        first_name="Robin",
        webhook_url=webhook_url,
        pharmacy_routing="partner",
        pharmacy_id=pharmacy.id,
        order_set_id=order_sets[0].id,
        **SHIPPING,
        **meeting,
    )
    await answer_all(runtime, created.patient_exam)
    return created


async def waiting_rx_exam(database_url: str, data_dir: Path, clinic_id: str, webhook_url: str) -> int:
    """``rx_meeting``, its patient waiting for a provider."""
    async with _demo_runtime(database_url, data_dir) as runtime:
        created = await rx_meeting(runtime, clinic_id, webhook_url)
        async with runtime.sessions() as session, session.begin():
            await lifecycle.join_waiting_room(
                session, meeting_id=created.meeting.id, patient_exam_id=created.patient_exam.id
            )
        return created.patient_exam.id


async def _retail_prescription(
    database_url: str, data_dir: Path, clinic_id: str, provider_email: str, webhook_url: str
) -> uuid.UUID:
    """A live NY UTI exam of the demo clinic approved by the demo provider and prescribed to the invite's
    retail pharmacy, with the invite's webhook at ``webhook_url``."""
    async with _demo_runtime(database_url, data_dir) as runtime:
        async with runtime.sessions() as session:
            clinic, uti = await _demo_exam(session, clinic_id, UTI)
            provider = await providers.provider_by_email(session, email=provider_email)
            assert provider is not None
        prescribed = await approved_and_prescribed(
            runtime,
            clinic,
            uti,
            provider,
            [RETAIL_ITEM],
            first_name="Robin",
            webhook_url=webhook_url,
            **RETAIL_PHARMACY_ROUTING,
        )
        return prescribed.prescription.id


def _sign_in(page: Page, base_url: str, desk: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/{desk}")
    assert page.url.startswith(f"{base_url}/{desk}/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/{desk}")


def _prescribe(page: Page, base_url: str, patient_exam_id: int, demo: dict[str, str]) -> None:
    _sign_in(page, base_url, "provider", demo["provider_email"], demo["provider_password"])
    page.locator(f'[data-testid=waiting-queue] tr[data-patient-exam-id="{patient_exam_id}"] button').click()
    exam_url = f"{base_url}/provider/exams/{patient_exam_id}"
    page.wait_for_url(f"{exam_url}?notice=taken")
    page.check("input[name=outcome][value=approved]")
    page.click("text=Save decision")
    page.wait_for_url(f"{exam_url}?notice=decided")
    page.click("text=Send prescription")
    page.wait_for_url(f"{exam_url}?notice=prescribed")


def confirm_and_ship(page: Page, base_url: str, patient_exam_id: int, demo: dict[str, str]) -> None:
    page.goto(f"{base_url}/pharmacy")
    screenshot(page, "pharmacy-sign-in")
    _sign_in(page, base_url, "pharmacy", demo["pharmacy_email"], demo["pharmacy_password"])
    row = page.locator("[data-testid=to-confirm] tr", has_text=f"#{patient_exam_id}")
    assert row.is_visible()
    screenshot(page, "pharmacy-prescriptions")
    row.locator("a").click()
    page.wait_for_url(f"{base_url}/pharmacy/prescriptions/*")
    assert page.is_visible("text=Robin") and page.is_visible("text=Ship to: 1 Main St")
    screenshot(page, "pharmacy-prescription")
    page.click("text=Confirm prescription")
    page.wait_for_url("**?notice=confirmed")
    assert page.inner_text("[data-testid=prescription-status]") == "confirmed"
    page.fill("input[name=carrier]", "UPS")
    page.fill("input[name=tracking_number]", TRACKING)
    page.fill("input[name=delivery_service]", "UPS Ground")
    screenshot(page, "pharmacy-ship-form")
    page.click("text=Save shipment")
    page.wait_for_url("**?notice=shipped")
    assert page.inner_text("[data-testid=prescription-status]") == "shipped"
    assert TRACKING in page.inner_text("[data-testid=shipments]")
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "pharmacy-shipped")


def _print_and_transmit(page: Page, base_url: str, prescription_id: uuid.UUID, demo: dict[str, str]) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", demo["console_email"])
    page.fill("input[name=password]", demo["console_password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/console")
    page.goto(f"{base_url}/console/prescriptions")
    row = page.locator(f'[data-testid=to-transmit] tr[data-prescription-id="{prescription_id}"]')
    assert row.is_visible()
    screenshot(page, "console-prescriptions")
    row.locator("a").click()
    page.wait_for_url(f"{base_url}/console/prescriptions/{prescription_id}")
    pdf = page.request.get(base_url + (page.get_attribute("[data-testid=print]", "href") or ""))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    screenshot(page, "console-prescription")
    page.click("text=Mark transmitted")
    page.wait_for_url("**?notice=transmitted")
    assert page.inner_text("[data-testid=prescription-status]") == "transmitted"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "console-prescription-transmitted")


def wait_for_events(receiver: Receiver, count: int, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(receiver.received) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return [str(webhook.json()["event"]) for webhook in receiver.received]


@dataclasses.dataclass
class ServedDemo:
    demo: dict[str, str]
    data_dir: Path
    database_url: str
    receiver: Receiver  # the invite's webhook
    server: ServerProcess  # started; ``wait_ready`` before browsing


@pytest.fixture
def served(tmp_path: Path, subprocess_database_url: str | None) -> Iterator[ServedDemo]:
    """``clinicore demo`` then ``clinicore serve`` on its data, and a loopback webhook receiver."""
    _require_chromium()
    data_dir = tmp_path / "data"
    env = clinicore_env(data_dir, subprocess_database_url)
    demo = json.loads(run_clinicore("demo", "--json", env=env).stdout)
    for field in ("console_password", "provider_password", "pharmacy_password"):
        remember_secret(demo[field])
    database_url = subprocess_database_url or f"sqlite+aiosqlite:///{data_dir / 'clinicore.db'}"
    receiver = Receiver()
    asyncio.run(receiver.start())
    server = ServerProcess(env)
    try:
        yield ServedDemo(demo, data_dir, database_url, receiver, server)
    finally:
        server.stop()
        asyncio.run(receiver.stop())


def _browse(*steps: Callable[[Page], None]) -> None:
    """Each step in its own phone-sized browser context."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for step in steps:
            step(browser.new_context(viewport=PHONE).new_page())
        browser.close()


def test_an_rx_exam_is_prescribed_confirmed_and_shipped_by_hand(served: ServedDemo) -> None:
    demo, base_url = served.demo, served.server.base_url
    patient_exam_id = asyncio.run(
        waiting_rx_exam(served.database_url, served.data_dir, demo["clinic_id"], served.receiver.url())
    )
    served.server.wait_ready()
    _browse(
        lambda page: _prescribe(page, base_url, patient_exam_id, demo),
        lambda page: confirm_and_ship(page, base_url, patient_exam_id, demo),
    )
    assert wait_for_events(served.receiver, 3) == ["1", "2", "3"]
    shipped = served.receiver.received[2].json()
    assert shipped["patient_exam_id"] == patient_exam_id
    assert TRACKING in json.dumps(shipped)


def test_a_retail_prescription_is_printed_and_marked_transmitted_in_the_console(served: ServedDemo) -> None:
    demo = served.demo
    prescription_id = asyncio.run(
        _retail_prescription(
            served.database_url,
            served.data_dir,
            demo["clinic_id"],
            demo["provider_email"],
            served.receiver.url(),
        )
    )
    served.server.wait_ready()
    _browse(lambda page: _print_and_transmit(page, served.server.base_url, prescription_id, demo))
    assert wait_for_events(served.receiver, 2) == ["1", "2"]
