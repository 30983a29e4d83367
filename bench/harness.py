"""The bench machinery: start the real ``clinicore serve``, seed it, drive each route with a load
generator running in a separate process, and print throughput, p50 and p99 per route.

A bench module declares a ``Scenario`` (a name and a function that builds its ``Route`` list against
the seeded server) as its module-level ``SCENARIO``; ``python -m bench`` finds it. Every route's
throughput is also printed as a ratio to ``/healthz``, the framework ceiling, measured first on the
same server.

Everything here targets 127.0.0.1 only, and every loop is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import math
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import asyncpg
import httpx
from sqlalchemy.engine import URL, make_url

LOOPBACK = "127.0.0.1"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
Database = Literal["sqlite", "postgres"]
DATABASE_TITLES: dict[str, str] = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

SERVER_START_SECONDS = 90.0
DEMO_SEED_SECONDS = 180.0
SERVER_STOP_SECONDS = 15.0
REQUEST_TIMEOUT_SECONDS = 10.0
UVICORN_STARTUP_COMPLETE = "Application startup complete."
# The Python generator stops at this many requests even if its time is not up.
PYTHON_GENERATOR_MAX_REQUESTS = 2_000_000


class BenchError(Exception):
    """The bench cannot go on; the message says why."""


@dataclass(frozen=True)
class Route:
    """One request driven repeatedly: method, path on the server, headers and an optional body."""

    path: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    expected_statuses: frozenset[int] = frozenset({200})
    what: str = ""  # what the route costs, printed beside its figures

    def __post_init__(self) -> None:
        # A path, never a URL: the host is always the local server under test.
        if not self.path.startswith("/") or self.path.startswith("//"):
            raise ValueError(f"route path must start with a single '/': {self.path!r}")
        if any(c in text for text in (self.path, *self.headers, *self.headers.values()) for c in "\r\n"):
            raise ValueError(f"{self.label}: line breaks in the path or a header would split the request")

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


CEILING = Route("/healthz", what="framework ceiling: no database, no auth")


@dataclass(frozen=True)
class ServerUnderTest:
    """A started, seeded and healthy server. Scenarios build their routes from it."""

    base_url: str
    processes: int
    database: Database
    demo: Mapping[str, str]  # the object printed by ``clinicore demo --json``
    environment: Mapping[str, str]  # the environment the server runs with, for ``cli``
    clinicore: Path
    process_group: int | None = None  # the server's processes, for their CPU time

    def bearer(self, demo_field: str = "native_api_key") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.demo[demo_field]}"}

    def http(self) -> httpx.Client:
        """A client for arranging data through the APIs before a scenario's routes are driven."""
        return httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT_SECONDS)

    def cli(self, *arguments: str, timeout: float = 120.0) -> str:
        """Run ``clinicore <arguments>`` against this server's database and return its standard output."""
        completed = subprocess.run(
            [str(self.clinicore), *arguments],
            env=dict(self.environment),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            raise BenchError(
                f"clinicore {arguments[0]} failed ({completed.returncode}):\n{completed.stderr[-2000:]}"
            )
        return completed.stdout


@dataclass(frozen=True)
class Scenario:
    """A named route list. ``routes`` is called once per started server and may arrange data first."""

    name: str
    routes: Callable[[ServerUnderTest], Sequence[Route]]
    order: int = 100  # scenarios run in (order, name) order; the foundation is 0
    # Settings the server needs for these routes (e.g. a rate limit no bench would stay under), added to
    # its environment; they must hold for every scenario's routes, as one server serves them all.
    server_environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Measurement:
    route: Route
    scenario: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, timeouts and statuses outside the route's expected ones
    # CPU seconds the server's processes used during the measured run (None when not known): per request,
    # it moves far less than req/s with what else the machine runs.
    server_cpu_seconds: float | None = None

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.server_cpu_seconds is None or self.requests == 0:
            return None
        return self.server_cpu_seconds / self.requests * 1e6

    def ratio_to(self, ceiling: Measurement) -> float:
        return self.per_second / ceiling.per_second if ceiling.per_second > 0 else 0.0


@dataclass(frozen=True)
class ServerResult:
    database: Database
    processes: int
    measurements: list[Measurement]
    # /healthz of the reference apps (bench/baseline_apps.py) on the same uvicorn, measured just before
    baselines: list[Measurement] = field(default_factory=list)

    @property
    def ceiling(self) -> Measurement:
        return self.measurements[0]


@dataclass(frozen=True)
class BenchOptions:
    seconds: float = 5.0
    warmup_seconds: float = 1.0
    connections: int = 32
    threads: int = 1
    processes: tuple[int, ...] = (1, 2)
    database: Database = "sqlite"
    postgres_url: str = DEFAULT_POSTGRES_URL
    generator: Literal["auto", "wrk", "python"] = "auto"

    def __post_init__(self) -> None:
        checks = [
            (0 < self.seconds <= 300, "--seconds must be in (0, 300]"),
            (0 <= self.warmup_seconds <= 60, "--warmup must be in [0, 60]"),
            (1 <= self.connections <= 1024, "--connections must be in [1, 1024]"),
            (
                1 <= self.threads <= min(16, self.connections),
                "--threads must be in [1, min(16, connections)]",
            ),
            (
                bool(self.processes) and all(1 <= n <= 16 for n in self.processes),
                "--processes must be 1..16 each",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise BenchError(message)


# --- load generators ---------------------------------------------------------------------------


class LoadGenerator(Protocol):
    description: str

    def drive(self, base_url: str, route: Route, *, connections: int, seconds: float) -> Measurement: ...


def _lua_string(value: str) -> str:
    """A Lua string literal for any text: everything but plain characters as 3-digit decimal escapes."""
    plain = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_./:=")
    return '"' + "".join(chr(byte) if byte in plain else f"\\{byte:03d}" for byte in value.encode()) + '"'


_WRK_SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
local expected = {{ {expected} }}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
end

function response(status, headers, body)
  if not expected[status] then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local unexpected_total = 0
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + thread:get("unexpected")
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format("BENCH_RESULT %.0f %.0f %.0f %.0f %.0f %.0f\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), socket_errors, unexpected_total))
end
"""


class WrkLoadGenerator:
    """``wrk`` (C, epoll, keep-alive connections) with a Lua script for method, headers, body and the
    count of unexpected statuses; latencies come from wrk's own histogram (microseconds)."""

    def __init__(self, executable: str, *, threads: int) -> None:
        self.executable = executable
        self.threads = threads
        self.description = f"wrk, {threads} thread{'s' if threads > 1 else ''}"

    def script(self, route: Route) -> str:
        headers = "\n".join(
            f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in route.headers.items()
        )
        return _WRK_SCRIPT.format(
            method=_lua_string(route.method),
            body=_lua_string(route.body) if route.body is not None else "nil",
            headers=headers,
            expected=", ".join(f"[{status}] = true" for status in sorted(route.expected_statuses)),
        )

    def drive(self, base_url: str, route: Route, *, connections: int, seconds: float) -> Measurement:
        with tempfile.TemporaryDirectory(prefix="clinicore-bench-wrk-") as scratch:
            # The script may hold a key: it lives in a private directory removed right after the run.
            script = Path(scratch) / "route.lua"
            script.write_text(self.script(route))
            command = [
                self.executable,
                f"--threads={self.threads}",
                f"--connections={connections}",
                f"--duration={max(1, round(seconds))}s",
                f"--timeout={REQUEST_TIMEOUT_SECONDS:.0f}s",
                f"--script={script}",
                f"{base_url}{route.path}",
            ]
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=seconds + 60, check=False
            )
        line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
        if completed.returncode != 0 or line is None:
            raise BenchError(
                f"wrk failed on {route.label} ({completed.returncode}): {completed.stderr.strip()[-500:]}"
            )
        requests, duration_us, p50_us, p99_us, socket_errors, unexpected = (
            float(v) for v in line.split()[1:]
        )
        return Measurement(
            route=route,
            scenario="",
            requests=int(requests),
            seconds=duration_us / 1e6,
            p50_ms=p50_us / 1e3,
            p99_ms=p99_us / 1e3,
            errors=int(socket_errors + unexpected),
        )


def _percentile(sorted_values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(percent / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


async def _python_load(base_url: str, route: Route, connections: int, seconds: float) -> Measurement:
    latencies: list[float] = []
    errors = 0
    sent = 0
    # One client per connection: a single shared httpx pool costs more CPU per request than the
    # requests themselves once dozens of connections contend for it. One TLS context for all of them
    # (unused on http://, but every client would otherwise load the CA bundle), built before the clock.
    tls = ssl.create_default_context()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS, verify=tls
                )
            )
            for _ in range(connections)
        ]
        started = time.perf_counter()
        deadline = started + seconds

        async def one_connection(client: httpx.AsyncClient) -> None:
            nonlocal errors, sent
            while sent < PYTHON_GENERATOR_MAX_REQUESTS and time.perf_counter() < deadline:
                sent += 1
                request_started = time.perf_counter()
                try:
                    response = await client.request(
                        route.method, route.path, headers=dict(route.headers), content=route.body
                    )
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - request_started)
                if response.status_code not in route.expected_statuses:
                    errors += 1

        await asyncio.gather(*(one_connection(client) for client in clients))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Measurement(
        route=route,
        scenario="",
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=_percentile(latencies, 50) * 1e3,
        p99_ms=_percentile(latencies, 99) * 1e3,
        errors=errors,
    )


def _python_load_in_child(base_url: str, route: Route, connections: int, seconds: float) -> Measurement:
    return asyncio.run(_python_load(base_url, route, connections, seconds))


class PythonLoadGenerator:
    """asyncio + httpx in a spawned child process: never in the bench's own process or the server's."""

    description = "Python asyncio+httpx in a separate process"

    def drive(self, base_url: str, route: Route, *, connections: int, seconds: float) -> Measurement:
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            pending = pool.apply_async(_python_load_in_child, (base_url, route, connections, seconds))
            return pending.get(timeout=seconds + 60)


PYTHON_FALLBACK_NOTE = (
    "note: wrk is not installed (apt-get install -y wrk), so the load comes from the Python asyncio+httpx\n"
    "generator in a separate process. It needs far more CPU per request than wrk and shares the cores with\n"
    "the server, so these figures understate the server, the /healthz ceiling most of all."
)


def choose_load_generator(preference: str, *, threads: int) -> tuple[LoadGenerator, str | None]:
    """The generator to use and, when it is the Python fallback chosen for want of wrk, a note saying so."""
    executable = shutil.which("wrk")
    if preference == "python":
        return PythonLoadGenerator(), None
    if executable:
        return WrkLoadGenerator(executable, threads=threads), None
    if preference == "wrk":
        raise BenchError("--generator wrk: wrk is not on PATH (apt-get install -y wrk)")
    return PythonLoadGenerator(), PYTHON_FALLBACK_NOTE


# --- the server under test ---------------------------------------------------------------------


def clinicore_executable() -> Path:
    """The ``clinicore`` script beside the running interpreter (``.venv/bin``), else the one on PATH."""
    beside = Path(sys.executable).parent / "clinicore"
    if beside.exists():
        return beside
    found = shutil.which("clinicore")
    if found is None:
        raise BenchError("the clinicore command is not installed (make install)")
    return Path(found)


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _loopback_postgres(url_text: str) -> URL:
    url = make_url(url_text.replace("postgresql+asyncpg://", "postgresql://", 1))
    if url.get_backend_name() != "postgresql" or url.host not in LOOPBACK_HOSTS:
        raise BenchError(f"the bench creates and drops databases only on a local PostgreSQL, not {url!r}")
    return url


async def _postgres_admin(url: URL, statement: str) -> None:
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise BenchError(f"PostgreSQL does not answer at {url!r}: {exc}") from None
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """Create an empty database on the local server, yield its URL, drop it afterwards."""
    server = _loopback_postgres(admin_url)
    name = f"clinicore_bench_{secrets.token_hex(4)}"
    asyncio.run(_postgres_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_postgres_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def seed_demo(clinicore: Path, environment: Mapping[str, str]) -> dict[str, str]:
    """Run ``clinicore demo --json`` (it migrates first) and return the object it prints."""
    completed = subprocess.run(
        [str(clinicore), "demo", "--json"],
        env=dict(environment),
        capture_output=True,
        text=True,
        timeout=DEMO_SEED_SECONDS,
        check=False,
    )
    line = next((ln for ln in reversed(completed.stdout.splitlines()) if ln.startswith("{")), None)
    if completed.returncode != 0 or line is None:
        raise BenchError(
            f"clinicore demo --json failed ({completed.returncode}):\n{completed.stderr[-2000:]}"
        )
    demo: dict[str, str] = json.loads(line)
    return demo


def _log_tail(path: Path, characters: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-characters:]
    except OSError:
        return ""


def _stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (uvicorn's workers are its children), SIGKILL if it lingers."""
    for sig, grace in ((signal.SIGTERM, SERVER_STOP_SECONDS), (signal.SIGKILL, SERVER_STOP_SECONDS)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def serving(
    clinicore: Path, environment: Mapping[str, str], *, port: int, processes: int, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``clinicore serve`` on 127.0.0.1:<port> with ``processes`` workers; its logs go to ``log_path``."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(clinicore), "serve", "--host", LOOPBACK, "--port", str(port), "--workers", str(processes)],
            env=dict(environment),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            _stop_process_group(process)


def _started_processes(log_path: Path) -> int:
    """How many server processes have finished their start-up (uvicorn logs one line per process)."""
    return _log_tail(log_path, characters=1_000_000).count(UVICORN_STARTUP_COMPLETE)


def wait_until_healthy(
    base_url: str, process: subprocess.Popen[bytes], log_path: Path, *, processes: int
) -> None:
    """Until /healthz answers and every process has started: with 2 processes the first to start
    answers /healthz while the other may still be importing, and a half-started server is not measured."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    for _attempt in range(int(SERVER_START_SECONDS * 10)):
        if process.poll() is not None:
            raise BenchError(f"clinicore serve exited with {process.returncode}:\n{_log_tail(log_path)}")
        with contextlib.suppress(httpx.HTTPError):
            healthy = httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
            if healthy and _started_processes(log_path) >= processes:
                return
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    raise BenchError(
        f"clinicore serve did not answer /healthz with {_processes_label(processes)} started within "
        f"{SERVER_START_SECONDS:.0f} s:\n{_log_tail(log_path)}"
    )


@contextlib.contextmanager
def running_server(
    *,
    database: Database,
    processes: int,
    postgres_url: str = DEFAULT_POSTGRES_URL,
    clinicore: Path | None = None,
    extra_environment: Mapping[str, str] | None = None,
) -> Iterator[ServerUnderTest]:
    """A fresh data dir (and on PostgreSQL a fresh database), seeded with the demo, served and healthy;
    ``extra_environment`` (``CLINICORE_*`` settings the scenarios declare) is added to the server's."""
    clinicore = clinicore or clinicore_executable()
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clinicore-bench-")))
        port = free_loopback_port()
        base_url = f"http://{LOOPBACK}:{port}"
        # Nothing from the caller's own CLINICORE_* settings leaks in (their database, Redis, secret key).
        environment = {name: value for name, value in os.environ.items() if not name.startswith("CLINICORE_")}
        environment |= {"CLINICORE_DATA_DIR": str(data_dir), "CLINICORE_BASE_URL": base_url}
        environment |= dict(extra_environment or {})
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
            process_group=process.pid,
        )


# --- running and reporting ---------------------------------------------------------------------


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_group_cpu_seconds(group: int) -> float | None:
    """User + system CPU seconds of every live process of the group (Linux /proc), or None without /proc."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (command) "
        if int(fields[2]) == group:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / _CLOCK_TICKS


def drive_measuring_cpu(
    generator: LoadGenerator, base_url: str, route: Route, *, group: int | None, options: BenchOptions
) -> Measurement:
    """One measured run, with the CPU time the server's process group spent during it."""
    before = process_group_cpu_seconds(group) if group is not None else None
    measured = generator.drive(base_url, route, connections=options.connections, seconds=options.seconds)
    after = process_group_cpu_seconds(group) if group is not None else None
    if before is None or after is None:
        return measured
    return dataclasses.replace(measured, server_cpu_seconds=after - before)


def measure_server(
    server: ServerUnderTest, scenarios: Sequence[Scenario], generator: LoadGenerator, options: BenchOptions
) -> ServerResult:
    """The ceiling first, then every scenario's routes, each warmed up and then driven for a fixed time."""
    planned: list[tuple[str, Route]] = [("ceiling", CEILING)]
    for scenario in scenarios:
        planned += [(scenario.name, route) for route in scenario.routes(server)]
    measurements = []
    for scenario_name, route in planned:
        if options.warmup_seconds > 0:
            generator.drive(
                server.base_url, route, connections=options.connections, seconds=options.warmup_seconds
            )
        measured = drive_measuring_cpu(
            generator, server.base_url, route, group=server.process_group, options=options
        )
        measurements.append(dataclasses.replace(measured, scenario=scenario_name))
    return ServerResult(database=server.database, processes=server.processes, measurements=measurements)


# --- the reference apps -----------------------------------------------------------------------

BASELINE_ROUTES = {
    "bare": Route("/healthz", what="reference: a bare ASGI app on the same uvicorn"),
    "fastapi": Route("/healthz", what="reference: a one-route FastAPI app on the same uvicorn"),
}


@contextlib.contextmanager
def serving_baseline(app: str, *, processes: int, log_path: Path) -> Iterator[tuple[str, int]]:
    """``python -m bench.baseline_apps --app <app>`` on a free loopback port, healthy; yields its URL
    and process group."""
    port = free_loopback_port()
    base_url = f"http://{LOOPBACK}:{port}"
    environment = {name: value for name, value in os.environ.items() if not name.startswith("CLINICORE_")}
    root = str(Path(__file__).resolve().parent.parent)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [root, environment.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "bench.baseline_apps", "--app", app, "--port", str(port)]
    command += ["--workers", str(processes)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until_healthy(base_url, process, log_path, processes=processes)
            yield base_url, process.pid
        finally:
            _stop_process_group(process)


def measure_baselines(
    generator: LoadGenerator, options: BenchOptions, *, processes: int
) -> list[Measurement]:
    """/healthz of the bare ASGI app and of the one-route FastAPI app, each alone on the machine."""
    measurements = []
    with tempfile.TemporaryDirectory(prefix="clinicore-bench-baseline-") as scratch:
        for app, route in BASELINE_ROUTES.items():
            log_path = Path(scratch) / f"{app}.log"
            with serving_baseline(app, processes=processes, log_path=log_path) as (url, group):
                if options.warmup_seconds > 0:
                    generator.drive(
                        url, route, connections=options.connections, seconds=options.warmup_seconds
                    )
                measured = drive_measuring_cpu(generator, url, route, group=group, options=options)
                measurements.append(dataclasses.replace(measured, scenario=f"baseline-{app}"))
    return measurements


def _processes_label(processes: int) -> str:
    return f"{processes} process{'es' if processes > 1 else ''}"


def _aligned(rows: Sequence[Sequence[str]], *, left: frozenset[int] = frozenset({0})) -> list[str]:
    """Rows as lines of columns; numbers right-aligned, the columns in ``left`` left-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if index in left else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def format_result(result: ServerResult, *, generator: LoadGenerator, options: BenchOptions) -> str:
    rows = [("route", "req/s", "p50 ms", "p99 ms", "errors", "x healthz", "cpu us/req", "what")]
    rows += [
        (
            m.route.label,
            f"{m.per_second:.0f}",
            f"{m.p50_ms:.1f}",
            f"{m.p99_ms:.1f}",
            str(m.errors),
            f"{m.ratio_to(result.ceiling):.2f}",
            "-" if m.cpu_us_per_request is None else f"{m.cpu_us_per_request:.0f}",
            m.route.what,
        )
        for m in [result.ceiling, *result.baselines, *result.measurements[1:]]
    ]
    title = (
        f"== {DATABASE_TITLES[result.database]}, {_processes_label(result.processes)}: "
        f"{generator.description}, {options.connections} connections, "
        f"{options.seconds:g} s per route after {options.warmup_seconds:g} s warm-up"
    )
    lines = [title, *_aligned(rows, left=frozenset({0, 7}))]
    framework = next((m for m in result.baselines if m.scenario == "baseline-fastapi"), None)
    if framework is not None and framework.per_second > 0:
        lines.append(
            f"/healthz is {result.ceiling.per_second / framework.per_second:.2f} of the one-route FastAPI app"
        )
    return "\n".join(lines)


def format_scaling(results: Sequence[ServerResult]) -> str:
    """Requests per second of every route side by side for each process count, last over first."""
    first, last = results[0], results[-1]
    rows = [
        ("route", *(_processes_label(r.processes) for r in results), f"{last.processes} vs {first.processes}")
    ]
    rates_by_route: dict[tuple[str, str], list[float]] = {}
    for result in results:
        for m in result.measurements:
            rates_by_route.setdefault((m.scenario, m.route.label), []).append(m.per_second)
    for (_scenario, label), rates in rates_by_route.items():
        if len(rates) != len(results):
            continue  # a route that only some servers got (a scenario may build routes from their data)
        ratio = rates[-1] / rates[0] if rates[0] > 0 else 0.0
        rows.append((label, *(f"{rate:.0f}" for rate in rates), f"{ratio:.2f}"))
    return "\n".join([f"== {DATABASE_TITLES[first.database]}: requests/s by process count", *_aligned(rows)])


def result_as_json(result: ServerResult) -> dict[str, object]:
    return {
        "database": result.database,
        "processes": result.processes,
        "routes": [
            {
                "scenario": m.scenario,
                "route": m.route.label,
                "requests": m.requests,
                "seconds": round(m.seconds, 3),
                "requests_per_second": round(m.per_second, 1),
                "p50_ms": round(m.p50_ms, 2),
                "p99_ms": round(m.p99_ms, 2),
                "errors": m.errors,
                "ratio_to_healthz": round(m.ratio_to(result.ceiling), 3),
                "server_cpu_us_per_request": None
                if m.cpu_us_per_request is None
                else round(m.cpu_us_per_request, 1),
            }
            for m in [*result.baselines, *result.measurements]
        ],
    }


def scenario_environment(scenarios: Sequence[Scenario]) -> dict[str, str]:
    """Every scenario's ``server_environment`` together; two scenarios asking one setting differently
    cannot share a server."""
    merged: dict[str, str] = {}
    for scenario in scenarios:
        for name, value in scenario.server_environment.items():
            if merged.get(name, value) != value:
                raise BenchError(f"scenario {scenario.name} needs {name}={value}, another {merged[name]}")
            merged[name] = value
    return merged


def run_bench(
    options: BenchOptions,
    scenarios: Sequence[Scenario],
    *,
    out: Callable[[str], None] = functools.partial(print, flush=True),
) -> list[ServerResult]:
    """Start, seed and measure one server per process count; print each table as it completes."""
    generator, note = choose_load_generator(options.generator, threads=options.threads)
    if note:
        out(note)
    cores = os.cpu_count() or 0
    out(
        f"bench: {DATABASE_TITLES[options.database]}, processes {', '.join(map(str, options.processes))}; "
        f"{cores} CPU cores shared by the server and the load generator; "
        f"load average {os.getloadavg()[0]:.2f} before the run"
    )
    results = []
    for processes in options.processes:
        baselines = measure_baselines(generator, options, processes=processes)
        with running_server(
            database=options.database,
            processes=processes,
            postgres_url=options.postgres_url,
            extra_environment=scenario_environment(scenarios),
        ) as server:
            result = measure_server(server, scenarios, generator, options)
        result = dataclasses.replace(result, baselines=baselines)
        results.append(result)
        out("")
        out(format_result(result, generator=generator, options=options))
    if len(results) > 1:
        out("")
        out(format_scaling(results))
    return results
