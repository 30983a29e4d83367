"""``python -m bench.events``: events committed -> webhooks delivered to a local receiver.

Real parts only: the database (SQLite file or a fresh PostgreSQL database), ``clinicore worker``
subprocesses, and a receiver (uvicorn) in its own process. The bench process commits the events and
reads, from the receiver, when each one arrived (both sides read the same system-wide monotonic clock).

Three figures:

1. **burst**: N events committed as fast as possible; delivery throughput = deliveries / (last arrival
   - first commit). Latencies here are mostly queueing and are printed for completeness only.
2. **paced**: events committed at half the burst throughput; commit -> delivered p50 and p99 at that
   load, the latency a receiver sees in normal operation (poll interval included).
3. **receiver**: the receiver's own accept rate, measured in the same run with wrk (or the Python
   generator) posting a webhook-sized body, and the delivery throughput as a ratio of it, with one
   connection per endpoint (up to 8) and with 8. The engine itself sends up to
   CLINICORE_WEBHOOK_ENDPOINT_CONCURRENCY requests at once to one endpoint.

``--scenario hanging`` and ``--scenario kill``: see bench/README.md.

Not a test; never collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import multiprocessing
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    DEFAULT_POSTGRES_URL,
    BenchError,
    Route,
    choose_load_generator,
    clinicore_executable,
    free_loopback_port,
    fresh_postgres_database,
)

RECEIVER_START_SECONDS = 30.0
DRAIN_TIMEOUT_SECONDS = 600.0
ACCEPT_RATE_SECONDS = 3.0
ACCEPT_RATE_CONNECTIONS = 8
HANG_SECONDS = 16.0  # longer than the 15 s delivery timeout
HANGING_PACE = 100.0  # events/s in the hanging-endpoint scenario
HANGING_SECONDS = 5.0
KILL_EVENTS = 1000
KILL_EVERY_SECONDS = 1.0
KILL_MAX_SECONDS = 180.0  # the kill loop ends by then whatever happens
KILL_MAX = 20
DRAIN_AFTER_KILLS_SECONDS = 90.0


# --- the receiver (its own process) ----------------------------------------------------------------


def receiver_app() -> Any:
    """Accepts every POST with 204 and remembers (path, webhook-id, arrival time);
    GET /__received?after=N lists what arrived after the first N."""
    received: list[tuple[str, str, float]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if not message.get("more_body"):
                break
        if scope["method"] == "GET" and scope["path"] == "/__received":
            after = int(
                dict(pair.split("=") for pair in scope["query_string"].decode().split("&") if pair).get(
                    "after", 0
                )
            )
            body = json.dumps(received[after:]).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if scope["path"] != "/accept":  # /accept is the accept-rate probe: answered, not recorded
            webhook_id = next((v.decode() for k, v in scope["headers"] if k == b"webhook-id"), "")
            received.append((scope["path"], webhook_id, time.monotonic()))
        if scope["path"].startswith("/hang"):  # a receiver that hangs until our 15 s timeout
            await asyncio.sleep(HANG_SECONDS)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


def serve_receiver(port: int) -> None:
    import uvicorn

    uvicorn.run(
        receiver_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )


@contextlib.contextmanager
def running_receiver() -> Iterator[str]:
    port = free_loopback_port()
    process = multiprocessing.get_context("spawn").Process(target=serve_receiver, args=(port,), daemon=True)
    process.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + RECEIVER_START_SECONDS
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/__received", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or not process.is_alive():
                raise BenchError("the receiver did not start")
            time.sleep(0.05)
        yield base_url
    finally:
        process.terminate()
        process.join(10)


class ArrivalLog:
    """What the receiver has seen so far, fetched incrementally."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.arrivals: list[tuple[str, str, float]] = []

    async def refresh(self, client: httpx.AsyncClient) -> int:
        answer = await client.get(f"{self.base_url}/__received", params={"after": len(self.arrivals)})
        self.arrivals.extend(tuple(item) for item in answer.json())  # type: ignore[misc]
        return len(self.arrivals)

    async def wait_for(self, client: httpx.AsyncClient, count: int) -> None:
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        while await self.refresh(client) < count:
            if time.monotonic() > deadline:
                raise BenchError(f"only {len(self.arrivals)} of {count} deliveries arrived")
            await asyncio.sleep(0.05)


