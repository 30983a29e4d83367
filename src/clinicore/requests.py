"""Request dependencies shared by every surface and page: the runtime and one transaction per request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

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
