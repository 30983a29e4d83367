"""A client books through the widget embedded in another site, in a real headless Chromium: a page on
127.0.0.1 (another port, served by this test) holds the documented snippet, which mounts the practice's
booking page in an iframe. The day is New York's spring-forward day (the second Sunday of March, the next
one to come), when 02:00-03:00 does not exist; the practitioner works 00:00-06:00 that night. The client
(the browser in New York) picks 3:00 AM EDT, and the confirmation email says that very time. All traffic
stays on 127.0.0.1; screenshots go to the test artifacts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, time, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from clinicore.core.models import OutboundEmail
from clinicore.core.notify import service as notify_service
from clinicore.core.scheduling import catalog
from clinicore.core.scheduling.availability import LocalRange
from clinicore.core.scheduling.schemas import LocationInput, ServiceInput
from clinicore.runtime import Runtime
from tests.e2e.screens import screenshot
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_patient_meeting_browser import Served, _serve
from tests.factories import create_clinic, create_practitioner, set_booking_rules
from tests.support import free_port

pytestmark = pytest.mark.browser

EMAIL = "rita.bennett@example.com"


def next_spring_forward(today: date) -> date:
    """The next second Sunday of March after ``today`` (New York's spring-forward day)."""
    year = today.year
    while True:
        first = date(year, 3, 1)
        second_sunday = first + timedelta(days=(6 - first.weekday()) % 7 + 7)
        if second_sunday > today:
            return second_sunday
        year += 1


class EmbeddingSite:
    """Another site (127.0.0.1, its own port) whose page holds the widget's snippet."""

    def __init__(self, snippet: str) -> None:
        self.port = free_port()
        body = (
            "<!doctype html><html><head><title>Dr. Chen's practice</title></head><body>"
            f"<h1>Book with us</h1>{snippet}</body></html>"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served(tmp_path: Path, subprocess_database_url: str | None) -> Iterator[Served]:
    yield from _serve(tmp_path, subprocess_database_url)


def arrange(served: Served, day: date) -> str:
    """A New York practice whose practitioner works that Sunday night; its practice id."""

    async def act(runtime: Runtime) -> str:
        arranged = await create_clinic(runtime, time_zone="America/New_York")
        await set_booking_rules(runtime, arranged.clinic, horizon_days=400)
        await create_practitioner(
            runtime, arranged.clinic, name="Dr. Chen", weekly={6: (LocalRange(time(0), time(6)),)}
        )
        async with runtime.sessions() as session, session.begin():
            await catalog.create_service(
                session,
                clinic_id=arranged.clinic.id,
                data=ServiceInput(name="Initial Consultation", duration_minutes=60, price=Decimal("150.00")),
            )
            await catalog.create_location(
                session, clinic_id=arranged.clinic.id, data=LocationInput(name="Main Office", city="New York")
            )
        return arranged.clinic.practice_id

    return served.run(act)


def emails(served: Served) -> list[OutboundEmail]:
    async def act(runtime: Runtime) -> list[OutboundEmail]:
        async with runtime.sessions() as session:
            return list(await notify_service.emails_to(session, to_address=EMAIL))

    return served.run(act)


def test_a_client_books_on_the_dst_day_in_the_embedded_widget_and_the_email_says_the_time_chosen(
    served: Served,
) -> None:
    day = next_spring_forward(date.today())
    practice_id = arrange(served, day)
    script = f"{served.server.base_url}/static/book-embed.js"
    snippet = f'<script src="{script}" data-practice="{practice_id}" async></script>'
    site = EmbeddingSite(snippet)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(
                timezone_id="America/New_York", viewport={"width": 900, "height": 1200}
            )
            page = context.new_page()
            page.goto(site.url)
            frame = page.frame_locator("iframe")
            frame.locator("[data-testid=service]").select_option(
                label="Initial Consultation · 60 min · 150.00"
            )
            # The widget read the browser's zone; choosing the day shows that day's times.
            assert frame.locator("[data-testid=time-zone]").input_value() == "America/New_York"
            frame.locator("[data-testid=day]").fill(day.isoformat())
            slots = frame.locator("label.slot")
            slots.first.wait_for()
            labels = [text.strip() for text in slots.all_inner_texts()]
            # 00:00-06:00 local is five hours that night: no 2 AM, the hour that does not exist.
            assert labels == ["12:00 AM EST", "1:00 AM EST", "3:00 AM EDT", "4:00 AM EDT", "5:00 AM EDT"]
            frame.locator("label.slot", has_text="3:00 AM EDT").click()
            frame.locator("[data-testid=name]").fill("Rita Bennett")
            frame.locator("[data-testid=email]").fill(EMAIL)
            screenshot(page, "booking-widget-details")
            frame.locator("[data-testid=book]").click()
            frame.locator("[data-testid=booked]").wait_for()
            when = frame.locator("[data-testid=when]").inner_text()
            screenshot(page, "booking-widget-booked")
            height = page.evaluate("document.querySelector('iframe').getBoundingClientRect().height")
            browser.close()
    finally:
        site.stop()

    chosen = f"{day:%A, %B} {day.day}, {day.year} at 3:00 AM EDT"
    assert when == chosen
    [email] = emails(served)
    assert f"When: {chosen} (60 minutes)" in email.body
    assert chosen in email.subject
    assert height > 200  # the embed script grew the frame to the page
