"""Request dependencies shared by every surface and page: the runtime and one transaction per request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message

from clinicore.core.telehealth import attachments as attachments_service
from clinicore.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (or rolled back on error)."""
    async with get_runtime(request).sessions() as session, session.begin():
        yield session


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
