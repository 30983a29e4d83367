"""A person signs in to the console and creates a key, in a real headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.screens import screenshot
from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CLINICORE_REQUIRE_BROWSER"):
            pytest.fail("Debian's chromium is required for the browser tests (/usr/bin/chromium)")
        pytest.skip("chromium is not installed")


def test_a_clinic_user_signs_in_and_creates_a_key(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    _require_chromium()
    env = clinicore_env(tmp_path / "data", subprocess_database_url)
    demo = json.loads(run_clinicore("demo", "--json", env=env).stdout)
    remember_secret(demo["console_password"])
    server = ServerProcess(env)
    try:
        server.wait_ready()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.goto(f"{server.base_url}/console/keys")
            assert page.url.startswith(f"{server.base_url}/login")
            page.fill("input[name=email]", demo["console_email"])
            page.fill("input[name=password]", demo["console_password"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.base_url}/console/keys")

            page.select_option("select[name=kind]", "qualifybase")
            page.fill("input[name=name]", "Browser key")
            page.click("text=Create key")
            secret = remember_secret(page.inner_text("[data-testid=new-key-secret]"))
            assert secret.startswith("qbk_live_")
            assert page.is_visible("text=Copy it now")

            page.goto(f"{server.base_url}/console/keys")
            assert secret not in page.content()
            assert page.is_visible("text=Browser key")
            screenshot(page, "console-keys")
            browser.close()
    finally:
        server.stop()
