"""Single sign-on in a real headless Chromium: a partner's ephemeral token signs a practice's user in once
and lands on the form templates, a second use is refused, the session ends after an hour (the server's
clock is moved), and a partner page on another port that embeds the console in an iframe signs it out
with ``postMessage("iq_logout")``.

The console is served in this process (uvicorn on a loopback port, in a thread) so that the test holds
its clock."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Frame, Page, sync_playwright

from clinicore.app import create_app
from clinicore.config import Settings
from clinicore.core.models import ApiKeyKind, Partner
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.e2e.screens import screenshot
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from tests.support import free_port, remember_secret

pytestmark = pytest.mark.browser

START = datetime(2031, 3, 3, 13, 0, tzinfo=UTC)


class Console:
    """The app on a loopback port, in a thread, with a clock the test moves."""

    def __init__(self, settings: Settings) -> None:
        self.clock = FrozenClock(START)
        self.runtime = Runtime.from_settings(settings, clock=self.clock)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                create_app(self.runtime),
                host="127.0.0.1",
                port=self.port,
                log_config=None,
                access_log=False,
                lifespan="off",
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the console did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


class ParentPage:
    """A partner's page on another port that embeds the console and can ask it to sign out."""

    def __init__(self) -> None:
        self.iframe_src = ""
        parent = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = (
                    "<!doctype html><html><body><h1>Partner app</h1>"
                    f'<iframe id="console" src="{parent.iframe_src}" width="900" height="600"></iframe>'
                    '<button id="signout" onclick="document.getElementById(\'console\')'
                    ".contentWindow.postMessage('iq_logout', '*')\">Sign out</button>"
                    "</body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


async def _partner(settings: Settings, frame_origin: str) -> str:
    runtime = Runtime.from_settings(settings)
    try:
        async with runtime.sessions() as session, session.begin():
            partner: Partner = await tenancy_service.create_partner(
                session, name=f"SSO partner {secrets.token_hex(4)}"
            )
            partner.frame_origins = [frame_origin]
            created = await tenancy_service.create_key(
                session,
                box=runtime.box,
                kind=ApiKeyKind.intakeq_partner,
                name="partner",
                partner_id=partner.id,
            )
        return remember_secret(created.secret)
    finally:
        await runtime.close()


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[Console, ParentPage, str]]:
    _require_chromium()
    console, parent = Console(settings), ParentPage()
    key = asyncio.run(_partner(settings, parent.origin))
    console.start()
    parent.start()
    try:
        yield console, parent, key
    finally:
        parent.stop()
        console.stop()


def _ephemeral(console: Console, key: str, practice_id: str) -> dict[str, str]:
    response = httpx.get(
        f"{console.base_url}/intakeq/api/partner/practice/{practice_id}/ephemeral",
        headers={"X-Auth-Key": key},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    token: dict[str, str] = response.json()
    remember_secret(token["Token"])
    return token


def _sign_in_url(console: Console, token: dict[str, str], **extra: str) -> str:
    query = "&".join(
        f"{name}={value}" for name, value in {"token": token["Token"], "userId": token["UserId"]}.items()
    )
    more = "".join(f"&{name}={value}" for name, value in extra.items())
    return f"{console.base_url}/signin/authenticate?{query}{more}"


def _console_frame(page: Page, console: Console) -> Frame:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame.url.startswith(console.base_url):
                return frame
        page.wait_for_timeout(50)
    raise AssertionError("the console frame never loaded")


def test_sso_once_templates_an_hour_and_iq_logout_from_a_parent_page(
    served: tuple[Console, ParentPage, str],
) -> None:
    console, parent, key = served
    practice = httpx.post(
        f"{console.base_url}/intakeq/api/partner/practice",
        json={
            "PracticeName": "Sunrise Clinic",
            "FirstName": "Ada",
            "LastName": "Stone",
            "Email": "ada@sunrise.example",
        },
        headers={"X-Auth-Key": key},
        timeout=30,
    ).json()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            # The token signs in once and lands on the form templates.
            token = _ephemeral(console, key, practice["Id"])
            page = browser.new_page()
            page.goto(_sign_in_url(console, token, path="templates"))
            page.wait_for_url(f"{console.base_url}/console/forms")
            assert page.is_visible("text=Sign out")
            screenshot(page, "sso-templates")

            # The same link again, in another browser: refused.
            stranger = browser.new_context().new_page()
            refused = stranger.goto(_sign_in_url(console, token))
            assert refused is not None and refused.status == 401
            assert stranger.is_visible("text=Cannot sign in")
            assert stranger.url.startswith(f"{console.base_url}/signin/authenticate")

            # An hour later the session is over.
            console.clock.advance(timedelta(minutes=59))
            page.goto(f"{console.base_url}/console/intakes")
            assert page.url == f"{console.base_url}/console/intakes"
            console.clock.advance(timedelta(minutes=1))
            page.goto(f"{console.base_url}/console/intakes")
            assert page.url.startswith(f"{console.base_url}/login")

            # Embedded by the partner's page (another port), the console signs out on iq_logout.
            parent.iframe_src = _sign_in_url(
                console, _ephemeral(console, key, practice["Id"]), path="intakes"
            )
            host = browser.new_context().new_page()
            host.goto(f"{parent.origin}/")
            frame = _console_frame(host, console)
            frame.wait_for_url(f"{console.base_url}/console/intakes")
            frame.wait_for_selector("text=Sign out")
            screenshot(host, "sso-iframe")
            assert host.context.request.get(f"{console.base_url}/console", max_redirects=0).status == 200
            host.click("#signout")
            frame.wait_for_url(f"{console.base_url}/signin/out")
            assert frame.is_visible("text=Signed out")
            # The session is over on the server: the console now sends this browser to sign in.
            after = host.context.request.get(f"{console.base_url}/console", max_redirects=0)
            assert after.status == 303 and after.headers["location"].startswith("/login")
        finally:
            browser.close()
