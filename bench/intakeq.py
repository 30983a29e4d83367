"""``python -m bench.intakeq``: the IntakeQ Appointments API on the real server, driven by wrk.

Routes: ``GET /appointments`` (the first page of 100, newest first, after every booking below),
``GET /appointments/settings`` (locations, services, practitioners), ``GET /clients`` (the first page),
and ``POST /appointments`` with a new free slot in every request (30-minute ``Follow Up`` slots of the
demo practice's two practitioners, from tomorrow to its booking horizon: lock, every booking rule,
insert, reminders planned, event), plus the conflict path (a slot already taken: every check, then the
refusal). Each with throughput, p50, p99 and its ratio to ``/healthz``.

Uses the scheduling bench's machinery (a server with wrk and per-request bodies); requires wrk. Not a
test; never collected by pytest.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import secrets
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bench.harness import (
    DATABASE_TITLES,
    DEFAULT_POSTGRES_URL,
    BenchError,
    BenchOptions,
    Route,
    Scenario,
    ServerUnderTest,
)
from bench.scheduling import (
    DEMO_PRACTITIONERS,
    Variants,
    VaryingRoute,
    demo_slots,
    expect,
    run_with_varying_bodies,
)

API = "/intakeq/api/v1"
JSON = {"Content-Type": "application/json"}


def milliseconds(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)


def booking_variants(slots: Sequence[tuple[datetime, datetime]], practitioner_ids: Sequence[str]) -> Variants:
    """Each free slot once per practitioner, so no request books a time that is already taken."""

    def booking(index: int) -> str:
        starts_at, _ends_at = slots[index // len(practitioner_ids)]
        practitioner = practitioner_ids[index % len(practitioner_ids)]
        return f'"PractitionerId": "{practitioner}", "UtcDateTime": {milliseconds(starts_at)}'

    return Variants(booking, count=len(slots) * len(practitioner_ids))


def intakeq_routes(server: ServerUnderTest) -> list[Route]:
    """Arrange a client and a taken slot through the API, then the routes to drive, in order."""
    practice = {"X-Auth-Key": server.demo["intakeq_practice_key"]}
    with server.http() as client:
        client.headers.update(practice | JSON)
        settings = expect(client.get(f"{API}/appointments/settings"), 200, "appointment settings")
        follow_up = next(
            (service for service in settings["Services"] if service["Name"] == "Follow Up"), None
        )
        if (
            follow_up is None
            or not settings["Locations"]
            or len(settings["Practitioners"]) < DEMO_PRACTITIONERS
        ):
            raise BenchError(
                f"the demo practice lacks its Follow Up service, location or practitioners: {settings}"
            )
        practitioner_ids = [practitioner["Id"] for practitioner in settings["Practitioners"]]
        run = secrets.token_hex(4)
        made = expect(
            client.post(
                f"{API}/clients",
                json={"FirstName": "Bench", "LastName": "Client", "Email": f"bench.{run}@example.com"},
            ),
            200,
            "client",
        )
        booking = {
            "ClientId": made["ClientId"],
            "ServiceId": follow_up["Id"],
            "LocationId": settings["Locations"][0]["Id"],
            "Status": "Confirmed",
            "SendClientEmailNotification": False,
            "ReminderType": "OptOut",
        }
        slots = demo_slots(datetime.now(UTC))
        taken, free = slots[0], slots[1:]
        taken_booking = booking | {
            "PractitionerId": practitioner_ids[0],
            "UtcDateTime": milliseconds(taken[0]),
        }
        expect(client.post(f"{API}/appointments", json=taken_booking), 200, "booking")
        refused = client.post(f"{API}/appointments", json=taken_booking)
        if refused.status_code != 400:
            raise BenchError(
                f"booking a taken slot: expected 400, got {refused.status_code}: {refused.text[:300]}"
            )

    booking_head = json.dumps(booking)[:-1] + ", "
    return [
        VaryingRoute(
            f"{API}/appointments",
            method="POST",
            headers=practice | JSON,
            body_head=booking_head,
            body_tail="}",
            variants=booking_variants(free, practitioner_ids),
            expected_statuses=frozenset({200}),
            what="book a new free slot: lock, every booking rule, insert, reminders, event",
        ),
        Route(
            f"{API}/appointments",
            method="POST",
            headers=practice | JSON,
            body=json.dumps(taken_booking),
            expected_statuses=frozenset({400}),
            what="conflict path: the slot is taken, every check, then the 400",
        ),
        Route(
            f"{API}/appointments",
            headers=practice,
            what="first page of 100, newest first, after the bookings above",
        ),
        Route(f"{API}/appointments/settings", headers=practice, what="locations, services, practitioners"),
        Route(f"{API}/clients", headers=practice, what="first page of the practice's clients"),
    ]


def run(options: BenchOptions, out: Callable[[str], None]) -> None:
    run_with_varying_bodies(options, Scenario(name="intakeq", routes=intakeq_routes), out)


def main(argv: list[str]) -> int:
    from bench.__main__ import process_counts, stop_on_termination_signals

    parser = argparse.ArgumentParser(
        prog="python -m bench.intakeq",
        description="The IntakeQ Appointments API under load through the real server.",
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per route (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time per route (default 1)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--processes", type=process_counts, default=(1,), help="server processes (default 1)")
    arguments = parser.parse_args(argv)
    stop_on_termination_signals()
    out = functools.partial(print, flush=True)
    try:
        options = BenchOptions(
            seconds=arguments.seconds,
            warmup_seconds=arguments.warmup,
            connections=arguments.connections,
            threads=arguments.threads,
            processes=arguments.processes,
            database=arguments.database,
            postgres_url=arguments.postgres_url,
            generator="wrk",
        )
        out(
            f"bench.intakeq: {DATABASE_TITLES[options.database]}; {os.cpu_count() or 0} CPU cores shared "
            f"by the server, wrk and the database; load average {os.getloadavg()[0]:.2f} before the run"
        )
        run(options, out)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv[1:]))
