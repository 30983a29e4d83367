"""50 concurrent bookings of one slot from 4 OS processes against a real server: exactly one 201."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

PROCESSES = 4
REQUESTS = 50


def _book_many(
    base_url: str, key: str, body: dict[str, str], count: int, results: multiprocessing.Queue[int]
) -> None:
    async def run() -> None:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
            responses = await asyncio.gather(
                *(client.post("/qualifybase/api/v1/appointments", json=body) for _ in range(count))
            )
        for response in responses:
            results.put(response.status_code)

    asyncio.run(run())


def next_weekday_ten_am_utc() -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)  # 10:00 or 11:00 in New York


def test_fifty_concurrent_bookings_of_one_slot_make_exactly_one_appointment(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    env = clinicore_env(tmp_path / "data", subprocess_database_url)
    demo = json.loads(run_clinicore("demo", "--json", env=env).stdout)
    key = remember_secret(demo["qualifybase_api_key"])
    server = ServerProcess(env, "--workers", "2")
    try:
        server.wait_ready()
        headers = {"Authorization": f"Bearer {key}"}
        lead = httpx.post(
            f"{server.base_url}/qualifybase/api/v1/leads", headers=headers, json={"email": "race@example.com"}
        ).json()
        practitioner = httpx.get(f"{server.base_url}/qualifybase/api/v1/availability", headers=headers).json()
        start = next_weekday_ten_am_utc()
        body = {
            "lead_id": lead["id"],
            "title": "Race",
            "scheduled_at": start.isoformat(),
            "ends_at": (start + timedelta(minutes=30)).isoformat(),
            "assigned_to": practitioner["slots"][0]["assigned_to"],
        }
        context = multiprocessing.get_context("spawn")
        results: multiprocessing.Queue[int] = context.Queue()
        share = [REQUESTS // PROCESSES + (1 if n < REQUESTS % PROCESSES else 0) for n in range(PROCESSES)]
        workers = [
            context.Process(target=_book_many, args=(server.base_url, key, body, count, results))
            for count in share
        ]
        for worker in workers:
            worker.start()
        statuses = [results.get(timeout=120) for _ in range(REQUESTS)]
        for worker in workers:
            worker.join(timeout=30)
        assert statuses.count(201) == 1, sorted(statuses)
        assert statuses.count(409) == REQUESTS - 1, sorted(statuses)
        listed = httpx.get(f"{server.base_url}/qualifybase/api/v1/appointments", headers=headers).json()
        assert len([a for a in listed["appointments"] if a["title"] == "Race"]) == 1
    finally:
        server.stop()
