"""A real webhook receiver for tests: a tiny ASGI app served by uvicorn on a loopback port, in its
own thread, recording every request and answering as the test tells it to."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from tests.support import free_port


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0  # seconds before answering


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    received_at: float  # time.perf_counter() when the body was in

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, *, handling_delay: float = 0.0) -> None:
        self.port = free_port()
        self.handling_delay = handling_delay
        self.received: list[ReceivedWebhook] = []
        self.default_answer = Answer()
        self._answers: deque[Answer] = deque()
        self._in_flight: Counter[tuple[str, str]] = Counter()
        # (path, webhook-id) of requests that arrived while one with the same path and id was still
        # being handled: the same message sent twice at the same time to one endpoint.
        self.overlapping: list[tuple[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being handled at once
        self._server = uvicorn.Server(
            uvicorn.Config(
                self, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="off"
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer_next(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order; then with ``default_answer``."""
        self._answers.extend(answers)

    def ids(self) -> list[str]:
        return [webhook.webhook_id for webhook in self.received]

    async def wait_for(self, count: int, *, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"received {len(self.received)} webhooks, expected {count}")
            await asyncio.sleep(0.01)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the sender died mid-request: nothing was delivered
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        webhook = ReceivedWebhook(scope["path"], headers, bytes(body), time.perf_counter())
        self.received.append(webhook)
        message_key = (webhook.path, headers.get("webhook-id", ""))
        if self._in_flight[message_key]:
            self.overlapping.append(message_key)
        self._in_flight[message_key] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            answer = self._answers.popleft() if self._answers else self.default_answer
            if answer.delay or self.handling_delay:
                await asyncio.sleep(answer.delay or self.handling_delay)
        finally:
            self._in_flight[message_key] -= 1
            self.in_flight -= 1
        response_headers = [(name.lower().encode(), value.encode()) for name, value in answer.headers.items()]
        await send({"type": "http.response.start", "status": answer.status, "headers": response_headers})
        await send({"type": "http.response.body", "body": answer.body})

    async def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test receiver did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        await asyncio.to_thread(self._thread.join, 10)


@asynccontextmanager
async def running_receiver(*, handling_delay: float = 0.0) -> AsyncIterator[Receiver]:
    receiver = Receiver(handling_delay=handling_delay)
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()