# --- the run ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    events: int
    paced_seconds: float
    endpoints: int
    workers: int
    per_transaction: int
    poll_seconds: float
    database: str
    postgres_url: str


@dataclass(frozen=True)
class Phase:
    deliveries: int
    seconds: float  # first commit -> last arrival
    committing_seconds: float  # first commit -> last commit
    latencies_ms: list[float]  # sorted
    worker_cpu_seconds: float = 0.0  # CPU the worker processes used meanwhile (burst only)
    # The slowest 1 %: (latency ms, seconds after the phase's first commit it was committed).
    slowest: list[tuple[int, float]] = dataclasses.field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, percent: float) -> float:
        if not self.latencies_ms:
            return 0.0
        return self.latencies_ms[
            max(1, min(len(self.latencies_ms), math.ceil(percent / 100 * len(self.latencies_ms)))) - 1
        ]


def worker_environment(
    data_dir: Path, database_url: str, secret_key: str, poll_seconds: float
) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("CLINICORE_")}
    return environment | {
        "CLINICORE_DATA_DIR": str(data_dir),
        "CLINICORE_DATABASE_URL": database_url,
        "CLINICORE_SECRET_KEY": secret_key,
        "CLINICORE_WORKER_POLL_SECONDS": str(poll_seconds),
        "CLINICORE_ALLOW_PRIVATE_WEBHOOKS": "true",
        "CLINICORE_LOG_LEVEL": "WARNING",
    }


# ``--profile DIR``: each worker is profiled. With py-spy (on PATH, or named by $PY_SPY) a sampler is
# attached to it and writes DIR/worker-<n>.svg (a flame graph; ``--profile-format raw`` for collapsed
# stacks); without py-spy the worker runs under cProfile and writes DIR/worker-<n>.prof when it stops.
PROFILE_DIR: Path | None = None
PROFILE_FORMAT = "flamegraph"


def py_spy() -> str | None:
    return os.environ.get("PY_SPY") or shutil.which("py-spy")


def worker_command(index: int) -> list[str]:
    clinicore = str(clinicore_executable())
    if PROFILE_DIR is None or py_spy() is not None:
        return [clinicore, "worker"]
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    profile = str(PROFILE_DIR / f"worker-{index}.prof")
    return [sys.executable, "-m", "cProfile", "-o", profile, clinicore, "worker"]


