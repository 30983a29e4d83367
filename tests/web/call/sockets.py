"""A browser's WebSocket to the app, driven over ASGI in the test's own event loop (as httpx's
ASGITransport drives HTTP), and the arrangement of an exam in consultation."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
from typing import Any

import httpx
from fastapi import FastAPI

from clinicore.core.telehealth import lifecycle
from clinicore.runtime import Runtime
from tests.factories import answer_all
from tests.web.patient.pages import ArrangedVisit, arrange_visit
from tests.web.provider.desk import DeskProvider, sign_in

PROVIDER_COOKIE = "clinicore_provider_session"


class Refused(Exception):
    """The app closed the socket before accepting it (a browser sees an HTTP 403)."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"refused with {code}")
        self.code = code


class Closed(Exception):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


class CallSocket:
    def __init__(
        self, app: FastAPI, url: str, *, cookies: dict[str, str] | None = None, origin: str | None = None
    ) -> None:
        path, _, query = url.partition("?")
        headers = [(b"host", b"testserver")]
        if cookies:
            headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
        if origin:
            headers.append((b"origin", origin.encode()))
        address = f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.1"
        self._scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "scheme": "ws",
            "server": ("testserver", 80),
            "client": (address, 50000),
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "subprotocols": [],
            "state": {},
        }
        self._app = app
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.close_code: int | None = None

    async def _run(self) -> None:
        try:
            await self._app(self._scope, self._to_app.get, self._from_app.put)
        finally:
            await self._from_app.put({"type": "test.app_returned"})

    async def __aenter__(self) -> CallSocket:
        await self._to_app.put({"type": "websocket.connect"})
        self._task = asyncio.create_task(self._run())
        first = await asyncio.wait_for(self._from_app.get(), 10)
        if first["type"] != "websocket.accept":
            await self._finish()
            raise Refused(first.get("code"))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        await self._finish()

    async def _finish(self) -> None:
        assert self._task is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 10)
        except TimeoutError:
            self._task.cancel()
            raise

    async def send_text(self, text: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._to_app.put({"type": "websocket.receive", "bytes": data})

    async def send_json(self, message: Any) -> None:
        await self.send_text(json.dumps(message))

    async def receive_json(self, timeout: float = 5) -> dict[str, Any]:
        event = await asyncio.wait_for(self._from_app.get(), timeout)
        if event["type"] == "websocket.send":
            message: dict[str, Any] = json.loads(event["text"])
            return message
        self.close_code = event.get("code")
        raise Closed(self.close_code)

    async def closed_with(self, timeout: float = 5) -> tuple[int | None, list[dict[str, Any]]]:
        """Read until the app closes the socket: its close code and the messages sent before."""
        messages = []
        while True:
            try:
                messages.append(await self.receive_json(timeout))
            except Closed as closed:
                return closed.code, messages


@dataclasses.dataclass
class Consultation:
    visit: ArrangedVisit
    provider: DeskProvider

    @property
    def patient_exam_id(self) -> int:
        return self.visit.patient_exams[0].id

    @property
    def patient_url(self) -> str:
        return self.visit.at(f"/call/{self.patient_exam_id}")

    @property
    def provider_url(self) -> str:
        return f"/provider/exams/{self.patient_exam_id}/call"


async def waiting_visit(runtime: Runtime, clinic: Any, **meeting: Any) -> ArrangedVisit:
    """A patient whose answers are in and who waits for a provider (as the meeting page leaves them)."""
    visit = await arrange_visit(runtime, ("botox",), clinic=clinic, **meeting)
    await answer_all(runtime, visit.patient_exams[0])
    async with runtime.sessions() as session, session.begin():
        await lifecycle.join_waiting_room(
            session,
            meeting_id=visit.meeting.id,
            patient_exam_id=visit.patient_exams[0].id,
            clock=runtime.clock,
        )
    return visit


async def take(runtime: Runtime, provider: DeskProvider, visit: ArrangedVisit) -> None:
    async with runtime.sessions() as session, session.begin():
        await lifecycle.take_exam(
            session,
            provider_id=provider.provider.id,
            patient_exam_id=visit.patient_exams[0].id,
            clock=runtime.clock,
        )


async def in_consultation(runtime: Runtime, clinic: Any, provider: DeskProvider) -> Consultation:
    visit = await waiting_visit(runtime, clinic)
    await take(runtime, provider, visit)
    return Consultation(visit, provider)


async def provider_cookie(app: FastAPI, provider: DeskProvider) -> dict[str, str]:
    transport = httpx.ASGITransport(app=app, client=(f"127.9.{secrets.randbelow(250)}.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await sign_in(client, provider.email, provider.password)).status_code == 303
        return {PROVIDER_COOKIE: client.cookies[PROVIDER_COOKIE]}
