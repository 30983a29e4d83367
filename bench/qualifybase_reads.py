"""QualifyBase's reads in ``python -m bench``: ``GET /me`` (key lookup and rate limit), the first page of
``GET /appointments`` and ``GET /availability`` for one day, after ``BOOKINGS`` bookings made through the
API (so the list has rows and the day's availability has taken slots to step over).

The server runs with a QualifyBase rate limit no bench reaches, so every figure is the route's, never a
429's: a million a *second* rather than ``python -m bench.scheduling``'s million a minute, because the
limiter's moving window keeps every hit it holds and costs more per request the more it holds (a minute
of this bench is tens of thousands; production's 120 a minute holds at most 120). Not a test.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from bench.harness import BenchError, Route, Scenario, ServerUnderTest
from bench.scheduling import (
    API,
    DEMO_PRACTITIONERS,
    demo_slots,
    expect,
    lead_payload,
    wire_time,
)

SERVER_SETTINGS = {"CLINICORE_QUALIFYBASE_RATE_LIMIT": "1000000/second"}
BOOKINGS = 64  # 32 slots, each taken by both demo practitioners: a bit over two days of the demo's week


def qualifybase_read_routes(server: ServerUnderTest) -> list[Route]:
    headers = server.bearer("qualifybase_api_key")
    slots = demo_slots(datetime.now(UTC))
    if len(slots) * DEMO_PRACTITIONERS < BOOKINGS:
        raise BenchError("the demo clinic has fewer free slots than the bench books")
    with server.http() as client:
        client.headers.update(headers)
        lead = expect(
            client.post(f"{API}/leads", json=lead_payload(f"reads-{secrets.token_hex(4)}")), 201, "lead"
        )
        for index in range(BOOKINGS):
            starts_at, ends_at = slots[index // DEMO_PRACTITIONERS]
            booking = {
                "lead_id": lead["id"],
                "title": "Bench consultation",
                "scheduled_at": wire_time(starts_at),
                "ends_at": wire_time(ends_at),
            }
            expect(client.post(f"{API}/appointments", json=booking), 201, f"booking {index + 1}")
    # The first day with a taken slot: its free slots are the ones between the taken ones.
    first_day = slots[0][0].date().isoformat()
    return [
        Route(f"{API}/me", headers=headers, what="key lookup and rate limit: the floor of the rows below"),
        Route(
            f"{API}/appointments?limit=50",
            headers=headers,
            what=f"the first page of 50 of {BOOKINGS} appointments",
        ),
        Route(
            f"{API}/availability?from={first_day}&limit=5",
            headers=headers,
            what="5 earliest free slots from a day with taken ones",
        ),
    ]


SCENARIO = Scenario(
    name="qualifybase_reads", routes=qualifybase_read_routes, order=40, server_environment=SERVER_SETTINGS
)
