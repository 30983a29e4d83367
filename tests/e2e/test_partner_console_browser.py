"""The demo partner signs in to the partner console, changes its brand colour, and sees it on its own
console and on its practice's clinic console, in a real headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.e2e.screens import screenshot
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

pytestmark = pytest.mark.browser

NEW_COLOUR = "#0a7d3c"
NEW_COLOUR_RGB = "rgb(10, 125, 60)"


def _topbar_colour(page: Page) -> str:
    colour: str = page.eval_on_selector(".topbar", "element => getComputedStyle(element).backgroundColor")
    return colour


def test_a_partner_changes_its_brand_colour_and_its_practice_wears_it(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    _require_chromium()
    env = clinicore_env(tmp_path / "data", subprocess_database_url)
    demo = json.loads(run_clinicore("demo", "--json", env=env).stdout)
    remember_secret(demo["console_password"])
    remember_secret(demo["partner_console_password"])
    server = ServerProcess(env)
    try:
        server.wait_ready()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{server.base_url}/partner/brand")
            assert page.url.startswith(f"{server.base_url}/partner/login")
            page.fill("input[name=email]", demo["partner_console_email"])
            page.fill("input[name=password]", demo["partner_console_password"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.base_url}/partner/brand")
            assert page.is_visible("text=Acme Health Forms · Partner console")
            assert page.input_value("textarea[name=allowed_redirect_hosts]").splitlines()[0] == "127.0.0.1"

            page.fill("input[name=color]", NEW_COLOUR)
            page.click("text=Save")
            page.wait_for_url(f"{server.base_url}/partner/brand?notice=brand-saved")
            assert page.is_visible("text=Brand saved.")
            assert _topbar_colour(page) == NEW_COLOUR_RGB

            page.goto(f"{server.base_url}/partner")
            assert page.is_visible("text=Demo Clinic")
            screenshot(page, "partner-console-practices")

            clinic = browser.new_page(viewport={"width": 1280, "height": 900})
            clinic.goto(f"{server.base_url}/console")
            clinic.fill("input[name=email]", demo["console_email"])
            clinic.fill("input[name=password]", demo["console_password"])
            clinic.click("button[type=submit]")
            clinic.wait_for_url(f"{server.base_url}/console")
            assert _topbar_colour(clinic) == NEW_COLOUR_RGB
            screenshot(clinic, "clinic-console-in-partner-brand")
            browser.close()
    finally:
        server.stop()
