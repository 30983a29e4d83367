"""Request dependencies shared by every surface and page: the runtime and one transaction per request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message

from clinicore.core.telehealth import attachments as attachments_service
from clinicore.runtime import Runtime


# An async function, not a plain one: FastAPI runs a plain dependency in its thread pool.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_READS_ONLY = "clinicore_reads_only"
_AFTER_COMMIT = "clinicore_after_commit"


def reads_only(endpoint: Endpoint) -> Endpoint:
    """Mark a route whose unit of work only reads: its request transaction is a reader's (no write lock
    on SQLite, READ ONLY on PostgreSQL; a write in it raises, see kit/db.py). A write such a request
    needs is queued with ``after_commit`` and runs in a writer's transaction of its own."""
    setattr(endpoint, _READS_ONLY, True)
    return endpoint


def route_reads_only(request: Request) -> bool:
    return bool(getattr(request.scope.get("endpoint"), _READS_ONLY, False))


def after_commit(request: Request, action: Callable[[Runtime], Awaitable[None]]) -> None:
    """Run ``action`` once the request's transaction has committed and given its connection back (so a
    writer it opens never waits for a connection the same request holds), before the response is sent."""
    request.scope.setdefault("state", {}).setdefault(_AFTER_COMMIT, []).append(action)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (or rolled back on error): a
    reader's for a route marked ``reads_only``, a writer's otherwise."""
    runtime: Runtime = request.app.state.runtime
    sessions = runtime.read_sessions if route_reads_only(request) else runtime.sessions
    async with sessions() as session, session.begin():
        yield session
    for action in request.scope.get("state", {}).pop(_AFTER_COMMIT, ()):
        await action(runtime)


def bind_clinic(request: Request, clinic_id: uuid.UUID | None) -> None:
    """Tell the access log which clinic the request acted for."""
    request.scope.setdefault("state", {})["clinic_id"] = clinic_id


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# scope="function": the commit happens before the response leaves, so a failed commit is a failed request.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


# Room for a multipart form's framing and small fields around the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024


def bound_upload_body(request: Request, *, max_upload_bytes: int) -> None:
    """Refuse an upload larger than the limit before reading it (by its Content-Length), and stop
    reading one that turns out larger (chunked, or a lying Content-Length): the form parser never
    receives more than the limit plus the form's framing. Call it before anything reads the form."""
    limit = max_upload_bytes + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise attachments_service.too_large(max_upload_bytes)
    receive = request.receive
    received = 0

    async def bounded_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise attachments_service.too_large(max_upload_bytes)
        return message

    # Starlette reads the body (and the form) only through this channel; it has no public hook for it.
    request._receive = bounded_receive
