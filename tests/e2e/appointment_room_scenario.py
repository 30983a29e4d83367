"""The video room of a telehealth appointment in two headless Chromium contexts, run by
``test_appointment_room_browser.py`` inside a private network namespace that has only ``lo`` (as the
consultation call's scenario: ../shared/notes/webrtc-testing.md).

``python -m tests.e2e.appointment_room_scenario --data-dir DIR [--database-url URL]`` seeds the demo
(whose ``Follow Up`` is seen by video), starts ``clinicore serve``, books a ``Follow Up`` through the
IntakeQ Appointments API, then: the practitioner opens ``TelehealthInfo.StartUrl`` and the client the
join link of ``Invitation``; both pages show the other's video (frames arriving, time advancing); chat
goes both ways; the appointment is cancelled through the API and both pages are told the call ended.
It prints ``OK`` and exits 0, or prints what failed and exits 1.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import sync_playwright

from tests.e2e.screens import screenshot
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.video_call_scenario import (
    PHONE,
    VIDEO_ARGS,
    WAIT_MS,
    ScenarioFailed,
    send_chat,
    wait_for_video,
)
from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

API = "/intakeq/api/v1"
NEW_YORK = ZoneInfo("America/New_York")  # the demo practice: Mon-Fri 09:00-17:00


def a_weekday_morning(now: datetime) -> datetime:
    """10:00 New York on a weekday at least two days ahead (inside the demo's hours, notice and horizon)."""
    day = now.astimezone(NEW_YORK).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=NEW_YORK)


def book_follow_up(base_url: str, key: str) -> tuple[str, dict[str, str]]:
    """A ``Follow Up`` booked through the IntakeQ API: its id and its ``TelehealthInfo``."""
    with httpx.Client(base_url=base_url, headers={"X-Auth-Key": key}, timeout=30) as client:
        settings = client.get(f"{API}/appointments/settings").json()
        follow_up = next(service for service in settings["Services"] if service["Name"] == "Follow Up")
        made = client.post(
            f"{API}/clients",
            json={
                "FirstName": "Robin",
                "LastName": "Video",
                "Email": f"robin.{secrets.token_hex(4)}@example.com",
            },
        ).json()
        booked = client.post(
            f"{API}/appointments",
            json={
                "PractitionerId": settings["Practitioners"][0]["Id"],
                "ClientId": made["ClientId"],
                "ServiceId": follow_up["Id"],
                "LocationId": settings["Locations"][0]["Id"],
                "Status": "Confirmed",
                "UtcDateTime": int(a_weekday_morning(datetime.now(UTC)).timestamp() * 1000),
                "SendClientEmailNotification": False,
                "ReminderType": "OptOut",
            },
        )
        if booked.status_code != 200:
            raise ScenarioFailed(f"booking the Follow Up: {booked.status_code} {booked.text[:500]}")
        appointment = booked.json()
        info = appointment["TelehealthInfo"]
        if not info or not info["StartUrl"].startswith(f"{base_url}/rooms/"):
            raise ScenarioFailed(f"the Follow Up has no video room on this server: {info}")
        return appointment["Id"], info


def cancel(base_url: str, key: str, appointment_id: str) -> None:
    with httpx.Client(base_url=base_url, headers={"X-Auth-Key": key}, timeout=30) as client:
        answer = client.post(f"{API}/appointments/cancellation", json={"AppointmentId": appointment_id})
        if answer.status_code != 200:
            raise ScenarioFailed(f"cancelling: {answer.status_code} {answer.text[:300]}")


def scenario(data_dir: Path, database_url: str | None) -> None:
    secret_key = remember_secret(secrets.token_urlsafe(40))
    env = clinicore_env(data_dir, database_url, CLINICORE_SECRET_KEY=secret_key)
    demo = json.loads(run_clinicore("demo", "--json", env=env).stdout)
    key = remember_secret(demo["intakeq_practice_key"])
    server = ServerProcess(env)
    try:
        server.wait_ready(timeout=60)
        appointment_id, info = book_follow_up(server.base_url, key)
        [join_url] = [word for word in info["Invitation"].split() if word.startswith("http")]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *VIDEO_ARGS]
            )
            practitioner = browser.new_context(viewport=PHONE).new_page()
            client = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
            for page in (practitioner, client):
                page.set_default_timeout(WAIT_MS)
            practitioner.goto(info["StartUrl"])
            client.goto(join_url)

            wait_for_video(practitioner, "practitioner")
            wait_for_video(client, "client")
            send_chat(practitioner, "Hello Robin, can you see me?")
            client.wait_for_selector("[data-testid=chat-log] >> text=Hello Robin, can you see me?")
            send_chat(client, "Yes, I can see you.")
            practitioner.wait_for_selector("[data-testid=chat-log] >> text=Yes, I can see you.")
            screenshot(client, "appointment-room-client")

            cancel(server.base_url, key, appointment_id)
            for page in (client, practitioner):  # each socket checks every 5 seconds
                page.wait_for_selector("[data-testid=call-status] >> text=The consultation has ended.")
            if client.goto(join_url) is None or client.evaluate("document.title").find("cancelled") < 0:
                raise ScenarioFailed(
                    f"the cancelled room's page still opens: {client.evaluate('document.title')}"
                )
            browser.close()
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="")
    arguments = parser.parse_args()
    started = time.monotonic()
    try:
        scenario(arguments.data_dir, arguments.database_url or None)
    except Exception:
        traceback.print_exc()
        return 1
    print(f"OK in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
