"""Run after the suite (``make test-logs``): the captured logs of the whole run hold no key or password."""

from __future__ import annotations

import pytest

from tests.support import ARTIFACTS

pytestmark = pytest.mark.logscan


def test_no_key_or_password_created_in_the_run_appears_in_any_log() -> None:
    secrets = {
        line.strip()
        for path in ARTIFACTS.glob("secrets-*.txt")
        for line in path.read_text().splitlines()
        if len(line.strip()) >= 12
    }
    logs = sorted(ARTIFACTS.glob("*.log"))
    assert len(secrets) >= 20, f"the run recorded too few secrets to mean anything ({len(secrets)})"
    assert logs, "the run captured no logs"
    total = 0
    hits: list[str] = []
    for path in logs:
        text = path.read_text(errors="replace")
        total += len(text)
        hits += [f"{path.name}: {secret[:6]}…" for secret in secrets if secret in text]
    assert total > 0, "the captured logs are empty"
    assert hits == []
