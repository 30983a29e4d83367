"""The doc's walkthrough (docs/examples/qualiphy_quickstart.py, a plain httpx script) against a started
server: the demo clinic's key, exam_list, a test-mode invite, and the Approved webhook it waits for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "qualiphy_quickstart.py"


def test_quickstart_script_gets_its_approved_webhook(
    tmp_path: Path, subprocess_database_url: str | None
) -> None:
    env = clinicore_env(
        tmp_path / "data", subprocess_database_url, CLINICORE_TEST_PROVIDER_DELAY_SECONDS="0.5"
    )
    demo = run_clinicore("demo", "--json", env=env)
    assert demo.returncode == 0, demo.stderr
    api_key = remember_secret(json.loads(demo.stdout)["qualiphy_api_key"])
    server = ServerProcess(env)
    try:
        server.wait_ready()
        completed = subprocess.run(
            [sys.executable, str(SCRIPT)],
            env={
                "PATH": "/usr/bin:/bin",
                "QUALIPHY_BASE_URL": f"{server.base_url}/qualiphy/api",
                "QUALIPHY_API_KEY": api_key,
                "QUALIPHY_WAIT_SECONDS": "60",
            },
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    finally:
        server.stop()
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "webhook: event 1, exam_status Approved" in completed.stdout
    assert 'additional_data: {"order_id": "quickstart-1"}' in completed.stdout
