"""A clinic user opens the exams list, one exam and the providers page on a phone (375 px), in a real
headless Chromium, after an invite made through the Qualiphy API; each page is kept as a screenshot."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.screens import screenshot
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

pytestmark = pytest.mark.browser


def _invite(base_url: str, api_key: str) -> int:
    api = f"{base_url}/qualiphy/api"
    exams = httpx.post(f"{api}/exam_list", json={"api_key": api_key}, timeout=30).json()["exams"]
    answer = httpx.post(
        f"{api}/exam_invite",
        json={
            "api_key": api_key,
            "exams": [exams[0]["id"]],
            "first_name": "Rosa",
            "last_name": "Phoneview",
            "email": "rosa.phoneview@patients.example.com",
            "dob": "1990-06-30",
            "phone_number": "+15552223232",
            "tele_state": "NY",
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    patient_exam_id: int = answer.json()["patient_exams"][0]["patient_exam_id"]
    return patient_exam_id


def test_exams_and_providers_pages_on_a_phone(tmp_path: Path, subprocess_database_url: str | None) -> None:
    _require_chromium()
    env = clinicore_env(tmp_path / "data", subprocess_database_url)
    demo = json.loads(run_clinicore("demo", "--json", env=env).stdout)
    for field in ("console_password", "qualiphy_api_key"):
        remember_secret(demo[field])
    server = ServerProcess(env)
    try:
        server.wait_ready()
        patient_exam_id = _invite(server.base_url, demo["qualiphy_api_key"])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 375, "height": 812})
            page.goto(f"{server.base_url}/console/exams")
            page.fill("input[name=email]", demo["console_email"])
            page.fill("input[name=password]", demo["console_password"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.base_url}/console/exams")
            row = page.locator(f"[data-patient-exam-id='{patient_exam_id}']")
            assert row.is_visible() and "Rosa Phoneview" in row.inner_text()
            # Nothing wider than the phone but the tables, which scroll inside themselves.
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            screenshot(page, "console-exams")

            row.locator("a").click()
            page.wait_for_url(f"{server.base_url}/console/exams/{patient_exam_id}")
            assert page.inner_text("[data-testid=exam-status]") == "pending"
            assert page.locator("[data-testid=exam-timeline] tr[data-to-status]").count() >= 1
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            screenshot(page, "console-exam")

            page.goto(f"{server.base_url}/console/providers")
            assert page.is_visible("text=Add a provider")
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            screenshot(page, "console-providers")
            browser.close()
    finally:
        server.stop()
