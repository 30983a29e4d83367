"""``clinicore serve --workers N``: N API processes and the worker loop once, in a process of its own that
stops with the server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

WAIT_SECONDS = 60.0


@pytest.fixture
def env(tmp_path: Path, subprocess_database_url: str | None) -> dict[str, str]:
    return clinicore_env(tmp_path / "data", subprocess_database_url)


def qualiphy_key(env: dict[str, str]) -> str:
    result = run_clinicore("demo", "--json", env=env)
    assert result.returncode == 0
    return remember_secret(json.loads(result.stdout)["qualiphy_api_key"])


def log_lines(server: ServerProcess, text: str) -> list[str]:
    return [line for line in server.log_path.read_text().splitlines() if text in line]


def wait_for_log(server: ServerProcess, text: str) -> list[str]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if found := log_lines(server, text):
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} in the server log: {server.log_path.read_text()[-3000:]}")


def invite(base_url: str, api_key: str) -> None:
    exams = httpx.post(f"{base_url}/qualiphy/api/exam_list", json={"api_key": api_key}, timeout=30)
    exam_id = next(exam["id"] for exam in exams.json()["exams"] if exam["rx_type"] == 1)
    invited = httpx.post(
        f"{base_url}/qualiphy/api/exam_invite",
        json={
            "api_key": api_key,
            "exams": [exam_id],
            "first_name": "Ada",
            "last_name": "Workers",
            "email": "ada.workers@example.com",
            "dob": "1990-06-30",
            "phone_number": "+15552223232",
            "tele_state": "NY",
        },
        timeout=30,
    )
    assert invited.status_code == 200, invited.text


class TestServeWithSeveralProcesses:
    def test_two_api_processes_and_one_worker_loop_that_does_the_work_and_stops_with_them(
        self, env: dict[str, str]
    ) -> None:
        api_key = qualiphy_key(env)
        server = ServerProcess(env, "--workers", "2")
        try:
            server.wait_ready()
            wait_for_log(server, "worker started")
            deadline = time.monotonic() + WAIT_SECONDS
            while len(log_lines(server, "Application startup complete")) < 2:
                assert time.monotonic() < deadline, server.log_path.read_text()[-3000:]
                time.sleep(0.2)
            invite(server.base_url, api_key)
            # The invite's SMS is sent by the worker loop (the "log" provider keeps it in the outbox).
            assert any("sms.send" in line for line in wait_for_log(server, "job ran"))
            assert len(log_lines(server, "worker started")) == 1
        finally:
            server.stop()  # SIGTERM to the parent only: it stops its worker process too
        assert server.process.returncode == 0
        assert len(log_lines(server, "worker stopped")) == 1

    def test_no_embedded_worker_starts_no_worker_loop(self, env: dict[str, str]) -> None:
        server = ServerProcess(env, "--workers", "2", "--no-embedded-worker")
        try:
            server.wait_ready()
            deadline = time.monotonic() + WAIT_SECONDS
            while len(log_lines(server, "Application startup complete")) < 2:
                assert time.monotonic() < deadline, server.log_path.read_text()[-3000:]
                time.sleep(0.2)
            assert log_lines(server, "worker started") == []
        finally:
            server.stop()
