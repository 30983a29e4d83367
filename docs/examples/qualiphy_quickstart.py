"""The Qualiphy quick start ("Code walkthrough"), as a plain httpx script.

1. Get an API key (Clinicore: ``clinicore demo`` prints the demo clinic's ``api_key``).
2. Find an exam id with ``/exam_list``.
3. Send an exam invite in test mode (``state`` and ``tele_state`` ``TE``, patient "Test Approve").
4. Wait for the webhook: the result arrives as a POST to ``webhook_url``.

Runs unchanged against Qualiphy or Clinicore; only the base URL and the key differ::

    QUALIPHY_BASE_URL=http://127.0.0.1:8000/qualiphy/api QUALIPHY_API_KEY=<key> \
        python docs/examples/qualiphy_quickstart.py

Without ``WEBHOOK_URL`` the script listens for the webhook itself on 127.0.0.1 (right for a local
Clinicore; a hosted API needs a public ``WEBHOOK_URL`` and you watch that endpoint instead).
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx

BASE_URL = os.environ.get("QUALIPHY_BASE_URL", "http://127.0.0.1:8000/qualiphy/api").rstrip("/")
API_KEY = os.environ["QUALIPHY_API_KEY"]
WAIT_SECONDS = float(os.environ.get("QUALIPHY_WAIT_SECONDS", "120"))
received: queue.Queue[dict[str, Any]] = queue.Queue()


class WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.end_headers()
        received.put(json.loads(body))

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


def local_webhook_url() -> str:
    server = HTTPServer(("127.0.0.1", 0), WebhookHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/qualiphy-webhook"


def call(client: httpx.Client, endpoint: str, **body: Any) -> Any:
    response = client.post(f"{BASE_URL}/{endpoint}", json={"api_key": API_KEY, **body})
    payload = response.json()
    if response.status_code != 200:
        sys.exit(f"{endpoint} failed: {response.status_code} {payload.get('error_message')}")
    return payload


def main() -> None:
    webhook_url = os.environ.get("WEBHOOK_URL") or local_webhook_url()
    with httpx.Client(timeout=30) as client:
        # Step 2: find an exam id.
        exams = call(client, "exam_list")["exams"]
        exam = exams[0]
        print(f"exam: {exam['id']} {exam['title']} (rx_type {exam['rx_type']})")

        # Step 3: send an exam invite in test mode.
        invite = call(
            client,
            "exam_invite",
            exams=[exam["id"]],
            first_name="Test",
            last_name="Approve",
            email="test.approve@example.com",
            dob="1990-06-30",
            phone_number="+15552223232",
            tele_state="TE",
            state="TE",
            webhook_url=webhook_url,
            additional_data={"order_id": "quickstart-1"},
        )
        patient_exam_id = invite["patient_exams"][0]["patient_exam_id"]
        print(f"invite: patient_exam_id {patient_exam_id}, meeting {invite['meeting_uuid']}")
        print(f"meeting_url: {invite['meeting_url']}")

    # Step 4: wait for the webhook (a test provider decides from the patient's name).
    if os.environ.get("WEBHOOK_URL"):
        print(f"watch {webhook_url} for the result")
        return
    try:
        result = received.get(timeout=WAIT_SECONDS)
    except queue.Empty:
        sys.exit(f"no webhook within {WAIT_SECONDS:.0f} s")
    if result.get("patient_exam_id") != patient_exam_id:
        sys.exit(f"webhook for another exam: {result.get('patient_exam_id')}")
    print(f"webhook: event {result['event']}, exam_status {result['exam_status']}")
    print(f"additional_data: {json.dumps(result.get('additional_data'))}")


if __name__ == "__main__":
    main()
