"""``python -m bench.scheduling``: the scheduling core and the QualifyBase API, measured two ways.

1. **Through the real server** (``clinicore serve`` started by the harness's pieces, driven by wrk): lead
   upserts (insert, update, unchanged), bookings (a fresh free slot per request, and the 409 path),
   the appointment list and availability, each with throughput, p50, p99 and its ratio to ``/healthz``.
   The server runs with ``CLINICORE_QUALIFYBASE_RATE_LIMIT=1000000/minute``: at the default 120 requests
   a minute per key every route would be measuring the 429 path after its first two seconds.
2. **In process, no HTTP**: ``slot_service.find_slots`` for 20 practitioners x 30 days with 5,000
   appointments that hold time, on a freshly seeded database, timed in the same run against a plain
   SELECT of the rows it has to read; both medians and their ratio are printed.

Not a scenario of ``python -m bench``: that harness strips every ``CLINICORE_*`` setting from the
server's environment (so the rate limit would stay at 120/minute) and sends one fixed body per route
(so every booking after the first two would be a 409). This module starts its own server with the
harness's functions and extends its wrk generator with per-request bodies. Requires wrk.

Not a test; never collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.harness import (
    DATABASE_TITLES,
    DEFAULT_POSTGRES_URL,
    LOOPBACK_HOSTS,
    BenchError,
    BenchOptions,
    Database,
    Measurement,
    Route,
    Scenario,
    ServerResult,
    ServerUnderTest,
    WrkLoadGenerator,
    _aligned,
    _lua_string,
    clinicore_executable,
    format_result,
    format_scaling,
    free_loopback_port,
    fresh_postgres_database,
    measure_server,
    seed_demo,
    serving,
    wait_until_healthy,
)
from bench.scheduling_seed import SeededClinic, seed_availability_clinic
from clinicore.config import load_settings
from clinicore.core.models import Appointment
from clinicore.core.scheduling import repository as scheduling_repository
from clinicore.core.scheduling import settings as booking_settings
from clinicore.core.scheduling import slots as slot_service
from clinicore.core.scheduling.availability import DayPart
from clinicore.core.scheduling.rules import MAXIMUM_LENGTH
from clinicore.migrations import upgrade_database
from clinicore.runtime import Runtime

API = "/qualifybase/api/v1"
SERVER_SETTINGS = {"CLINICORE_QUALIFYBASE_RATE_LIMIT": "1000000/minute"}
DEMO_ZONE = ZoneInfo("America/New_York")  # the demo clinic: two practitioners, Mon-Fri 09:00-17:00, 30 min
DEMO_SLOT = timedelta(minutes=30)
DEMO_FIRST_HOUR, DEMO_LAST_HOUR = 9, 17
DEMO_PRACTITIONERS = 2
DEMO_HORIZON_DAYS = 60  # the demo keeps the default booking settings
# This bench widens the demo's booking horizon to a year before it books: 8,000 free bookings, enough for
# every booking row below at a few hundred requests a second.
BENCH_HORIZON_DAYS = 365
# A wrk run gets at most this many bodies; more than a run can send on this hardware (a few hundred/s).
VARIANTS_PER_RUN = 20_000
AVAILABILITY_WARMUP_ROUNDS = 2
AVAILABILITY_BUDGET_SECONDS = 45.0


# --- per-request bodies for wrk --------------------------------------------------------------------


class Variants:
    """The varying part of request bodies, each handed out at most once across runs (warm-up included):
    a run gets the ones not sent yet, and afterwards skips every one it may have sent."""

    def __init__(self, make: Callable[[int], str], count: int | None = None) -> None:
        self.make = make
        self.count = count  # None: endless
        self.sent = 0

    def upcoming(self, limit: int) -> list[str]:
        end = self.sent + limit if self.count is None else min(self.count, self.sent + limit)
        return [self.make(index) for index in range(self.sent, end)]

    def skip(self, sent: int) -> None:
        self.sent = self.sent + sent if self.count is None else min(self.count, self.sent + sent)


@dataclass(frozen=True, kw_only=True)
class VaryingRoute(Route):
    """A route whose every request sends ``body_head + <the next variant> + body_tail``; ``connections``,
    when given, replaces the run's ``--connections`` for this route."""

    body_head: str
    body_tail: str
    variants: Variants = field(compare=False, repr=False)
    connections: int | None = None


