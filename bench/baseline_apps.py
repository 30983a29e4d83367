"""The two reference apps the bench measures beside ``clinicore serve``: a bare ASGI app and a one-route
FastAPI app, each answering ``GET /healthz`` with the same JSON body as ours, served by the same uvicorn
with the options ``clinicore serve`` uses (no access log, no log config, no proxy headers).

``python -m bench.baseline_apps --app bare|fastapi --port N [--workers N]`` serves one of them on
127.0.0.1. Their throughput is what the server and the framework cost with nothing of ours in the way:
our ``/healthz`` over the FastAPI app's is what our middleware costs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

LOOPBACK = "127.0.0.1"
BODY = b'{"status":"ok"}'
APPS = {"bare": "bench.baseline_apps:bare_app", "fastapi": "bench.baseline_apps:fastapi_app"}


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI with nothing else: /healthz answers, anything else is a 404."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    found = scope["path"] == "/healthz"
    body = BODY if found else b'{"detail":"Not Found"}'
    await send(
        {
            "type": "http.response.start",
            "status": 200 if found else 404,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


fastapi_app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@fastapi_app.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def serve_options(port: int) -> dict[str, Any]:
    """The options ``clinicore serve`` gives uvicorn (cli/main.py), on 127.0.0.1:<port>."""
    return {"host": LOOPBACK, "port": port, "access_log": False, "log_config": None, "proxy_headers": False}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline_apps")
    parser.add_argument("--app", choices=sorted(APPS), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    arguments = parser.parse_args(argv)
    if not 1 <= arguments.workers <= 16 or not 1 <= arguments.port <= 65535:
        parser.error("--workers must be 1..16 and --port 1..65535")
    # uvicorn's start-up lines only (no access log): the harness waits for one per process.
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if arguments.workers == 1:
        app = bare_app if arguments.app == "bare" else fastapi_app
        uvicorn.run(app, **serve_options(arguments.port))
    else:
        uvicorn.run(APPS[arguments.app], workers=arguments.workers, **serve_options(arguments.port))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
