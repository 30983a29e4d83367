"""The Qualiphy-compatible API: ``exam_list`` (one key lookup, the clinic's catalog) and ``exam_invite``
(find-or-create the client, a meeting and a patient exam, the invite email and SMS queued, an event
written: one transaction of about a dozen statements), plus ``exam_questions``.

Run with ``python -m bench --scenario qualiphy`` (or ``make bench BENCH_ARGS="--scenario qualiphy"``);
each route is printed with its throughput, p50, p99 and its ratio to ``/healthz``. Not a test.
"""

from __future__ import annotations

import json

from bench.harness import BenchError, Route, Scenario, ServerUnderTest

JSON = {"Content-Type": "application/json"}


def _first_exam(exams: list[dict[str, object]], rx_type: int) -> int:
    for exam in exams:
        if exam["rx_type"] == rx_type:
            return int(str(exam["id"]))
    raise BenchError(f"the demo clinic has no exam with rx_type {rx_type}")


def qualiphy_routes(server: ServerUnderTest) -> list[Route]:
    api_key = server.demo["qualiphy_api_key"]
    with server.http() as http:
        listed = http.post("/qualiphy/api/exam_list", json={"api_key": api_key})
    if listed.status_code != 200:
        raise BenchError(f"exam_list answered {listed.status_code}: {listed.text[:300]}")
    gfe = _first_exam(listed.json()["exams"], 1)
    invite = {
        "api_key": api_key,
        "exams": [gfe],
        "first_name": "Bench",
        "last_name": "Patient",
        "email": "bench.patient@example.com",
        "dob": "1990-06-30",
        "phone_number": "+15552223232",
        "tele_state": "NY",
        "state": "NY",
        "additional_data": {"order_id": "bench"},
    }
    return [
        Route(
            "/qualiphy/api/exam_list",
            method="POST",
            headers=JSON,
            body=json.dumps({"api_key": api_key}),
            what="key lookup (body), the clinic's active exams",
        ),
        Route(
            "/qualiphy/api/exam_questions",
            method="POST",
            headers=JSON,
            body=json.dumps({"api_key": api_key, "exam_id": gfe}),
            what="key lookup, the exam's questions and options (two queries)",
        ),
        Route(
            "/qualiphy/api/exam_invite",
            method="POST",
            headers=JSON,
            body=json.dumps(invite),
            what="client found, meeting + patient exam + event + email + SMS written in one transaction",
        ),
    ]


SCENARIO = Scenario(name="qualiphy", routes=qualiphy_routes, order=30)