_VARYING_BODY_LUA = """
-- Per-request bodies: thread n of N sends variants n, n + N, n + 2N, ... so no variant goes out twice.
local body_head = {head}
local body_tail = {tail}
local variants = {{
{variants}
}}
local base_setup = setup
local base_init = init
local counted_threads = 0

function setup(thread)
  base_setup(thread)
  counted_threads = counted_threads + 1
  thread:set("first_variant", counted_threads)
end

function init(args)
  base_init(args)
  next_variant = first_variant
end

function request()
  local variant = variants[(next_variant - 1) % #variants + 1]
  next_variant = next_variant + {stride}
  return wrk.format(nil, nil, nil, body_head .. variant .. body_tail)
end
"""


class VaryingBodyWrk(WrkLoadGenerator):
    """The harness's wrk generator, plus a ``request()`` function for ``VaryingRoute``s."""

    def script(self, route: Route) -> str:
        script = super().script(route)
        if not isinstance(route, VaryingRoute):
            return script
        variants = route.variants.upcoming(VARIANTS_PER_RUN)
        if not variants:
            raise BenchError(f"{route.label} ({route.what}): no unused request bodies left")
        return script + _VARYING_BODY_LUA.format(
            head=_lua_string(route.body_head),
            tail=_lua_string(route.body_tail),
            variants=",\n".join(_lua_string(variant) for variant in variants),
            stride=self.threads,
        )

    def drive(self, base_url: str, route: Route, *, connections: int, seconds: float) -> Measurement:
        if isinstance(route, VaryingRoute) and route.connections is not None:
            connections = route.connections
        measured = super().drive(base_url, route, connections=connections, seconds=seconds)
        if isinstance(route, VaryingRoute):
            # Each thread steps through every n-th variant at its own pace, so the highest one sent is at
            # most threads x (what the busiest thread sent); requests in flight when wrk stopped count too.
            route.variants.skip(self.threads * (measured.requests + measured.errors + connections))
        return measured


# --- the server and its routes ---------------------------------------------------------------------


@contextlib.contextmanager
def server_with_settings(
    *, database: Database, processes: int, postgres_url: str, redis_url: str | None = None
) -> Iterator[ServerUnderTest]:
    """As ``harness.running_server``, with ``SERVER_SETTINGS`` (and ``redis_url`` as
    ``CLINICORE_REDIS_URL``, if given) added to the server's environment."""
    clinicore = clinicore_executable()
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clinicore-bench-")))
        port = free_loopback_port()
        base_url = f"http://127.0.0.1:{port}"
        environment = {name: value for name, value in os.environ.items() if not name.startswith("CLINICORE_")}
        environment |= {"CLINICORE_DATA_DIR": str(data_dir), "CLINICORE_BASE_URL": base_url}
        environment |= SERVER_SETTINGS
        if redis_url is not None:
            environment["CLINICORE_REDIS_URL"] = redis_url
        if database == "postgres":
            environment["CLINICORE_DATABASE_URL"] = stack.enter_context(fresh_postgres_database(postgres_url))
        demo = seed_demo(clinicore, environment)
        log_path = data_dir / "server.log"
        process = stack.enter_context(
            serving(clinicore, environment, port=port, processes=processes, log_path=log_path)
        )
        wait_until_healthy(base_url, process, log_path, processes=processes)
        yield ServerUnderTest(
            base_url=base_url,
            processes=processes,
            database=database,
            demo=demo,
            environment=environment,
            clinicore=clinicore,
        )


def wire_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def demo_slots(now: datetime, horizon_days: int = DEMO_HORIZON_DAYS) -> list[tuple[datetime, datetime]]:
    """The demo clinic's 30-minute slots from tomorrow (New York) to its horizon, earliest first."""
    today = now.astimezone(DEMO_ZONE).date()
    slots = []
    for offset in range(1, horizon_days + 1):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        start = datetime(day.year, day.month, day.day, DEMO_FIRST_HOUR, tzinfo=DEMO_ZONE)
        while start.hour < DEMO_LAST_HOUR:
            slots.append((start, start + DEMO_SLOT))
            start += DEMO_SLOT
    return slots


