"""``python -m bench``: measure every scenario of the ``bench`` package against the real server."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import signal
import sys
from pathlib import Path
from types import FrameType

import bench
from bench.harness import DEFAULT_POSTGRES_URL, BenchError, BenchOptions, Scenario, result_as_json, run_bench

MACHINERY_MODULES = frozenset({"harness", "__main__"})


def discover_scenarios() -> list[Scenario]:
    """Every ``SCENARIO`` declared by a module of the ``bench`` package, in (order, name) order."""
    scenarios = []
    for module_info in pkgutil.iter_modules(bench.__path__):
        if module_info.name in MACHINERY_MODULES:
            continue
        scenario = getattr(importlib.import_module(f"bench.{module_info.name}"), "SCENARIO", None)
        if isinstance(scenario, Scenario):
            scenarios.append(scenario)
    return sorted(scenarios, key=lambda scenario: (scenario.order, scenario.name))


def process_counts(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of integers, not {text!r}"
        ) from None


def parse_arguments(argv: list[str], scenario_names: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Start the real clinicore server on 127.0.0.1, seed the demo and measure each route.",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per route (default 5)")
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="unmeasured time per route first (default 1)"
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="concurrent keep-alive connections (default 32)"
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: the cores are few)")
    parser.add_argument(
        "--processes", type=process_counts, default=(1, 2), help="server processes (default 1,2)"
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help=f"local PostgreSQL server to create the bench database on (default {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator (default: wrk when installed, else Python asyncio+httpx)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=scenario_names,
        help="run only this scenario (repeatable; default: all). /healthz is always measured",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    return parser.parse_args(argv)


def stop_on_termination_signals() -> None:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt, so the context managers still stop the server
    (it runs in its own session), drop the database and remove the data dir, as they do on Ctrl-C."""

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


def main(argv: list[str]) -> int:
    scenarios = discover_scenarios()
    arguments = parse_arguments(argv, [scenario.name for scenario in scenarios])
    if arguments.scenario:
        scenarios = [scenario for scenario in scenarios if scenario.name in arguments.scenario]
    stop_on_termination_signals()
    try:
        options = BenchOptions(
            seconds=arguments.seconds,
            warmup_seconds=arguments.warmup,
            connections=arguments.connections,
            threads=arguments.threads,
            processes=arguments.processes,
            database=arguments.database,
            postgres_url=arguments.postgres_url,
            generator=arguments.generator,
        )
        results = run_bench(options, scenarios)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"bench: interrupted ({exc or 'SIGINT'}); server stopped and its data removed", file=sys.stderr)
        return 130
    if arguments.json:
        arguments.json.write_text(json.dumps([result_as_json(result) for result in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
