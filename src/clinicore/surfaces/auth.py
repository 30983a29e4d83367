"""Key authentication, written once for every surface: ``authenticated(kind)`` makes the FastAPI
dependency that reads the key as the surface's clients send it, authenticates it in the core, tells the
access log the clinic, and returns a ``ClinicCaller`` whose clinic is never ``None``.

A surface adapts three things only: where the key is read (``read_key``), its 401 wording
(``missing``/``invalid``), and what else it checks once the caller is known (``then``: QualifyBase's rate
limit, Qualiphy's inactive clinic). ``authenticated_partner`` does the same for a partner's key (IntakeQ's
partner API), which belongs to a partner and no clinic, and returns a ``PartnerCaller``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import Request

from clinicore.core.models import ApiKey, ApiKeyKind
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.schemas import ClinicCaller, PartnerCaller
from clinicore.kit.db import reads_only, transaction
from clinicore.kit.errors import Unauthorized
from clinicore.requests import RuntimeDep, SessionDep, after_commit, bind_clinic
from clinicore.runtime import Runtime

KeyReader = Callable[[Request], Awaitable[str | None]]
AfterAuthentication = Callable[[Request, ClinicCaller, Runtime], Awaitable[None]]
MISSING_BEARER = "missing bearer token: send Authorization: Bearer <key>"


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def read_bearer_token(request: Request) -> str | None:
    return bearer_token(request)


# The last touch this process queued per key: concurrent requests with one key queue one writer, not one each.
_QUEUED_TOUCHES: dict[uuid.UUID, datetime] = {}
_QUEUED_TOUCHES_LIMIT = 10_000


def _touch_after_commit(request: Request, key: ApiKey, now: datetime) -> None:
    """A read-only request's key touch: shown on the key at once (without a write in the reader), written
    by a writer of its own once the request's transaction is over."""
    if not tenancy_service.key_touch_due(key, now):
        return
    tenancy_service.show_touch(key, now)
    queued = _QUEUED_TOUCHES.get(key.id)
    if queued is not None and now - tenancy_service.KEY_TOUCH_INTERVAL < queued <= now:
        return
    if len(_QUEUED_TOUCHES) >= _QUEUED_TOUCHES_LIMIT:
        _QUEUED_TOUCHES.clear()
    _QUEUED_TOUCHES[key.id] = now
    key_id = key.id

    async def touch(runtime: Runtime) -> None:
        async with transaction(runtime.sessions) as writer:
            await tenancy_service.touch_key(writer, key_id=key_id, now=now)

    after_commit(request, touch)


def authenticated(
    kind: ApiKeyKind,
    *,
    read_key: KeyReader = read_bearer_token,
    missing: str = MISSING_BEARER,
    invalid: str | None = None,
    then: AfterAuthentication | None = None,
) -> Callable[[Request, SessionDep, RuntimeDep], Awaitable[ClinicCaller]]:
    """The dependency that authenticates a clinic key of ``kind``."""

    async def authenticate(request: Request, session: SessionDep, runtime: RuntimeDep) -> ClinicCaller:
        raw = await read_key(request)
        if raw is None:
            raise Unauthorized(missing)
        reader = reads_only(session)
        try:
            caller = await tenancy_service.authenticate_clinic_key(
                session, kind=kind, raw=raw, clock=runtime.clock, touch=not reader
            )
        except Unauthorized:
            if invalid is None:
                raise
            raise Unauthorized(invalid) from None
        if reader:
            _touch_after_commit(request, caller.key, runtime.clock.now())
        bind_clinic(request, caller.clinic.id)
        if then is not None:
            await then(request, caller, runtime)
        return caller

    authenticate.__name__ = f"authenticated_{kind.value}_key"
    return authenticate


def authenticated_partner(
    *, read_key: KeyReader, missing: str
) -> Callable[[Request, SessionDep, RuntimeDep], Awaitable[PartnerCaller]]:
    """The dependency that authenticates a partner's key (it belongs to a partner, not to a clinic)."""

    async def authenticate_partner(
        request: Request, session: SessionDep, runtime: RuntimeDep
    ) -> PartnerCaller:
        raw = await read_key(request)
        if raw is None:
            raise Unauthorized(missing)
        return await tenancy_service.authenticate_partner_key(session, raw=raw, clock=runtime.clock)

    return authenticate_partner