def expect(response: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if response.status_code != status:
        raise BenchError(f"{what}: expected {status}, got {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    return body


def lead_payload(external_id: str, notes: str = "Interested in a consultation") -> dict[str, str]:
    return {
        "full_name": "Bench Lead",
        "phone": "+12125550143",
        "email": "bench.lead@example.com",
        "source": "website",
        "treatment_interest": "Dermatology",
        "notes": notes,
        "external_source": "bench",
        "external_id": external_id,
    }


def split_at(payload: dict[str, str], marker: str) -> tuple[str, str]:
    head, tail = json.dumps(payload).split(marker)
    return head, tail


def booking_variants(slots: Sequence[tuple[datetime, datetime]], practitioners: Sequence[str]) -> Variants:
    """Each free slot twice, once per demo practitioner, earliest first. One set of variants is shared by
    every booking row, so no row sends a slot another row already took; ``booking_body`` sends a variant
    as it is (no ``assigned_to``: the clinic chooses) or names its practitioner."""

    def booking_times(index: int) -> str:
        starts_at, ends_at = slots[index // DEMO_PRACTITIONERS]
        practitioner = practitioners[index % DEMO_PRACTITIONERS]
        return (
            f'"scheduled_at": "{wire_time(starts_at)}", "ends_at": "{wire_time(ends_at)}", '
            f'"assigned_to": "{practitioner}"'
        )

    return Variants(booking_times, count=len(slots) * DEMO_PRACTITIONERS)


class UnassignedVariants(Variants):
    """``booking_variants`` without ``assigned_to``, sharing their count of sent ones: slot i's two
    bookings go to whichever practitioner is free, and take the slot from both as the assigned ones do."""

    def __init__(self, assigned: Variants) -> None:
        self.assigned = assigned
        self.make = lambda index: assigned.make(index).rsplit(", ", 1)[0]
        self.count = assigned.count

    @property
    def sent(self) -> int:
        return self.assigned.sent

    @sent.setter
    def sent(self, value: int) -> None:
        self.assigned.sent = value


async def widen_booking_horizon(server: ServerUnderTest, days: int) -> None:
    """Arrange the demo clinic's booking horizon through the core, on the server's database (the console's
    settings form is the only surface that changes it)."""
    environment = server.environment
    database = (
        {"database_url": environment["CLINICORE_DATABASE_URL"]} if server.database == "postgres" else {}
    )
    settings = load_settings(
        data_dir=Path(environment["CLINICORE_DATA_DIR"]), secret_key=secrets.token_urlsafe(40), **database
    )
    runtime = Runtime.from_settings(settings)
    try:
        clinic_id = uuid.UUID(server.demo["clinic_id"])
        async with runtime.sessions() as session, session.begin():
            current = await booking_settings.get_booking_settings(session, clinic_id=clinic_id)
            await booking_settings.update_booking_settings(
                session,
                clinic_id=clinic_id,
                buffer_before_minutes=current.buffer_before_minutes,
                buffer_after_minutes=current.buffer_after_minutes,
                minimum_notice_minutes=current.minimum_notice_minutes,
                horizon_days=days,
                default_length_minutes=current.default_length_minutes,
                slot_interval_minutes=current.slot_interval_minutes,
            )
    finally:
        await runtime.close()


def scheduling_routes(server: ServerUnderTest) -> list[Route]:
    """Arrange the leads and the taken slot through the API, then the routes to drive, in order."""
    json_headers = server.bearer("qualifybase_api_key") | {"Content-Type": "application/json"}
    run = secrets.token_hex(4)
    asyncio.run(widen_booking_horizon(server, BENCH_HORIZON_DAYS))
    with server.http() as client:
        client.headers.update(json_headers)
        booking_lead = expect(client.post(f"{API}/leads", json=lead_payload(f"booking-{run}")), 201, "lead")
        updated_id, unchanged_id = f"updated-{run}", f"unchanged-{run}"
        expect(client.post(f"{API}/leads", json=lead_payload(updated_id)), 201, "lead to update")
        unchanged = lead_payload(unchanged_id)
        expect(client.post(f"{API}/leads", json=unchanged), 201, "lead to leave unchanged")
        slots = demo_slots(datetime.now(UTC), BENCH_HORIZON_DAYS)
        taken, free = slots[0], slots[1:]
        booking = {"lead_id": booking_lead["id"], "title": "Bench consultation"}
        taken_booking = booking | {"scheduled_at": wire_time(taken[0]), "ends_at": wire_time(taken[1])}
        practitioners = [
            str(
                expect(client.post(f"{API}/appointments", json=taken_booking), 201, f"booking {n + 1}")[
                    "assigned_to"
                ]
            )
            for n in range(DEMO_PRACTITIONERS)
        ]
        expect(client.post(f"{API}/appointments", json=taken_booking), 409, "booking a taken slot")

    marker = "@variant@"
    insert_head, insert_tail = split_at(lead_payload(marker), marker)
    update_head, update_tail = split_at(lead_payload(updated_id, notes=marker), marker)
    booking_head = json.dumps(booking)[:-1] + ", "
    return [
        Route(
            "/api/me",
            headers=server.bearer("native_api_key"),
            what="the native API's key lookup: the scale-out row of issue 17",
        ),
        Route(
            f"{API}/me",
            headers=server.bearer("qualifybase_api_key"),
            what="auth only: key lookup and rate limit, the floor of every route below",
        ),
        VaryingRoute(
            f"{API}/leads",
            method="POST",
            headers=json_headers,
            body_head=insert_head,
            body_tail=insert_tail,
            variants=Variants(lambda index: f"insert-{run}-{index}"),
            expected_statuses=frozenset({201}),
            what="upsert, insert: a new external_id each request; insert, lead.created",
        ),
        VaryingRoute(
            f"{API}/leads",
            method="POST",
            headers=json_headers,
            body_head=update_head,
            body_tail=update_tail,
            variants=Variants(lambda index: f"note {run}-{index}"),
            expected_statuses=frozenset({200}),
            what="upsert, update: one external_id, new notes each request; lead.updated",
        ),
        Route(
            f"{API}/leads",
            method="POST",
            headers=json_headers,
            body=json.dumps(unchanged),
            expected_statuses=frozenset({200}),
            what="upsert, unchanged: the same payload each request; nothing written",
        ),
        *booking_routes(json_headers, booking_head, booking_variants(free, practitioners)),
        Route(
            f"{API}/appointments",
            method="POST",
            headers=json_headers,
            body=json.dumps(taken_booking),
            expected_statuses=frozenset({409}),
            what="conflict path: both practitioners taken, lock, re-check, 409",
        ),
        Route(
            f"{API}/appointments?limit=50",
            headers=server.bearer("qualifybase_api_key"),
            what="first page of 50, after the bookings above",
        ),
        Route(
            f"{API}/availability",
            headers=server.bearer("qualifybase_api_key"),
            what="5 earliest free slots, after the bookings above",
        ),
    ]


def booking_routes(headers: dict[str, str], body_head: str, assigned: Variants) -> list[VaryingRoute]:
    """A new free slot per request: the clinic choosing the practitioner, then the booking naming one;
    each with every connection of the run and with one (more connections must not book fewer)."""
    unassigned = UnassignedVariants(assigned)
    rows = [
        (
            unassigned,
            None,
            "book a new free slot, no assigned_to: lock both, re-check the rules, insert, event",
        ),
        (unassigned, 1, "the same, 1 connection"),
        (assigned, None, "book a new free slot, assigned_to: lock one, re-check, insert, event"),
        (assigned, 1, "the same, 1 connection"),
    ]
    return [
        VaryingRoute(
            f"{API}/appointments",
            method="POST",
            headers=headers,
            body_head=body_head,
            body_tail="}",
            variants=variants,
            connections=connections,
            expected_statuses=frozenset({201}),
            what=what,
        )
        for variants, connections, what in rows
    ]


def run_with_varying_bodies(
    options: BenchOptions,
    scenario: Scenario,
    out: Callable[[str], None],
    *,
    after_each: Callable[[ServerResult], None] | None = None,
    redis_url: str | None = None,
) -> None:
    """Start a server per process count, drive ``scenario`` with wrk and per-request bodies, print."""
    executable = shutil.which("wrk")
    if executable is None:
        raise BenchError("wrk is not on PATH (apt-get install -y wrk): per-request bodies need it")
    generator = VaryingBodyWrk(executable, threads=options.threads)
    results: list[ServerResult] = []
    for processes in options.processes:
        with server_with_settings(
            database=options.database,
            processes=processes,
            postgres_url=options.postgres_url,
            redis_url=redis_url,
        ) as server:
            result = measure_server(server, [scenario], generator, options)
        results.append(result)
        out("")
        out(format_result(result, generator=generator, options=options))
        if after_each is not None:
            after_each(result)
    if len(results) > 1:
        out("")
        out(format_scaling(results))


def run_http(options: BenchOptions, out: Callable[[str], None], *, redis_url: str | None = None) -> None:
    def bookings_used(result: ServerResult) -> None:
        bookings = [
            m for m in result.measurements if isinstance(m.route, VaryingRoute) and m.route.connections
        ]
        for single in bookings:
            # Each 1-connection row follows the row it repeats with every connection.
            index = result.measurements.index(single)
            many = result.measurements[index - 1]
            out(
                f"{single.route.label} ({many.route.what.split(':')[0]}): {many.per_second:.0f} req/s with "
                f"{options.connections} connections, {single.per_second:.0f} with 1: "
                f"x{many.per_second / single.per_second if single.per_second else float('nan'):.2f}"
            )
        first = bookings[0].route if bookings else None
        if isinstance(first, VaryingRoute) and first.variants.count is not None:
            variants = first.variants
            out(
                f"{variants.count} free bookings from tomorrow to the {BENCH_HORIZON_DAYS}-day horizon the "
                f"bench gives the demo (2 practitioners x 16 slots a weekday); the booking rows used at most "
                f"{variants.sent}"
            )

    scenario = Scenario(name="scheduling", routes=scheduling_routes)
    run_with_varying_bodies(options, scenario, out, after_each=bookings_used, redis_url=redis_url)


# --- availability in process -------------------------------------------------------------------------


Probe = Callable[[AsyncSession], Awaitable[str]]  # runs one timed read, returns what it found


@dataclass(frozen=True)
class Timing:
    what: str
    seconds: list[float]
    result: str

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p90_ms(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)] * 1000


def availability_probes(
    seeded: SeededClinic,
) -> dict[str, Probe]:
    """What is timed, each in its own session and transaction (as a request runs it)."""
    window_start, window_end = seeded.window

    def appointment_rows(*, bounded: bool) -> Probe:
        # The rows availability has to read: the clinic's appointments that hold time in the window,
        # the same three columns, materialised. ``bounded`` adds a lower bound on starts_at (an appointment
        # lasts at most a day), which lets the (clinic_id, starts_at) index skip the clinic's past.
        query = select(Appointment.practitioner_id, Appointment.starts_at, Appointment.ends_at).where(
            Appointment.clinic_id == seeded.clinic_id,
            Appointment.starts_at < window_end,
            Appointment.ends_at > window_start,
            scheduling_repository.holds_time(),
        )
        if bounded:
            query = query.where(Appointment.starts_at >= window_start - MAXIMUM_LENGTH)

        async def read(session: AsyncSession) -> str:
            rows = (await session.execute(query)).all()
            return f"{len(rows)} rows"

        return read

    def slots(limit: int, preference: DayPart | None = None) -> Probe:
        async def find(session: AsyncSession) -> str:
            found = await slot_service.find_slots(
                session, clinic_id=seeded.clinic_id, limit=limit, preference=preference, clock=seeded.clock
            )
            return f"{len(found)} slots"

        return find

    return {
        "plain SELECT of the appointments in the window": appointment_rows(bounded=False),
        "the same SELECT, starts_at bounded below too": appointment_rows(bounded=True),
        "find_slots limit=100": slots(100),
        "find_slots limit=100 preference=evening": slots(100, "evening"),
        "find_slots limit=5 (the API default)": slots(5),
    }


async def time_availability(
    database_url: str, data_dir: Path, *, rounds: int, history: int
) -> tuple[SeededClinic, list[Timing]]:
    settings = load_settings(
        data_dir=data_dir, database_url=database_url, secret_key=secrets.token_urlsafe(40)
    )
    runtime = Runtime.from_settings(settings)
    try:
        seeded = await seed_availability_clinic(runtime, history=history)
        if not settings.is_sqlite:
            # What autovacuum does soon after a bulk load; the planner would otherwise guess row counts.
            async with runtime.engine.begin() as connection:
                await connection.exec_driver_sql("ANALYZE")
        probes = availability_probes(seeded)
        seconds: dict[str, list[float]] = {what: [] for what in probes}
        results: dict[str, str] = {}
        deadline = time.monotonic() + AVAILABILITY_BUDGET_SECONDS
        for round_number in range(AVAILABILITY_WARMUP_ROUNDS + rounds):
            # Interleaved, so that whatever else the machine does lands on every probe alike.
            for what, probe in probes.items():
                started = time.perf_counter()
                async with runtime.sessions() as session, session.begin():
                    results[what] = await probe(session)
                if round_number >= AVAILABILITY_WARMUP_ROUNDS:
                    seconds[what].append(time.perf_counter() - started)
            if round_number >= AVAILABILITY_WARMUP_ROUNDS + 4 and time.monotonic() > deadline:
                break
        return seeded, [Timing(what, seconds[what], results[what]) for what in probes]
    finally:
        await runtime.close()


def format_availability(database: Database, seeded: SeededClinic, timings: Sequence[Timing]) -> str:
    baseline = timings[0]
    rows = [("what", "median ms", "p90 ms", "x select", "answer")]
    rows += [
        (
            timing.what,
            f"{timing.median_ms:.1f}",
            f"{timing.p90_ms:.1f}",
            f"{timing.median_ms / baseline.median_ms:.2f}",
            timing.result,
        )
        for timing in timings
    ]
    days = (seeded.last_day - seeded.first_day).days + 1
    title = (
        f"== availability in process, {DATABASE_TITLES[database]}: {seeded.practitioners} practitioners x "
        f"{days} days, {seeded.appointments} appointments ({seeded.history} more before the window), "
        "clock frozen at "
        f"{seeded.clock.now().astimezone(DEMO_ZONE):%a %Y-%m-%d %H:%M} New York; "
        f"{len(baseline.seconds)} interleaved rounds after {AVAILABILITY_WARMUP_ROUNDS} warm-up"
    )
    return "\n".join([title, *_aligned(rows, left=frozenset({0, 4}))])


def run_availability(
    database: Database, postgres_url: str, *, rounds: int, history: int, out: Callable[[str], None]
) -> None:
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clinicore-bench-slots-")))
        if database == "postgres":
            server_url = stack.enter_context(fresh_postgres_database(postgres_url))
            database_url = server_url.replace("postgresql://", "postgresql+asyncpg://", 1)
        else:
            database_url = f"sqlite+aiosqlite:///{data_dir / 'clinicore.db'}"
        upgrade_database(database_url)
        seeded, timings = asyncio.run(
            time_availability(database_url, data_dir, rounds=rounds, history=history)
        )
    out("")
    out(format_availability(database, seeded, timings))


# --- command line ----------------------------------------------------------------------------------


def loopback_redis(url: str | None) -> str | None:
    if url is None:
        return None
    parsed = urlsplit(url)
    if parsed.scheme != "redis" or parsed.hostname not in LOOPBACK_HOSTS:
        raise BenchError(f"--redis-url must be a redis:// URL on 127.0.0.1, not {url!r}")
    return url


def process_counts(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of integers, not {text!r}"
        ) from None


def stop_on_termination_signals() -> None:
    """SIGTERM and SIGHUP as KeyboardInterrupt, so the server (in its own session) is stopped and the
    database dropped on the way out, as on Ctrl-C."""

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scheduling",
        description="The QualifyBase API under load through the real server, then availability in process.",
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per route (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time per route (default 1)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--processes", type=process_counts, default=(1,), help="server processes (default 1)")
    parser.add_argument(
        "--rounds", type=int, default=30, help="timed availability rounds, at most 45 s of them (default 30)"
    )
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="also seed this many completed appointments before the window (default 0)",
    )
    parser.add_argument("--only", choices=("http", "availability"), help="run only one of the two parts")
    parser.add_argument(
        "--redis-url",
        help="a local Redis (redis://127.0.0.1:6379/<db>) for the server: limits shared by its processes",
    )
    arguments = parser.parse_args(argv)
    out = functools.partial(print, flush=True)
    stop_on_termination_signals()
    started = time.monotonic()
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
        if not 1 <= arguments.rounds <= 1000:
            raise BenchError("--rounds must be in [1, 1000]")
        if not 0 <= arguments.history <= 1_000_000:
            raise BenchError("--history must be in [0, 1000000]")
        out(
            f"bench.scheduling: {DATABASE_TITLES[options.database]}; {os.cpu_count() or 0} CPU cores shared "
            f"by the server, wrk and the database; load average {os.getloadavg()[0]:.2f} before the run"
        )
        if arguments.only != "availability":
            run_http(options, out, redis_url=loopback_redis(arguments.redis_url))
        if arguments.only != "http":
            run_availability(
                options.database,
                options.postgres_url,
                rounds=arguments.rounds,
                history=arguments.history,
                out=out,
            )
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; server stopped and its data removed", file=sys.stderr)
        return 130
    out(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
