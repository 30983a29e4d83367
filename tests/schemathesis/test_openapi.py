"""Every OpenAPI document the platform publishes, fuzzed by schemathesis against a real server (issue 15).

For each document, a fresh ``clinicore demo`` and ``clinicore serve`` (SQLite, or a database of its own on
the PostgreSQL of a PostgreSQL run), then the schemathesis CLI over the document with the demo's key: the
examples, coverage and fuzzing phases, bounded in examples so the whole module takes a few minutes on two
cores. What must hold:

- no server error (``not_a_server_error``), for valid and invalid inputs alike;
- every response matches its documented status, content type and schema;
- a method a path does not take is a 405 with ``Allow`` (``unsupported_method``).

One schemathesis worker: with several threads CPython 3.11 can fail inside schemathesis itself ("AST
constructor recursion depth mismatch"), which says nothing about our API. The counts of each run are
printed and written to ``schemathesis-<surface>.txt`` among the test artifacts.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from clinicore.migrations import upgrade_database
from tests.conftest import POSTGRES_URL, _admin
from tests.support import ServerProcess, artifact_log, clinicore_env, remember_secret, run_clinicore

REPOSITORY = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "unsupported_method",
)
MAX_EXAMPLES = 15


@dataclass(frozen=True)
class Document:
    surface: str
    mount_path: str
    key_name: str  # the demo's key (``clinicore demo --json``)
    header: str | None  # the header carrying it; None: in the body (Qualiphy's ``api_key``)


DOCUMENTS = (
    Document("qualiphy", "/qualiphy/api", "qualiphy_api_key", None),
    Document("qualifybase", "/qualifybase/api/v1", "qualifybase_api_key", "Authorization: Bearer {key}"),
    Document("intakeq_practice", "/intakeq/api/v1", "intakeq_practice_key", "X-Auth-Key: {key}"),
    Document("intakeq_partner", "/intakeq/api/partner", "intakeq_partner_key", "X-Auth-Key: {key}"),
    Document("native", "/api", "native_api_key", "Authorization: Bearer {key}"),
)


@dataclass(repr=False)  # its keys never reach a report
class Demo:
    server: ServerProcess
    keys: dict[str, str]


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[str | None]:
    """A database of the test's own (None: the server's SQLite in its data directory): the run changes and
    deletes what the demo made (the partner API may delete the demo practice), which no other test sees."""
    if not POSTGRES_URL:
        yield None
        return
    server = make_url(POSTGRES_URL.replace("postgresql://", "postgresql+asyncpg://", 1))
    admin = server.render_as_string(hide_password=False)
    name = f"clinicore_schemathesis_{secrets.token_hex(4)}"
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade_database(url)
    yield url
    asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def demo(tmp_path: Path, own_database: str | None) -> Iterator[Demo]:
    """A real server after ``clinicore demo``, fresh for each document."""
    env = clinicore_env(tmp_path / "data", own_database, CLINICORE_QUALIFYBASE_RATE_LIMIT="100000/minute")
    result = run_clinicore("demo", "--json", env=env)
    assert result.returncode == 0
    printed = json.loads(result.stdout)
    keys = {name: remember_secret(value) for name, value in printed.items() if name.endswith("key")}
    server = ServerProcess(env)
    try:
        server.wait_ready()
        yield Demo(server, keys)
    finally:
        server.stop()


def _counts(report: str) -> str:
    """The summary lines schemathesis prints ("N generated, ...", "Test cases:" ...), for the record."""
    summary = re.compile(r"\b(generated|passed|failed)\b")
    return "\n".join(line.strip() for line in report.splitlines() if summary.search(line))


@pytest.mark.parametrize("document", DOCUMENTS, ids=[document.surface for document in DOCUMENTS])
def test_the_document_holds_for_every_generated_request(demo: Demo, document: Document) -> None:
    key = demo.keys[document.key_name]
    base_url = f"{demo.server.base_url}{document.mount_path}"
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{base_url}/openapi.json",
        "--url",
        base_url,
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "1",
        "--workers",
        "1",
        "--suppress-health-check",
        "all",
        "--no-color",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    if document.header is None:
        env.update(SCHEMATHESIS_HOOKS="tests.schemathesis.qualiphy_hooks", QUALIPHY_API_KEY=key)
    else:
        command += ["--header", document.header.format(key=key)]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, env=env, cwd=REPOSITORY
    )
    report = (result.stdout + result.stderr).replace(key, "[key]")
    artifact_log(f"schemathesis-{document.surface}").write_text(report)
    print(f"schemathesis {document.surface}:\n{_counts(report)}")
    assert result.returncode == 0, report[-8000:]
