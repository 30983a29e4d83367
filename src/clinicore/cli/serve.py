"""The process model of ``clinicore serve``.

One API process (``--workers 1``, the default) runs the worker loop in its own event loop beside the
requests, as ``make run`` does: one process is the whole platform.

With ``--workers N`` (N > 1) the N API processes only answer requests, and the worker loop runs once, in
a process of its own that ``serve`` starts and stops with them (the same loop as ``clinicore worker``).
The worker loop does real work for the requests (webhook fan-out and delivery, e-mails, SMS, timers): in
every API process it would take the CPU from the requests of that process, and N loops would only compete
for the same rows. ``--no-embedded-worker`` starts no loop at all (run ``clinicore worker`` instead, any
number of them on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
from collections.abc import Iterator
from multiprocessing.process import BaseProcess

from clinicore.kit.observability import get_logger

log = get_logger("clinicore.serve")

# How long the worker process has to finish what it does after the API processes stopped.
WORKER_STOP_SECONDS = 20.0


def run_worker_process() -> None:
    """The body of the worker process: ``clinicore worker``, stopped by SIGTERM or SIGINT."""
    from clinicore.cli.running import run_with_runtime, settings_or_exit
    from clinicore.runtime import Runtime
    from clinicore.worker.loop import Worker

    settings = settings_or_exit()

    async def _run(runtime: Runtime) -> None:
        loop_worker = Worker(runtime)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, loop_worker.stop)
        await loop_worker.run_forever()

    run_with_runtime(settings, _run)


@contextlib.contextmanager
def worker_process() -> Iterator[BaseProcess]:
    """Start the worker loop in a process of its own (spawned: nothing of this process is shared), and stop
    it on the way out: SIGTERM, then SIGKILL if it has not finished in ``WORKER_STOP_SECONDS``."""
    process = multiprocessing.get_context("spawn").Process(
        target=run_worker_process, name="clinicore-worker", daemon=False
    )
    process.start()
    log.info("worker process started", pid=process.pid)
    try:
        yield process
    finally:
        if process.is_alive():
            process.terminate()
        process.join(WORKER_STOP_SECONDS)
        if process.is_alive():
            log.error("worker process did not stop; killing it", pid=process.pid)
            process.kill()
            process.join()
