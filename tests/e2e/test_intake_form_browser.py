"""A client on a phone (375 px) fills an intake form in a real headless Chromium: every kind of question,
a file upload, a signature drawn with the mouse on the canvas and a consent document signed; submitting
lands on the integrator's page (an allowed redirect host, 127.0.0.1). Then the same through a token link,
and a redirect to a host the partner did not allow, which stays on our thank-you page. All traffic stays on
127.0.0.1; a screenshot of each page goes to the test artifacts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from clinicore.runtime import Runtime
from tests.e2e.screens import screenshot
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_patient_meeting_browser import PHONE, LandingPages, Served, _serve
from tests.web.intake.pages import PDF, ArrangedIntake, intake_of, issue_token, practice_with_form

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path: Path, subprocess_database_url: str | None) -> Iterator[Served]:
    yield from _serve(tmp_path, subprocess_database_url)


def arrange(served: Served) -> tuple[list[ArrangedIntake], str]:
    """Three intakes of one practice's form, made through the IntakeQ API, and a token for the second."""

    async def act(runtime: Runtime) -> tuple[list[ArrangedIntake], str]:
        async with httpx.AsyncClient(base_url=served.server.base_url) as client:
            practice, form_id = await practice_with_form(runtime, client)
            made = [await intake_of(practice, form_id) for _ in range(3)]
            return made, await issue_token(made[1])

    return served.run(act)


