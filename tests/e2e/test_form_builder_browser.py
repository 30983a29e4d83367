"""A clinic user builds a form in the console's form builder, in a real headless Chromium: a section, a
text question, a choice question (moved up), a consent document; saves it, reopens it, and the IntakeQ
Forms API lists it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.screens import screenshot
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

pytestmark = pytest.mark.browser


def test_a_form_built_in_the_browser_is_saved_reopened_and_listed_by_the_forms_api(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    _require_chromium()
    env = clinicore_env(tmp_path / "data", subprocess_database_url)
    demo = json.loads(run_clinicore("demo", "--json", env=env).stdout)
    remember_secret(demo["console_password"])
    practice_key = remember_secret(demo["intakeq_practice_key"])
    server = ServerProcess(env)
    try:
        server.wait_ready()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{server.base_url}/console/forms/new")
            page.fill("input[name=email]", demo["console_email"])
            page.fill("input[name=password]", demo["console_password"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.base_url}/console/forms/new")

            page.fill("input[name=name]", "Browser intake")
            page.fill("input[name='sections.0.title']", "About you")
            page.fill("input[name='sections.0.questions.0.text']", "Full name")
            page.check("input[name='sections.0.questions.0.required']")
            # A short-text question has no choices: the script hides them (and does not post them).
            expect(page.locator("textarea[name='sections.0.questions.0.choices']")).to_be_hidden()

            page.click(
                "[data-section] button[data-builder=add_question]"
            )  # no round trip: the script adds it
            page.fill("input[name='sections.0.questions.1.text']", "Do you smoke?")
            page.select_option("select[name='sections.0.questions.1.kind']", "single_choice")
            choices = page.locator("textarea[name='sections.0.questions.1.choices']")
            expect(choices).to_be_visible()
            choices.fill("Yes\nNo")
            # Moving it up renumbers the fields: the posted names say the order.
            page.locator("[data-question]").nth(1).locator("button[data-builder=move_up]").click()
            expect(page.locator("input[name='sections.0.questions.0.text']")).to_have_value("Do you smoke?")

            page.click("button[data-builder=add_consent]")
            page.fill("input[name='consent_documents.0.name']", "HIPAA Release")
            page.fill(
                "textarea[name='consent_documents.0.html']",
                "<p>I consent to treatment.</p><script>alert('x')</script>",
            )
            page.click("[data-testid=save-form]")
            page.wait_for_url("**/console/forms/*?notice=created")
            assert page.inner_text("[data-testid=form-name]") == "Browser intake"
            questions = page.locator("[data-testid=form-question]")
            expect(questions).to_have_count(2)
            assert "Do you smoke?" in questions.nth(0).inner_text()
            assert "Full name" in questions.nth(1).inner_text()
            assert "I consent to treatment." in page.inner_text("[data-testid=consent-document]")
            screenshot(page, "console-form-view")
            form_id = page.url.split("/console/forms/", 1)[1].split("?", 1)[0]

            page.goto(f"{server.base_url}/console/forms/{form_id}/edit")
            expect(page.locator("input[name=name]")).to_have_value("Browser intake")
            expect(page.locator("input[name='sections.0.title']")).to_have_value("About you")
            expect(page.locator("input[name='sections.0.questions.1.required']")).to_be_checked()
            expect(page.locator("textarea[name='sections.0.questions.0.choices']")).to_have_value("Yes\nNo")
            html = page.locator("textarea[name='consent_documents.0.html']").input_value()
            assert "script" not in html and "I consent to treatment." in html
            screenshot(page, "console-form-builder")
            browser.close()

        listed = httpx.get(
            f"{server.base_url}/intakeq/api/v1/questionnaires", headers={"X-Auth-Key": practice_key}
        )
        assert listed.status_code == 200, listed.text
        assert {"Id": form_id, "Name": "Browser intake", "Archived": False} in listed.json()
    finally:
        server.stop()
