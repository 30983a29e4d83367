"""The video call between a patient and a provider in two headless Chromium contexts, run by
``test_video_call_browser.py`` inside a private network namespace that has only ``lo`` (so that the
media stays on 127.0.0.1: ../shared/notes/webrtc-testing.md).

``python -m tests.e2e.video_call_scenario --data-dir DIR [--database-url URL] [--processes 2]``
starts the server(s) (two: sharing a private ``redis-server``, the patient on one and the provider on
the other), seeds the demo, puts a patient of the demo clinic in the waiting room, then: the provider
signs in and takes the exam; both pages show the other's video (frames arriving, time advancing); chat
goes both ways; the provider approves and the patient's page lands on ``redirect_approve``; with
``--rx`` the provider also sends the prescription and the demo pharmacy user confirms and ships it at
the pharmacy desk. A loopback receiver at the invite's ``webhook_url`` gets event 1 (and 2, 3). It prints
``OK`` and exits 0, or prints what failed and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import socket
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from clinicore.config import load_settings
from clinicore.core.models import Clinic
from clinicore.core.telehealth import catalog, lifecycle
from clinicore.core.telehealth.invites import meeting_path
from clinicore.runtime import Runtime
from tests.core.events.receiver import Receiver
from tests.e2e.screens import screenshot
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_patient_meeting_browser import LandingPages
from tests.e2e.test_pharmacy_desk_browser import confirm_and_ship, rx_meeting, wait_for_events
from tests.factories import answer_all, create_meeting
from tests.support import (
    ServerProcess,
    artifact_log,
    clinicore_env,
    free_port,
    remember_secret,
    run_clinicore,
)

PHONE = {"width": 375, "height": 812}
WAIT_MS = 30_000
VIDEO_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]
REMOTE_FRAMES = (
    "() => { const v = document.querySelector('#remote'); return v && v.videoWidth > 0 && v.currentTime > 0 }"
)


class ScenarioFailed(Exception):
    pass


@contextmanager
def private_redis() -> Iterator[str]:
    """A ``redis-server`` of our own on a free loopback port (the host's is outside the namespace)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ScenarioFailed("redis-server is not installed: the two-process call needs one")
    port = free_port()
    log = artifact_log("redis").open("w")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.05)
        else:
            raise ScenarioFailed("the private redis-server did not answer")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


async def waiting_patient(
    database_url: str,
    data_dir: Path,
    secret_key: str,
    clinic_id: str,
    redirect: str,
    webhook_url: str,
    rx: bool,
) -> tuple[int, str]:
    """A live NY exam of the demo clinic whose patient answered and waits: its id and link path. Botox,
    or with ``rx`` a GLP-1 exam routed to the demo partner pharmacy (test_pharmacy_desk_browser.py)."""
    settings = load_settings(
        env="development", data_dir=data_dir, database_url=database_url, secret_key=secret_key, redis_url=None
    )
    runtime = Runtime.from_settings(settings)
    try:
        if rx:
            created = await rx_meeting(runtime, clinic_id, webhook_url, redirect_approve=redirect)
        else:
            async with runtime.sessions() as session:
                clinic = await session.get(Clinic, uuid.UUID(clinic_id))
                assert clinic is not None
                exams = await catalog.list_exams(session, clinic_id=clinic.id)
            botox = next(exam for exam in exams if exam.title == "GFE - Botox")
            created = await create_meeting(
                runtime,
                clinic,
                [botox],
                tele_state="NY",
                first_name="Robin",
                redirect_approve=redirect,
                webhook_url=webhook_url,
            )
            await answer_all(runtime, created.patient_exam)
        async with runtime.sessions() as session, session.begin():
            await lifecycle.join_waiting_room(
                session, meeting_id=created.meeting.id, patient_exam_id=created.patient_exam.id
            )
        signed = runtime.links.sign(meeting_path(created.meeting.id))
        return created.patient_exam.id, signed.removeprefix(runtime.links.base_url)
    finally:
        await runtime.close()


def wait_for_video(page: Page, who: str) -> None:
    try:
        page.wait_for_function(REMOTE_FRAMES, timeout=WAIT_MS)
    except Exception as exc:
        status = page.evaluate("() => document.querySelector('[data-role=call-status]')?.textContent")
        raise ScenarioFailed(f"the {who} never saw the other side's video (status: {status!r})") from exc
    before = page.evaluate("() => document.querySelector('#remote').currentTime")
    page.wait_for_timeout(1000)
    after = page.evaluate("() => document.querySelector('#remote').currentTime")
    if after - before <= 0.5:
        raise ScenarioFailed(f"the {who}'s remote video stalled: currentTime {before} -> {after} over 1 s")


def send_chat(page: Page, text: str) -> None:
    page.fill("#chat-text", text)
    page.click("[data-role=chat-form] button")


def fits_a_phone(page: Page, name: str) -> None:
    screenshot(page, name)
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        raise ScenarioFailed(f"the {name} page is {width} px wide on a 375 px phone")


# A patient whose browser refuses the camera and microphone (as a person saying no to the prompt).
REFUSED_CAMERA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


