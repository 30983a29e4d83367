"""Screenshots the browser tests take of each page, kept as CI artifacts (never committed): under
``$CLINICORE_TEST_ARTIFACTS/screenshots/`` (``.test-artifacts/screenshots/`` in ``make test``)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.support import ARTIFACTS

SCREENSHOTS = ARTIFACTS / "screenshots"


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ``<name>.png`` (a later run of the suite, on the other database,
    overwrites it) and answer its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
