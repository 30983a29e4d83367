"""The video room of a telehealth appointment in two headless Chromium contexts, all traffic on loopback:
``tests/e2e/appointment_room_scenario.py`` runs inside a private network namespace that has only ``lo``,
as the consultation call's scenarios do (``test_video_call_browser.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_console_browser import _require_chromium
from tests.e2e.test_video_call_browser import (
    ROOT,
    SCENARIO_TIMEOUT_SECONDS,
    _require_a_private_network,
    _through_the_unix_socket,
)

pytestmark = pytest.mark.browser


def test_the_practitioner_and_the_client_see_each_other_chat_and_a_cancel_ends_the_call(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    _require_chromium()
    _require_a_private_network()
    command = [
        "unshare",
        "-n",
        "sh",
        "-c",
        'ip link set lo up && exec "$0" -m tests.e2e.appointment_room_scenario "$@"',
        sys.executable,
        "--data-dir",
        str(tmp_path / "data"),
        "--database-url",
        _through_the_unix_socket(subprocess_database_url),
    ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=SCENARIO_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "OK in" in result.stdout