def scenario(
    data_dir: Path,
    database_url: str | None,
    redis_url: str | None,
    processes: int,
    patient_camera: bool,
    rx: bool,
) -> None:
    secret_key = remember_secret(secrets.token_urlsafe(40))
    extra = {"CLINICORE_SECRET_KEY": secret_key}
    if redis_url:
        extra["CLINICORE_REDIS_URL"] = redis_url
    env = clinicore_env(data_dir, database_url, **extra)
    demo = json.loads(run_clinicore("demo", "--json", env=env).stdout)
    for field in ("console_password", "provider_password", "pharmacy_password"):
        remember_secret(demo[field])
    landing = LandingPages()
    receiver = Receiver()  # the invite's webhook_url: events 1 (and 2, 3 for an Rx exam)
    asyncio.run(receiver.start())
    servers = [ServerProcess(env) for _ in range(processes)]
    try:
        for server in servers:
            server.wait_ready(timeout=60)
        patient_server, provider_server = servers[0], servers[-1]
        approve = landing.url("/approved")
        patient_exam_id, link = asyncio.run(
            waiting_patient(
                database_url or f"sqlite+aiosqlite:///{data_dir / 'clinicore.db'}",
                data_dir,
                secret_key,
                demo["clinic_id"],
                approve,
                receiver.url(),
                rx,
            )
        )
        suffix = ("" if processes == 1 else "-two-processes") + ("" if patient_camera else "-no-camera")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *VIDEO_ARGS]
            )
            patient = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
            provider = browser.new_context(viewport=PHONE).new_page()
            for page in (patient, provider):
                page.set_default_timeout(WAIT_MS)
            if not patient_camera:
                patient.add_init_script(REFUSED_CAMERA)

            patient.goto(f"{patient_server.base_url}{link}")
            patient.wait_for_selector("text=Waiting room")

            provider.goto(f"{provider_server.base_url}/provider/sign-in")
            provider.fill("input[name=email]", demo["provider_email"])
            provider.fill("input[name=password]", demo["provider_password"])
            provider.click("button[type=submit]")
            provider.wait_for_url(f"{provider_server.base_url}/provider")
            row = provider.locator(
                f'[data-testid=waiting-queue] tr[data-patient-exam-id="{patient_exam_id}"]'
            )
            row.locator("button", has_text="Take").click()
            provider.wait_for_url(f"{provider_server.base_url}/provider/exams/{patient_exam_id}?notice=taken")

            if patient_camera:
                wait_for_video(provider, "provider")
            else:
                patient.wait_for_selector(
                    "[data-testid=media-status] >> text=camera or microphone is not available"
                )
            wait_for_video(patient, "patient")  # without a camera, the patient still sees the provider

            send_chat(provider, "Hello Robin, can you see me?")
            patient.wait_for_selector("[data-testid=chat-log] >> text=Hello Robin, can you see me?")
            send_chat(patient, "Yes, I can see you.")
            provider.wait_for_selector("[data-testid=chat-log] >> text=Yes, I can see you.")
            fits_a_phone(patient, f"video-patient{suffix}")
            fits_a_phone(provider, f"video-provider{suffix}")

            provider.check("input[name=outcome][value=approved]")
            provider.click("text=Save decision")
            exam_url = f"{provider_server.base_url}/provider/exams/{patient_exam_id}"
            provider.wait_for_url(f"{exam_url}?notice=decided")
            if rx:
                provider.click("text=Send prescription")
                provider.wait_for_url(f"{exam_url}?notice=prescribed")
            try:
                patient.wait_for_url(approve, timeout=WAIT_MS)
            except Exception as exc:
                raise ScenarioFailed(
                    f"the patient did not land on redirect_approve (at {patient.url})"
                ) from exc
            if rx:  # the pharmacy, on the patient's server, confirms and ships
                pharmacy = browser.new_context(viewport=PHONE).new_page()
                pharmacy.set_default_timeout(WAIT_MS)
                confirm_and_ship(pharmacy, patient_server.base_url, patient_exam_id, demo)
            browser.close()
        if "/approved" not in landing.visited:
            raise ScenarioFailed("the landing page was never asked for /approved")
        expected = ["1", "2", "3"] if rx else ["1"]
        events = wait_for_events(receiver, len(expected))
        if events != expected:
            raise ScenarioFailed(f"the invite's webhook received events {events}, expected {expected}")
    finally:
        landing.stop()
        asyncio.run(receiver.stop())
        for server in servers:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--no-patient-camera", action="store_true", help="the patient refuses the camera")
    parser.add_argument("--rx", action="store_true", help="an Rx exam, on through the pharmacy desk")
    arguments = parser.parse_args()
    started = time.monotonic()
    camera = not arguments.no_patient_camera
    try:
        if arguments.processes == 2:
            with private_redis() as redis_url:
                scenario(
                    arguments.data_dir, arguments.database_url or None, redis_url, 2, camera, arguments.rx
                )
        else:
            scenario(arguments.data_dir, arguments.database_url or None, None, 1, camera, arguments.rx)
    except ScenarioFailed as failure:
        print(f"FAILED: {failure}", flush=True)
        return 1
    except Exception:
        print("FAILED:", traceback.format_exc(), flush=True)
        return 1
    print(f"OK in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