def attach_profiler(index: int, pid: int) -> subprocess.Popen[bytes] | None:
    sampler = py_spy()
    if PROFILE_DIR is None or sampler is None:
        return None
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    extension = "svg" if PROFILE_FORMAT == "flamegraph" else "txt"
    output = PROFILE_DIR / f"worker-{index}.{extension}"
    return subprocess.Popen(
        [sampler, "record", "--pid", str(pid), "--format", PROFILE_FORMAT, "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def running_workers(count: int, environment: dict[str, str], log_dir: Path) -> Iterator[list[int]]:
    processes = []
    profilers = []
    logs = []
    try:
        for index in range(count):
            log = (log_dir / f"worker-{index}.log").open("wb")
            logs.append(log)
            process = subprocess.Popen(
                worker_command(index), env=environment, stdout=log, stderr=subprocess.STDOUT
            )
            processes.append(process)
            profiler = attach_profiler(index, process.pid)
            if profiler is not None:
                profilers.append(profiler)
        yield [process.pid for process in processes]
    finally:
        for profiler in profilers:  # py-spy writes its output on SIGINT
            profiler.send_signal(signal.SIGINT)
        for profiler in profilers:
            try:
                profiler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                profiler.kill()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


async def emit(
    runtime: Any, clinic_id: Any, count: int, *, per_transaction: int, pace: float | None
) -> dict[str, float]:
    """Commit ``count`` events; return each event id with its commit time (after COMMIT returned)."""
    from clinicore.core.events import service as events_service

    committed: dict[str, float] = {}
    started = time.monotonic()
    while len(committed) < count:
        size = min(per_transaction, count - len(committed))
        async with runtime.sessions() as session, session.begin():
            batch = [
                await events_service.emit(
                    session,
                    clinic_id=clinic_id,
                    type="appointment.updated",
                    aggregate_type="appointment",
                    aggregate_id=f"bench-{len(committed) + index}",
                    payload={
                        "appointment": {
                            "id": len(committed) + index,
                            "status": "confirmed",
                            "notes": "x" * 200,
                        }
                    },
                )
                for index in range(size)
            ]
        now = time.monotonic()
        committed.update((event.id, now) for event in batch)
        if pace:
            ahead = started + len(committed) / pace - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
    return committed


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time the processes have used so far (Linux /proc; 0 elsewhere)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def phase_result(
    committed: dict[str, float], arrivals: Sequence[tuple[str, str, float]], path: str | None = None
) -> Phase:
    relevant = [
        (webhook_id, at)
        for arrived_path, webhook_id, at in arrivals
        if webhook_id in committed and (path is None or arrived_path == path)
    ]
    first_arrival: dict[str, float] = {}
    for webhook_id, at in relevant:
        first_arrival.setdefault(webhook_id, at)
    latencies = sorted((at - committed[webhook_id]) * 1000 for webhook_id, at in relevant)
    seconds = max(at for _, at in relevant) - min(committed.values())
    committing = max(committed.values()) - min(committed.values())
    started = min(committed.values())
    slowest = sorted(
        ((at - committed[webhook_id]) * 1000, committed[webhook_id] - started) for webhook_id, at in relevant
    )[-max(1, len(relevant) // 100) :]
    return Phase(
        deliveries=len(relevant),
        seconds=seconds,
        committing_seconds=committing,
        latencies_ms=latencies,
        slowest=[(round(latency), round(offset, 2)) for latency, offset in slowest],
    )


async def run(options: Options, database_url: str, data_dir: Path, receiver_url: str) -> tuple[Phase, Phase]:
    from clinicore.config import load_settings
    from clinicore.core.events import service as events_service
    from clinicore.core.models import WebhookFormat
    from clinicore.core.tenancy import service as tenancy_service
    from clinicore.runtime import Runtime

    settings = load_settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secrets.token_urlsafe(40),
        allow_private_webhooks=True,
    )
    runtime = Runtime.from_settings(settings)
    log = ArrivalLog(receiver_url)
    try:
        async with runtime.sessions() as session, session.begin():
            clinic = await tenancy_service.create_clinic(session, name="Bench Clinic", time_zone="UTC")
            for index in range(options.endpoints):
                await events_service.create_endpoint(
                    session,
                    box=runtime.box,
                    clinic_id=clinic.id,
                    format=WebhookFormat.native,
                    url=f"{receiver_url}/endpoint-{index}",
                    allow_private_targets=True,
                )
        environment = worker_environment(data_dir, database_url, settings.secret_key, options.poll_seconds)
        async with httpx.AsyncClient(timeout=10) as client:
            with running_workers(options.workers, environment, data_dir) as pids:
                # Warm-up: the workers are up and delivering before anything is measured.
                await emit(runtime, clinic.id, 1, per_transaction=1, pace=None)
                await log.wait_for(client, options.endpoints)
                cpu_before = cpu_seconds(pids)
                burst_committed = await emit(
                    runtime, clinic.id, options.events, per_transaction=options.per_transaction, pace=None
                )
                await log.wait_for(client, options.endpoints * (1 + options.events))
                burst = phase_result(burst_committed, log.arrivals)
                burst = dataclasses.replace(burst, worker_cpu_seconds=cpu_seconds(pids) - cpu_before)
                pace = max(1.0, burst.per_second / options.endpoints / 2)
                paced_count = max(20, round(pace * options.paced_seconds))
                before = len(log.arrivals)
                paced_committed = await emit(runtime, clinic.id, paced_count, per_transaction=1, pace=pace)
                await log.wait_for(client, before + options.endpoints * paced_count)
                paced = phase_result(paced_committed, log.arrivals)
        return burst, paced
    finally:
        await runtime.close()


@dataclass(frozen=True)
class HangingResult:
    alone: Phase  # the fast endpoint's paced deliveries, no other endpoint
    beside_hanging: Phase  # the same, with a second endpoint that hangs for 15 s on every request


@dataclass(frozen=True)
class KillResult:
    events: int
    kills: int
    lost: int
    duplicates: int
    arrivals: int
    logged_delivered: int  # delivered attempts in the attempts log
    logged_interrupted: int  # attempts whose worker was killed before it recorded the answer
    seconds: float


async def _bench_runtime(database_url: str, data_dir: Path) -> tuple[Any, Any, str]:
    from clinicore.config import load_settings
    from clinicore.core.tenancy import service as tenancy_service
    from clinicore.runtime import Runtime

    settings = load_settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secrets.token_urlsafe(40),
        allow_private_webhooks=True,
    )
    runtime = Runtime.from_settings(settings)
    async with runtime.sessions() as session, session.begin():
        clinic = await tenancy_service.create_clinic(session, name="Bench Clinic", time_zone="UTC")
    return runtime, clinic, settings.secret_key


async def _add_endpoint(runtime: Any, clinic: Any, url: str) -> None:
    from clinicore.core.events import service as events_service
    from clinicore.core.models import WebhookFormat

    async with runtime.sessions() as session, session.begin():
        await events_service.create_endpoint(
            session,
            box=runtime.box,
            clinic_id=clinic.id,
            format=WebhookFormat.native,
            url=url,
            allow_private_targets=True,
        )


async def run_hanging(
    options: Options, database_url: str, data_dir: Path, receiver_url: str
) -> HangingResult:
    """One fast endpoint at a fixed pace, alone and then beside an endpoint that hangs for 15 s."""
    runtime, clinic, secret_key = await _bench_runtime(database_url, data_dir)
    log = ArrivalLog(receiver_url)
    fast = "/endpoint-0"
    try:
        await _add_endpoint(runtime, clinic, receiver_url + fast)
        environment = worker_environment(data_dir, database_url, secret_key, options.poll_seconds)
        count = round(HANGING_PACE * HANGING_SECONDS)
        async with httpx.AsyncClient(timeout=10) as client:
            with running_workers(options.workers, environment, data_dir) as pids:
                await emit(runtime, clinic.id, 1, per_transaction=1, pace=None)
                await log.wait_for(client, 1)
                cpu_before = cpu_seconds(pids)
                committed = await emit(runtime, clinic.id, count, per_transaction=1, pace=HANGING_PACE)
                await log.wait_for(client, 1 + count)
                alone = phase_result(committed, log.arrivals, fast)
                alone = dataclasses.replace(alone, worker_cpu_seconds=cpu_seconds(pids) - cpu_before)
                await _add_endpoint(runtime, clinic, receiver_url + "/hang")
                before = len([1 for path, _, _ in log.arrivals if path == fast])
                cpu_before = cpu_seconds(pids)
                committed = await emit(runtime, clinic.id, count, per_transaction=1, pace=HANGING_PACE)
                deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
                while len([1 for path, _, _ in log.arrivals if path == fast]) < before + count:
                    if time.monotonic() > deadline:
                        raise BenchError("the fast endpoint did not get every event")
                    await log.refresh(client)
                    await asyncio.sleep(0.05)
                beside = phase_result(committed, log.arrivals, fast)
                beside = dataclasses.replace(beside, worker_cpu_seconds=cpu_seconds(pids) - cpu_before)
        return HangingResult(alone=alone, beside_hanging=beside)
    finally:
        await runtime.close()


async def run_kills(options: Options, database_url: str, data_dir: Path, receiver_url: str) -> KillResult:
    """KILL_EVENTS events to one endpoint while the worker is SIGKILLed every second (and restarted)."""
    from sqlalchemy import func, select

    from clinicore.core.models import WebhookAttempt

    runtime, clinic, secret_key = await _bench_runtime(database_url, data_dir)
    log = ArrivalLog(receiver_url)
    try:
        await _add_endpoint(runtime, clinic, receiver_url + "/endpoint-0")
        environment = worker_environment(data_dir, database_url, secret_key, options.poll_seconds)
        clinicore = clinicore_executable()
        kills = 0
        started = time.monotonic()
        with (data_dir / "kill-workers.log").open("wb") as worker_log:

            def start_worker() -> subprocess.Popen[bytes]:
                return subprocess.Popen(
                    [str(clinicore), "worker"], env=environment, stdout=worker_log, stderr=subprocess.STDOUT
                )

            worker = start_worker()
            try:
                emitting = asyncio.create_task(
                    emit(runtime, clinic.id, KILL_EVENTS, per_transaction=5, pace=KILL_EVENTS / 5)
                )
                async with httpx.AsyncClient(timeout=10) as client:

                    def all_arrived() -> bool:
                        arrived = {webhook_id for _, webhook_id, _ in log.arrivals}
                        return emitting.done() and set(emitting.result()) <= arrived

                    while time.monotonic() - started < KILL_MAX_SECONDS and kills < KILL_MAX:
                        # A worker takes seconds to start on a busy machine: each one is killed one
                        # second after it started delivering, so every kill finds sends in flight.
                        seen = await log.refresh(client)
                        while await log.refresh(client) == seen and not all_arrived():
                            if time.monotonic() - started > KILL_MAX_SECONDS:
                                break
                            await asyncio.sleep(0.02)
                        await asyncio.sleep(KILL_EVERY_SECONDS)
                        await log.refresh(client)
                        if all_arrived():
                            break
                        worker.kill()  # SIGKILL
                        worker.wait(10)
                        kills += 1
                        worker = start_worker()
                    committed = await emitting
                    # The last worker, never killed, drains what is left.
                    deadline = time.monotonic() + DRAIN_AFTER_KILLS_SECONDS
                    while not all_arrived() and time.monotonic() < deadline:
                        await asyncio.sleep(0.1)
                        await log.refresh(client)
                    await asyncio.sleep(1.0)  # anything sent twice would arrive now
                    await log.refresh(client)
            finally:
                worker.terminate()
                try:
                    worker.wait(15)
                except subprocess.TimeoutExpired:
                    worker.kill()
        seconds = time.monotonic() - started
        ids = [webhook_id for _, webhook_id, _ in log.arrivals if webhook_id in committed]
        async with runtime.sessions() as session:
            outcomes = dict(
                (
                    await session.execute(
                        select(WebhookAttempt.outcome, func.count())
                        .where(WebhookAttempt.clinic_id == clinic.id)
                        .group_by(WebhookAttempt.outcome)
                    )
                ).all()
            )
        return KillResult(
            events=len(committed),
            kills=kills,
            lost=len(set(committed) - set(ids)),
            duplicates=len(ids) - len(set(ids)),
            arrivals=len(ids),
            logged_delivered=int(outcomes.get("delivered", 0)),
            # By value, so that the bench also runs against an engine that logs no "sending" attempts.
            logged_interrupted=int(outcomes.get("interrupted", 0)) + int(outcomes.get("sending", 0)),
            seconds=seconds,
        )
    finally:
        await runtime.close()


@dataclass(frozen=True)
class StatementCount:
    deliveries: int
    statements: int
    transactions: int
    seconds: float


STATEMENT_EVENTS = 1000


async def run_statements(database_url: str, data_dir: Path, receiver_url: str) -> StatementCount:
    """The delivery engine in this process (no cProfile, no subprocess): STATEMENT_EVENTS events
    committed at once to one endpoint, delivered by ``run_delivery_engine``, counting the SQL
    statements and transactions it runs (fan-out, claims, records, lease checks: everything)."""
    from sqlalchemy import event as sa_event
    from sqlalchemy import func, select

    from clinicore.core.models import WebhookDelivery, WebhookDeliveryStatus
    from clinicore.worker.webhooks import run_delivery_engine

    runtime, clinic, _ = await _bench_runtime(database_url, data_dir)
    log = ArrivalLog(receiver_url)
    counts = {"statements": 0, "transactions": 0}
    counting = False

    def on_statement(*_: Any) -> None:
        if counting:
            counts["statements"] += 1

    def on_commit(*_: Any) -> None:
        if counting:
            counts["transactions"] += 1

    try:
        await _add_endpoint(runtime, clinic, receiver_url + "/endpoint-0")
        await emit(runtime, clinic.id, STATEMENT_EVENTS, per_transaction=100, pace=None)
        sa_event.listen(runtime.engine.sync_engine, "before_cursor_execute", on_statement)
        sa_event.listen(runtime.engine.sync_engine, "commit", on_commit)
        stopping = asyncio.Event()
        counting = True
        started = time.monotonic()
        engine = asyncio.create_task(run_delivery_engine(runtime, stopping))
        async with httpx.AsyncClient(timeout=10) as client:
            try:
                await log.wait_for(client, STATEMENT_EVENTS)
                # Until every delivery is recorded (the last answers may still be on their way in).
                deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
                while time.monotonic() < deadline:
                    counting = False
                    async with runtime.sessions() as session:
                        pending = await session.scalar(
                            select(func.count())
                            .select_from(WebhookDelivery)
                            .where(WebhookDelivery.status == WebhookDeliveryStatus.pending)
                        )
                    counting = True
                    if not pending:
                        break
                    await asyncio.sleep(0.01)
            finally:
                seconds = time.monotonic() - started
                counting = False
                stopping.set()
                await engine
        return StatementCount(
            deliveries=STATEMENT_EVENTS,
            statements=counts["statements"],
            transactions=counts["transactions"],
            seconds=seconds,
        )
    finally:
        await runtime.close()


def receiver_accept_rate(receiver_url: str, body_size: int, *, connections: int) -> tuple[float, str]:
    generator, _note = choose_load_generator("auto", threads=1)
    route = Route(
        "/accept",
        method="POST",
        headers={"Content-Type": "application/json"},
        body="x" * body_size,
        expected_statuses=frozenset({204}),
    )
    measurement = generator.drive(receiver_url, route, connections=connections, seconds=ACCEPT_RATE_SECONDS)
    return measurement.per_second, generator.description


def main_scenario(arguments: argparse.Namespace) -> int:
    """The hanging-endpoint and SIGKILL scenarios (one worker, one fast endpoint)."""
    from clinicore.migrations import upgrade_database

    options = Options(
        events=0,
        paced_seconds=HANGING_SECONDS,
        endpoints=1,
        workers=1,
        per_transaction=1,
        poll_seconds=arguments.poll,
        database=arguments.database,
        postgres_url=arguments.postgres_url,
    )
    label = "PostgreSQL" if options.database == "postgres" else "SQLite"
    try:
        with contextlib.ExitStack() as stack:
            data_dir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="clinicore-bench-events-"))
            )
            if options.database == "postgres":
                server_url = stack.enter_context(fresh_postgres_database(options.postgres_url))
                database_url = server_url.replace("postgresql://", "postgresql+asyncpg://", 1)
            else:
                database_url = f"sqlite+aiosqlite:///{data_dir / 'clinicore.db'}"
            upgrade_database(database_url)
            receiver_url = stack.enter_context(running_receiver())
            if arguments.scenario == "statements":
                counted = asyncio.run(run_statements(database_url, data_dir, receiver_url))
                print(
                    f"== webhook delivery engine in process, {label}, {counted.deliveries} events, 1 endpoint"
                )
                print(
                    f"sql      {counted.statements} statements in {counted.transactions} transactions for "
                    f"{counted.deliveries} deliveries = {counted.statements / counted.deliveries:.2f} "
                    f"statements and {counted.transactions / counted.deliveries:.3f} transactions per "
                    f"delivery ({counted.seconds:.2f} s, "
                    f"{counted.deliveries / counted.seconds:.0f}/s in process)"
                )
            elif arguments.scenario == "hanging":
                hanging = asyncio.run(run_hanging(options, database_url, data_dir, receiver_url))
                alone, beside = hanging.alone, hanging.beside_hanging
                print(
                    f"== webhook delivery beside a hanging endpoint, {label}, 1 worker, "
                    f"poll {options.poll_seconds:g} s"
                )
                print(
                    f"alone    {alone.deliveries} events at {HANGING_PACE:.0f}/s: commit -> delivered "
                    f"p50 {alone.percentile(50):.0f} ms, p99 {alone.percentile(99):.0f} ms"
                )
                print(
                    f"beside   {beside.deliveries} events at {HANGING_PACE:.0f}/s, a second endpoint hanging "
                    f"{HANG_SECONDS:g} s on every request: p50 {beside.percentile(50):.0f} ms, "
                    f"p99 {beside.percentile(99):.0f} ms "
                    f"(p99 x{beside.percentile(99) / max(alone.percentile(99), 1e-9):.2f})"
                )
                print(
                    f"cpu      the worker used {alone.worker_cpu_seconds:.2f} s alone, "
                    f"{beside.worker_cpu_seconds:.2f} s beside the hanging endpoint"
                )
                print(
                    "slowest  1 % (ms @ s into the phase): alone "
                    + ", ".join(f"{ms}@{at:g}" for ms, at in alone.slowest)
                    + "; beside "
                    + ", ".join(f"{ms}@{at:g}" for ms, at in beside.slowest)
                )
            else:
                killed = asyncio.run(run_kills(options, database_url, data_dir, receiver_url))
                print(f"== webhook delivery with SIGKILL every {KILL_EVERY_SECONDS:g} s, {label}, 1 worker")
                print(
                    f"kills    {killed.kills} during {killed.events} events ({killed.seconds:.1f} s): "
                    f"lost {killed.lost}, duplicates {killed.duplicates}, "
                    f"copies received {killed.arrivals}; attempts logged: "
                    f"{killed.logged_delivered} delivered, "
                    f"{killed.logged_interrupted} interrupted (copies missing from the log: "
                    f"{max(0, killed.arrivals - killed.logged_delivered - killed.logged_interrupted)})"
                )
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.events", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="events in the burst (default 2000)")
    parser.add_argument(
        "--paced-seconds", type=float, default=10.0, help="length of the paced phase (default 10)"
    )
    parser.add_argument(
        "--endpoints", type=int, default=1, help="endpoints, each receiving every event (default 1)"
    )
    parser.add_argument("--workers", type=int, default=1, help="clinicore worker processes (default 1)")
    parser.add_argument(
        "--per-transaction", type=int, default=10, help="events per committed transaction (default 10)"
    )
    parser.add_argument(
        "--poll", type=float, default=0.05, help="CLINICORE_WORKER_POLL_SECONDS (default 0.05)"
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument(
        "--scenario",
        choices=("throughput", "hanging", "kill", "statements"),
        default="throughput",
        help="throughput: burst and paced (default); hanging: a fast endpoint's latency beside one that "
        "hangs for 15 s; kill: the worker SIGKILLed 1 s into each life during 1,000 events; statements: "
        "the engine in process, SQL statements and transactions per delivery",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="profile the workers: py-spy (PATH or $PY_SPY) writes DIR/worker-<n>.svg, else cProfile "
        "DIR/worker-<n>.prof (bench/profiles/ is not committed)",
    )
    parser.add_argument("--profile-format", choices=("flamegraph", "raw", "speedscope"), default="flamegraph")
    arguments = parser.parse_args(argv)
    global PROFILE_DIR, PROFILE_FORMAT
    PROFILE_DIR = arguments.profile
    PROFILE_FORMAT = arguments.profile_format
    if arguments.scenario != "throughput":
        return main_scenario(arguments)
    options = Options(
        events=arguments.events,
        paced_seconds=arguments.paced_seconds,
        endpoints=arguments.endpoints,
        workers=arguments.workers,
        per_transaction=arguments.per_transaction,
        poll_seconds=arguments.poll,
        database=arguments.database,
        postgres_url=arguments.postgres_url,
    )
    if options.database == "sqlite" and options.workers > 1:
        print(
            "note: SQLite runs one worker (the embedded one); several workers are a PostgreSQL set-up",
            file=sys.stderr,
        )

    from clinicore.migrations import upgrade_database

    try:
        with contextlib.ExitStack() as stack:
            data_dir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="clinicore-bench-events-"))
            )
            if options.database == "postgres":
                server_url = stack.enter_context(fresh_postgres_database(options.postgres_url))
                database_url = server_url.replace("postgresql://", "postgresql+asyncpg://", 1)
            else:
                database_url = f"sqlite+aiosqlite:///{data_dir / 'clinicore.db'}"
            upgrade_database(database_url)
            receiver_url = stack.enter_context(running_receiver())
            burst, paced = asyncio.run(run(options, database_url, data_dir, receiver_url))
            # The receiver on its own, with one connection per endpoint and with 8.
            matched = min(options.endpoints, ACCEPT_RATE_CONNECTIONS)
            matched_rate, generator = receiver_accept_rate(receiver_url, body_size=330, connections=matched)
            full_rate, _ = receiver_accept_rate(
                receiver_url, body_size=330, connections=ACCEPT_RATE_CONNECTIONS
            )
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1

    label = "PostgreSQL" if options.database == "postgres" else "SQLite"
    workers = f"{options.workers} worker{'s' if options.workers > 1 else ''}"
    endpoints = f"{options.endpoints} endpoint{'s' if options.endpoints > 1 else ''}"
    print(f"== webhook delivery, {label}, {workers}, {endpoints}, poll {options.poll_seconds:g} s")
    print(
        f"burst    {options.events} events in transactions of {options.per_transaction}: "
        f"{burst.deliveries} deliveries "
        f"in {burst.seconds:.2f} s (all committed after {burst.committing_seconds:.2f} s) = "
        f"{burst.per_second:.0f} deliveries/s "
        f"(commit -> delivered p50 {burst.percentile(50):.0f} ms, p99 {burst.percentile(99):.0f} ms, "
        "mostly queueing)"
    )
    print(
        f"cpu      the worker process{'es' if options.workers > 1 else ''} used "
        f"{burst.worker_cpu_seconds:.2f} s of CPU in the burst = "
        f"{1000 * burst.worker_cpu_seconds / max(burst.deliveries, 1):.2f} ms per delivery "
        f"(a ceiling of {burst.deliveries / max(burst.worker_cpu_seconds, 1e-9):.0f} deliveries/s "
        "per core the worker has to itself)"
    )
    pace = paced.deliveries / options.endpoints / max(paced.seconds, 1e-9)
    print(
        f"paced    ~{pace:.0f} events/s for {paced.seconds:.1f} s: commit -> delivered "
        f"p50 {paced.percentile(50):.0f} ms, p99 {paced.percentile(99):.0f} ms"
    )
    print(
        f"receiver accepts {matched_rate:.0f} requests/s on its own with {matched} connection"
        f"{'s' if matched > 1 else ''}, {full_rate:.0f} with "
        f"{ACCEPT_RATE_CONNECTIONS} ({generator}, same run)"
    )
    print(
        f"ratio    delivery throughput / receiver accept rate = {burst.per_second / matched_rate:.3f} "
        f"(one connection per endpoint), {burst.per_second / full_rate:.3f} "
        f"(at {ACCEPT_RATE_CONNECTIONS} connections)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
