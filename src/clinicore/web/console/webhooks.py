"""Console webhook pages: endpoints (create, disable/enable, rotate the secret, send a test event,
strict order per aggregate on or off, delete), each endpoint's delivery attempts with filters, and
replays of one message or of a window.

Times are shown and entered in the clinic's time zone."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.events import service as events_service
from clinicore.core.events.schemas import AttemptFilter, AttemptQuery
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import InvalidInput
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.clinic_time import ClinicTime
from clinicore.web.console.form_models import (
    FORMAT_LABELS,
    EmptyForm,
    EnableEndpointForm,
    EndpointForm,
    ReplayWindowForm,
    StrictOrderForm,
)
from clinicore.web.console.forms import FormT, Refusal, refusal_context, submit_form, unstorable_text
from clinicore.web.console.routes import render
from clinicore.web.console.session import CurrentUser, require

router = APIRouter(include_in_schema=False, dependencies=[require(Permission.manage_webhooks)])

ATTEMPTS_SHOWN = 100
# What a finished action says on the page it redirects to (never text taken from the URL).
NOTICES = {
    "created": "Endpoint added. Its signing secret is below.",
    "test-sent": "Test event queued: it appears in the attempts below once the worker has sent it.",
    "rotated": "Secret rotated. The previous secret keeps signing beside the new one for 24 hours.",
    "disabled": "Endpoint disabled. Nothing is sent until it is enabled again.",
    "enabled": "Endpoint enabled.",
    "replayed": "Queued again.",
    "strict-order-on": "Each appointment's or exam's events now go out one at a time, in order.",
    "strict-order-off": "Events now go out side by side; receivers order them by their version.",
}


def endpoint_path(endpoint_id: uuid.UUID, **query: str | int) -> str:
    return f"/console/webhooks/{endpoint_id}" + (f"?{urlencode(query)}" if query else "")


def split_event_types(raw: str) -> list[str] | None:
    """ "appointment.*, lead.created" -> a list; blank -> None (every event)."""
    items = [item.strip() for item in raw.replace(",", " ").split()]
    return items or None


# --- the endpoint list ----------------------------------------------------------------------------


async def _endpoints_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    *,
    refusal: Refusal | None = None,
) -> Response:
    endpoints = await events_service.list_endpoints(session, clinic_id=user.clinic.id)
    return render(
        request,
        "webhooks.html",
        **refusal_context(refusal),
        user=user,
        nav="webhooks",
        endpoints=endpoints,
        pending=await events_service.pending_counts(session, endpoints),
        formats=FORMAT_LABELS,
        local=ClinicTime(user.clinic.time_zone),
    )


@router.get("/console/webhooks")
async def webhooks_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return await _endpoints_page(request, user, session)


@router.post("/console/webhooks")
async def create_endpoint(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: EndpointForm) -> str:
        created = await events_service.create_endpoint(
            session,
            box=runtime.box,
            clinic_id=user.clinic.id,
            format=form.format,
            url=form.url,
            event_types=split_event_types(form.events),
            allow_private_targets=runtime.settings.private_webhooks_allowed,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return endpoint_path(created.endpoint.id, notice="created")

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=EndpointForm,
        act=act,
        refused=lambda refusal: _endpoints_page(request, user, session, refusal=refusal),
    )


# --- one endpoint: details, actions, attempts -----------------------------------------------------


async def _endpoint_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    endpoint_id: uuid.UUID,
    *,
    filters: dict[str, str] | None = None,
    notice: str | None = None,
    replayed: int | None = None,
    refusal: Refusal | None = None,
) -> Response:
    local = ClinicTime(user.clinic.time_zone)
    endpoint = await events_service.get_endpoint(session, clinic_id=user.clinic.id, endpoint_id=endpoint_id)
    filters = filters or {}
    attempts: list[Any] = []
    try:
        query = _attempt_query(local, filters)
        attempts = await events_service.list_attempts(
            session, clinic_id=user.clinic.id, endpoint_id=endpoint.id, query=query
        )
    except InvalidInput as exc:
        refusal = refusal or Refusal(exc)  # a filter that does not read, unless a form was refused
    now = runtime.clock.now()
    previous_expires = endpoint.previous_secret_expires_at
    return render(
        request,
        "webhook_endpoint.html",
        **refusal_context(refusal),
        user=user,
        nav="webhooks",
        endpoint=endpoint,
        secret=events_service.reveal_secret(runtime.box, endpoint),
        previous_secret_until=previous_expires if previous_expires and previous_expires > now else None,
        pending=(await events_service.pending_counts(session, [endpoint])).get(endpoint.id, 0),
        waits_for_renderer=events_service.waits_for_renderer(endpoint),
        receives_test_events=events_service.receives_test_events(endpoint),
        always_strict_order=events_service.always_strict_order(endpoint.format),
        backlog_since=events_service.backlog_since(endpoint),
        attempts=attempts,
        filters=filters,
        outcomes=list(AttemptFilter),
        notice=NOTICES.get(notice or ""),
        replayed=replayed,
        local=local,
    )


def _attempt_query(local: ClinicTime, filters: dict[str, str]) -> AttemptQuery:
    status = filters.get("status", "")
    if status and status not in tuple(AttemptFilter):
        raise InvalidInput("status: choose succeeded or failed", field="status")
    for name, value in filters.items():
        if (reason := unstorable_text(value)) is not None:
            raise InvalidInput(f"{name}: {reason}", field=name)
    since, until = filters.get("since", ""), filters.get("until", "")
    return AttemptQuery(
        outcome=AttemptFilter(status) if status else None,
        event_type=filters.get("event_type", "").strip() or None,
        since=local.parse_datetime(since, field="since") if since else None,
        until=local.parse_datetime(until, field="until") if until else None,
        limit=ATTEMPTS_SHOWN,
    )


@router.get("/console/webhooks/{endpoint_id}")
async def endpoint_page(
    request: Request,
    endpoint_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    notice: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    event_type: Annotated[str, Query(max_length=100)] = "",
    since: Annotated[str, Query(max_length=30)] = "",
    until: Annotated[str, Query(max_length=30)] = "",
    replayed: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    filters = {"status": status, "event_type": event_type, "since": since, "until": until}
    return await _endpoint_page(
        request,
        user,
        session,
        runtime,
        endpoint_id,
        filters={k: v for k, v in filters.items() if v},
        notice=notice,
        replayed=replayed,
    )


async def _act(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    endpoint_id: uuid.UUID,
    form: type[FormT],
    action: Callable[[FormT], Awaitable[dict[str, int] | None]],
    notice: str,
) -> Response:
    """Run one endpoint action; on success go back to the endpoint page with its notice, else show why."""

    async def act(parsed: FormT) -> str:
        extra = await action(parsed)
        return endpoint_path(endpoint_id, notice=notice, **(extra or {}))

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=form,
        act=act,
        refused=lambda refusal: _endpoint_page(request, user, session, runtime, endpoint_id, refusal=refusal),
    )


@router.post("/console/webhooks/{endpoint_id}/test")
async def send_test_event(
    request: Request, endpoint_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def action(_form: EmptyForm) -> None:
        await events_service.send_test_event(
            session, clinic_id=user.clinic.id, endpoint_id=endpoint_id, clock=runtime.clock
        )

    return await _act(request, user, session, runtime, endpoint_id, EmptyForm, action, "test-sent")


@router.post("/console/webhooks/{endpoint_id}/rotate-secret")
async def rotate_secret(
    request: Request, endpoint_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def action(_form: EmptyForm) -> None:
        await events_service.rotate_secret(
            session,
            box=runtime.box,
            clinic_id=user.clinic.id,
            endpoint_id=endpoint_id,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )

    return await _act(request, user, session, runtime, endpoint_id, EmptyForm, action, "rotated")


@router.post("/console/webhooks/{endpoint_id}/disable")
async def disable_endpoint(
    request: Request, endpoint_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def action(_form: EmptyForm) -> None:
        await events_service.disable_endpoint(
            session,
            clinic_id=user.clinic.id,
            endpoint_id=endpoint_id,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )

    return await _act(request, user, session, runtime, endpoint_id, EmptyForm, action, "disabled")


@router.post("/console/webhooks/{endpoint_id}/strict-order")
async def set_strict_order(
    request: Request, endpoint_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: StrictOrderForm) -> str:
        await events_service.set_strict_order(
            session,
            clinic_id=user.clinic.id,
            endpoint_id=endpoint_id,
            strict_order=form.strict_order,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return endpoint_path(
            endpoint_id, notice="strict-order-on" if form.strict_order else "strict-order-off"
        )

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=StrictOrderForm,
        act=act,
        refused=lambda refusal: _endpoint_page(request, user, session, runtime, endpoint_id, refusal=refusal),
    )


@router.post("/console/webhooks/{endpoint_id}/enable")
async def enable_endpoint(
    request: Request, endpoint_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def action(form: EnableEndpointForm) -> dict[str, int]:
        replayed = await events_service.enable_endpoint(
            session,
            clinic_id=user.clinic.id,
            endpoint_id=endpoint_id,
            replay_backlog=form.replay_backlog,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return {"replayed": replayed}

    return await _act(request, user, session, runtime, endpoint_id, EnableEndpointForm, action, "enabled")


@router.post("/console/webhooks/{endpoint_id}/replay")
async def replay_window(
    request: Request, endpoint_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    local = ClinicTime(user.clinic.time_zone)

    async def action(form: ReplayWindowForm) -> dict[str, int]:
        assert form.since is not None  # the form requires it
        replayed = await events_service.replay_endpoint(
            session,
            clinic_id=user.clinic.id,
            endpoint_id=endpoint_id,
            since=local.wall_to_utc(form.since),
            until=local.wall_to_utc(form.until) if form.until else None,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return {"replayed": replayed}

    return await _act(request, user, session, runtime, endpoint_id, ReplayWindowForm, action, "replayed")


@router.post("/console/webhooks/{endpoint_id}/events/{event_id}/replay")
async def replay_message(
    request: Request,
    endpoint_id: uuid.UUID,
    event_id: str,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    async def action(_form: EmptyForm) -> dict[str, int]:
        endpoints = await events_service.replay_event(
            session,
            clinic_id=user.clinic.id,
            event_id=event_id,
            endpoint_id=endpoint_id,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return {"replayed": len(endpoints)}

    return await _act(request, user, session, runtime, endpoint_id, EmptyForm, action, "replayed")


@router.post("/console/webhooks/{endpoint_id}/delete")
async def delete_endpoint(
    request: Request, endpoint_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(_form: EmptyForm) -> str:
        await events_service.delete_endpoint(
            session,
            clinic_id=user.clinic.id,
            endpoint_id=endpoint_id,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return "/console/webhooks"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=EmptyForm,
        act=act,
        refused=lambda refusal: _endpoint_page(request, user, session, runtime, endpoint_id, refusal=refusal),
    )
