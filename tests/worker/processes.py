"""Real ``clinicore worker`` subprocesses on the test database, to be killed and restarted."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from tests.support import CLINICORE_BIN, artifact_log


class WorkerProcess:
    def __init__(self, env: dict[str, str]) -> None:
        self.log_path = artifact_log("worker")
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [CLINICORE_BIN, "worker"], env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def kill(self) -> None:
        """SIGKILL: no clean-up, no rollback message, exactly like a crash or an OOM kill."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def log_text(self) -> str:
        return Path(self.log_path).read_text()
