from __future__ import annotations

from pathlib import Path

import pytest

from clinicore.runtime import Runtime
from tests.support import clinicore_env, remember_secret


@pytest.fixture
def worker_env(
    tmp_path: Path, runtime: Runtime, database_url: str, subprocess_database_url: str | None
) -> dict[str, str]:
    """Environment of a ``clinicore worker`` that works on this test run's database and can decrypt the
    endpoint secrets the test process stored (same secret key); it polls every 50 ms."""
    return clinicore_env(
        tmp_path,
        subprocess_database_url or database_url,
        CLINICORE_SECRET_KEY=remember_secret(runtime.settings.secret_key),
        CLINICORE_WORKER_POLL_SECONDS="0.05",
        CLINICORE_ALLOW_PRIVATE_WEBHOOKS="true",
    )
