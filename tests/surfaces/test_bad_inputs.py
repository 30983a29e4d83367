"""Inputs that once answered 500 (issue 15) answer 4xx in the surface's own envelope, and the connection
stays usable: ids past the 32-bit columns, dates near year 1 or 9999, numbers no database stores, lists
longer than a query can bind. One real server (``clinicore serve`` after ``clinicore demo``), one
keep-alive connection for the whole table."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore


class Demo:
    def __init__(self, server: ServerProcess, keys: dict[str, str]) -> None:
        self.server = server
        self.keys = keys
        self.client = httpx.Client(base_url=server.base_url, timeout=30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Demo]:
    env = clinicore_env(
        tmp_path_factory.mktemp("bad-inputs") / "data", database_url if POSTGRES_URL else None
    )
    result = run_clinicore("demo", "--json", env=env)
    assert result.returncode == 0
    keys = json.loads(result.stdout)
    for name in ("qualiphy_api_key", "qualifybase_api_key", "native_api_key"):
        remember_secret(keys[name])
    server = ServerProcess(env)
    try:
        server.wait_ready()
        running = Demo(server, keys)
        yield running
        running.client.close()
    finally:
        server.stop()


BIG_IDS = [2**31, 2**63, 10**30, -1, -(2**63) - 1]
FAR_DATES = ["9999-12-31", "0001-01-01", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2200-01-01"]


def qualiphy(path: str, **fields: Any) -> Callable[[Demo], httpx.Response]:
    return lambda d: d.client.post(
        f"/qualiphy/api/{path}", json={"api_key": d.keys["qualiphy_api_key"], **fields}
    )


def qualifybase_get(path: str) -> Callable[[Demo], httpx.Response]:
    return lambda d: d.client.get(
        f"/qualifybase/api/v1/{path}", headers={"Authorization": f"Bearer {d.keys['qualifybase_api_key']}"}
    )


def qualifybase_post(path: str, body: Any, *, raw: str | None = None) -> Callable[[Demo], httpx.Response]:
    def send(d: Demo) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {d.keys['qualifybase_api_key']}",
            "content-type": "application/json",
        }
        content = raw if raw is not None else json.dumps(body)
        return d.client.post(f"/qualifybase/api/v1/{path}", content=content, headers=headers)

    return send


def native_get(path: str) -> Callable[[Demo], httpx.Response]:
    return lambda d: d.client.get(
        f"/api/{path}", headers={"Authorization": f"Bearer {d.keys['native_api_key']}"}
    )


QUALIPHY_CASES = {
    **{f"exam_questions exam_id={v}": qualiphy("exam_questions", exam_id=v) for v in BIG_IDS},
    **{
        f"exam_submit_answers patient_exam_id={v}": qualiphy(
            "exam_submit_answers", patient_exam_id=v, answers=[]
        )
        for v in BIG_IDS
    },
    **{f"pharmacy_list exam_ids=[{v}]": qualiphy("pharmacy_list", exam_ids=[v]) for v in BIG_IDS},
    "pharmacy_list 40,000 pharmacy_ids": qualiphy("pharmacy_list", pharmacy_ids=list(range(40_000))),
    "exam_list nested 100,000 deep": lambda d: d.client.post(
        "/qualiphy/api/exam_list",
        content="[" * 100_000 + "]" * 100_000,
        headers={"content-type": "application/json"},
    ),
    "exam_list 1e400": lambda d: d.client.post(
        "/qualiphy/api/exam_list",
        content='{"api_key": "' + d.keys["qualiphy_api_key"] + '", "page": 1e400}',
        headers={"content-type": "application/json"},
    ),
}
QUALIFYBASE_CASES = {
    **{f"appointments to={v}": qualifybase_get(f"appointments?to={v}") for v in FAR_DATES},
    **{f"appointments from={v}": qualifybase_get(f"appointments?from={v}") for v in FAR_DATES},
    **{
        f"block at {v}": qualifybase_post(
            "blocks", {"external_source": "x", "external_id": "1", "starts_at": v, "ends_at": v}
        )
        for v in FAR_DATES
    },
    "lead with 1e400 in external_metadata": qualifybase_post(
        "leads", None, raw='{"name": "A", "phone": "+12125551234", "external_metadata": {"a": 1e400}}'
    ),
    "lead with NaN": qualifybase_post("leads", None, raw='{"name": "A", "phone": "+12125551234", "x": NaN}'),
}
NATIVE_CASES = {
    **{
        f"attempts since={v}": native_get(f"webhook-endpoints/{'0' * 32}/attempts?since={v}")
        for v in FAR_DATES
    },
}


def _assert_refused_in_envelope(response: httpx.Response, envelope: set[str]) -> None:
    assert 400 <= response.status_code < 500, response.text
    assert envelope <= set(response.json()), response.text


@pytest.mark.parametrize("case", list(QUALIPHY_CASES))
def test_qualiphy_refuses_in_its_envelope(demo: Demo, case: str) -> None:
    _assert_refused_in_envelope(QUALIPHY_CASES[case](demo), {"http_code", "error_message"})


@pytest.mark.parametrize("case", list(QUALIFYBASE_CASES))
def test_qualifybase_refuses_in_its_envelope(demo: Demo, case: str) -> None:
    _assert_refused_in_envelope(QUALIFYBASE_CASES[case](demo), {"error"})


@pytest.mark.parametrize("case", list(NATIVE_CASES))
def test_native_refuses_in_its_envelope(demo: Demo, case: str) -> None:
    _assert_refused_in_envelope(NATIVE_CASES[case](demo), {"error"})


def test_the_connection_survived_every_case_and_the_log_has_no_server_error(demo: Demo) -> None:
    for case in (*QUALIPHY_CASES.values(), *QUALIFYBASE_CASES.values(), *NATIVE_CASES.values()):
        assert case(demo).status_code < 500
    assert demo.client.get("/healthz").status_code == 200
    log = Path(demo.server.log_path).read_text()
    assert '"status": 500' not in log
    assert "Traceback" not in log