def read_through_the_api(served: Served, intake: ArrangedIntake) -> dict[str, Any]:
    """``GET /intakeq/api/v1/intakes/{id}`` with the practice key, as the integrator reads the result."""
    response = httpx.get(
        f"{served.server.base_url}/intakeq/api/v1/intakes/{intake.intake_id}",
        headers=intake.practice.headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def shoot(page: Page, name: str) -> None:
    screenshot(page, f"intake-{name}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the {name} page is {width} px wide on a 375 px phone"


def draw_signature(page: Page, question_id: str) -> None:
    canvas = page.locator(f"[data-testid=signature-{question_id}]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x, y = box["x"], box["y"]
    page.mouse.move(x + 20, y + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(
            x + 20 + step * box["width"] / 14, y + box["height"] * (0.3 if step % 2 else 0.7), steps=3
        )
    page.mouse.up()


def fill_everything(page: Page, intake: ArrangedIntake, id_file: Path, *, shots: bool = False) -> None:
    ids = intake.question_ids
    page.fill(f"#q_{ids['name']}", "Rita Bennett")
    page.fill(f"#q_{ids['notes']}", "Allergic to cats.")
    page.fill(f"#q_{ids['weight']}", "150.5")
    page.fill(f"#q_{ids['birth']}", "1990-04-12")
    page.check(f"input[name=q_{ids['smoke']}][value=No]")
    page.check(f"input[name=q_{ids['allergies']}][value=Latex]")
    page.check(f"input[name=q_{ids['allergies']}][value=Nuts]")
    page.check(f"input[name=m_{ids['pain']}_0][value=Never]")
    page.check(f"input[name=m_{ids['pain']}_1][value=Often]")
    page.set_input_files(f"#upload_{ids['photo_id']}", str(id_file))
    draw_signature(page, ids["signature"])
    page.fill(f"#consent_name_{intake.consent_id}", "Rita Bennett")
    page.check(f"input[name=consent_agree_{intake.consent_id}]")
    # The page saves in the background after each change: the upload and the signature are stored.
    page.wait_for_function(
        "id => document.querySelector(`input[name=file_${id}]`).value !== ''", arg=ids["photo_id"]
    )
    page.wait_for_selector("[data-testid=save-status]:has-text('Progress saved.')")
    if shots:
        shoot(page, "form-filled")


def test_a_client_fills_every_kind_of_question_and_lands_on_the_allowed_redirect(
    served: Served, tmp_path: Path
) -> None:
    landing = LandingPages()
    id_file = tmp_path / "id.pdf"
    id_file.write_bytes(PDF)
    try:
        (by_password, by_token, refused), token = arrange(served)
        base = served.server.base_url
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)

            # 1. The password, every question, an allowed redirect.
            done = landing.url("/done-password")
            page.goto(f"{base}{by_password.path}?{urlencode({'redirect': done})}")
            assert page.is_visible("text=Enter the 6-digit password")
            shoot(page, "password")
            page.fill("#password", "000000")
            page.click("text=Open the form")
            page.wait_for_selector("text=That password is not right")
            page.fill("#password", by_password.password)
            page.click("text=Open the form")
            page.wait_for_selector("text=Full name")
            shoot(page, "form")
            weight = by_password.question_ids["weight"]
            page.fill(f"#q_{weight}", "12abc")
            page.keyboard.press("Tab")  # the background save refuses it and marks the question
            page.wait_for_selector(f"#question-{weight} .field-error:has-text('Must be a number')")
            assert "correct the marked answer" in page.inner_text("[data-testid=save-status]")
            page.fill(f"#q_{weight}", "")
            page.click("[data-testid=submit]")  # nothing filled: every required question is marked
            page.wait_for_selector(f"[data-testid=error-{by_password.question_ids['weight']}]")
            assert page.is_visible(f"[data-testid=error-{by_password.consent_id}]")
            shoot(page, "form-refused")
            fill_everything(page, by_password, id_file, shots=True)
            page.click("[data-testid=submit]")
            page.wait_for_url(done)
            assert "/done-password" in landing.visited

            # 2. A token link (dropped from the address bar), an allowed redirect.
            done = landing.url("/done-token")
            page.goto(f"{base}{by_token.path}?{urlencode({'auth': token, 'redirect': done})}")
            page.wait_for_selector("text=Full name")
            assert page.url == f"{base}{by_token.path}"
            fill_everything(page, by_token, id_file)
            # The background save keeps the consent signature too: reloading shows it signed.
            page.wait_for_timeout(1200)  # past the save's 800 ms wait, so that the last save has started
            page.wait_for_selector("[data-testid=save-status]:has-text('Progress saved.')")
            page.reload()
            page.wait_for_selector("text=Full name")
            assert page.input_value(f"#consent_name_{by_token.consent_id}") == "Rita Bennett"
            assert page.is_checked(f"input[name=consent_agree_{by_token.consent_id}]")
            page.click("[data-testid=submit]")
            page.wait_for_url(done)

            # 3. A redirect to a host the partner did not allow: our thank-you page.
            page.goto(f"{base}{refused.path}?{urlencode({'redirect': 'https://evil.example/phish'})}")
            page.fill("#password", refused.password)
            page.click("text=Open the form")
            page.wait_for_selector("text=Full name")
            fill_everything(page, refused, id_file)
            page.click("[data-testid=submit]")
            page.wait_for_selector("[data-testid=thank-you]")
            assert page.url == f"{base}{refused.path}"
            shoot(page, "thank-you")
            browser.close()
    finally:
        landing.stop()

    for intake in (by_password, by_token, refused):
        read = read_through_the_api(served, intake)
        assert read["Status"] == "Completed"
        assert read["DateSubmitted"] is not None
        answers = {question["Id"]: question for question in read["Questions"]}
        ids = intake.question_ids
        assert answers[ids["name"]]["Answer"] == "Rita Bennett"
        assert answers[ids["weight"]]["Answer"] == "150.5"
        assert answers[ids["smoke"]]["Answer"] == "No"
        assert "Latex" in answers[ids["allergies"]]["Answer"]
        assert [row["Answers"] for row in answers[ids["pain"]]["Rows"]] == [["Never"], ["Often"]]
        assert answers[ids["photo_id"]]["Attachments"]
        assert answers[ids["signature"]]["Attachments"]
        assert read["ConsentForms"][0]["Signed"] is True
