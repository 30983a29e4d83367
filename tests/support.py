"""Test support shared by every test module: where artifacts go, secrets we must never see logged,
free ports and real server subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ARTIFACTS = Path(os.environ.get("CLINICORE_TEST_ARTIFACTS") or "/tmp/clinicore-test-artifacts")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
CLINICORE_BIN = str(Path(sys.executable).parent / "clinicore")


def remember_secret(value: str) -> str:
    """Record a key, password or token that the whole run's logs must never contain."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / f"secrets-{WORKER}.txt").open("a") as handle:
        handle.write(value + "\n")
    return value


def artifact_log(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}-{WORKER}-{os.getpid()}-{time.monotonic_ns()}.log"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clinicore_env(data_dir: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICORE_")}
    env["CLINICORE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["CLINICORE_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_clinicore(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    with artifact_log("cli").open("w") as stderr:
        result = subprocess.run(
            [CLINICORE_BIN, *args], env=env, stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=timeout
        )
    return result


class ServerProcess:
    """A real ``clinicore serve`` on a free loopback port; its stderr goes to the artifacts."""

    def __init__(self, env: dict[str, str], *extra_args: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = artifact_log("serve")
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [CLINICORE_BIN, "serve", "--host", "127.0.0.1", "--port", str(self.port), *extra_args],
            env={**env, "CLINICORE_BASE_URL": self.base_url},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"clinicore serve exited with {self.process.returncode}: "
                    f"{self.log_path.read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError("clinicore serve did not become healthy")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
