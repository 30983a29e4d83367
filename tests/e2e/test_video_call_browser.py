"""The video call of a consultation in two headless Chromium contexts, all traffic on loopback: each
scenario runs ``tests/e2e/video_call_scenario.py`` inside a private network namespace that has only
``lo`` (``unshare -n``, as root), so that Chromium's media cannot leave 127.0.0.1
(../shared/notes/webrtc-testing.md). On PostgreSQL the namespace reaches the server through its Unix
socket (a filesystem object, shared with the namespace)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.e2e.test_console_browser import _require_chromium

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
POSTGRES_SOCKET_DIR = "/var/run/postgresql"
# Each scenario waits at most 30 s for any one thing; the whole run stays well under this.
SCENARIO_TIMEOUT_SECONDS = 110


def _require_a_private_network() -> None:
    missing = None
    if os.geteuid() != 0:
        missing = "a private network namespace needs root (unshare -n)"
    elif shutil.which("unshare") is None or shutil.which("ip") is None:
        missing = "unshare and ip (util-linux, iproute2) are needed for a private network namespace"
    elif subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode != 0:
        missing = "this machine does not allow a private network namespace (unshare -n failed)"
    if missing:
        if os.environ.get("CLINICORE_REQUIRE_BROWSER"):
            pytest.fail(f"the video call tests are required but cannot run: {missing}")
        pytest.skip(missing)


def _through_the_unix_socket(database_url: str | None) -> str:
    """The PostgreSQL URL with its host replaced by the server's Unix socket (loopback TCP of the host is
    not reachable from the namespace); an empty string for SQLite (the data dir's file)."""
    if not database_url:
        return ""
    url = make_url(database_url).set(host=None, port=None)
    url = url.update_query_dict({"host": POSTGRES_SOCKET_DIR})
    return url.render_as_string(hide_password=False)


def run_scenario(tmp_path: Path, database_url: str | None, *arguments: str) -> None:
    _require_chromium()
    _require_a_private_network()
    command = [
        "unshare",
        "-n",
        "sh",
        "-c",
        'ip link set lo up && exec "$0" -m tests.e2e.video_call_scenario "$@"',
        sys.executable,
        "--data-dir",
        str(tmp_path / "data"),
        "--database-url",
        _through_the_unix_socket(database_url),
        *arguments,
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


def test_the_patient_and_the_provider_see_each_other_chat_and_the_patient_lands_on_redirect_approve(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    run_scenario(tmp_path, subprocess_database_url)


def test_the_call_connects_with_the_patient_and_the_provider_on_two_server_processes(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    if shutil.which("redis-server") is None:
        if os.environ.get("CLINICORE_REQUIRE_BROWSER"):
            pytest.fail("redis-server is required for the two-process video call test")
        pytest.skip("redis-server is not installed")
    run_scenario(tmp_path, subprocess_database_url, "--processes", "2")


def test_a_patient_who_refuses_the_camera_is_told_sees_the_provider_and_can_chat(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    run_scenario(tmp_path, subprocess_database_url, "--no-patient-camera")


def test_an_rx_exam_goes_from_the_video_visit_through_the_pharmacy_desk_to_events_2_and_3(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    run_scenario(tmp_path, subprocess_database_url, "--rx")
