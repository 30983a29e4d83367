"""Console webhook pages: endpoints (create, disable/enable, rotate the secret, send a test event,
delete), each endpoint's delivery attempts with filters, and replays of one message or of a window.

Times are shown and entered in the clinic's time zone."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.events import service as events_service
from clinicore.core.events.schemas import AttemptFilter, AttemptQuery
from clinicore.core.models import WebhookFormat
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import CoreError, InvalidInput
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.clinic_time import ClinicTime
from clinicore.web.console.errors import error_status
from clinicore.web.console.routes import FormField, render
from clinicore.web.console.session import CurrentUser, check_csrf

router = APIRouter(include_in_schema=False)

# Formats a clinic adds by hand, as the select shows them. A qualiphy endpoint hears every exam of the
# clinic, beside the endpoint each invite's webhook_url creates.
FORMAT_LABELS = {
    WebhookFormat.native: "native",
    WebhookFormat.qualifybase: "qualifybase",
    WebhookFormat.intakeq: "intakeq",
    WebhookFormat.qualiphy: "Qualiphy (events 1/2/3)",
}
CREATABLE_FORMATS = tuple(FORMAT_LABELS)
ATTEMPTS_SHOWN = 100
# What a finished action says on the page it redirects to (never text taken from the URL).
NOTICES = {
    "created": "Endpoint added. Its signing secret is below.",
    "test-sent": "Test event queued: it appears in the attempts below once the worker has sent it.",
    "rotated": "Secret rotated. The previous secret keeps signing beside the new one for 24 hours.",
    "disabled": "Endpoint disabled. Nothing is sent until it is enabled again.",
    "enabled": "Endpoint enabled.",
    "replayed": "Queued again.",
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
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    endpoints = await events_service.list_endpoints(session, clinic_id=user.clinic.id)
    return render(
        request,
        "webhooks.html",
        status_code=status_code,
        user=user,
        nav="webhooks",
        endpoints=endpoints,
        pending=await events_service.pending_counts(session, endpoints),
        formats=FORMAT_LABELS,
        error=error,
        form=form or {},
        local=ClinicTime(user.clinic.time_zone),
    )


@router.get("/console/webhooks")
async def webhooks_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return await _endpoints_page(request, user, session)


@router.post("/console/webhooks")
async def create_endpoint(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    format: FormField = "",
    url: FormField = "",
    events: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    form = {"format": format, "url": url, "events": events}
    if format not in CREATABLE_FORMATS:
        return await _endpoints_page(
            request, user, session, error="Choose a format.", form=form, status_code=400
        )
    try:
        created = await events_service.create_endpoint(
            session,
            box=runtime.box,
            clinic_id=user.clinic.id,
            format=WebhookFormat(format),
            url=url,
            event_types=split_event_types(events),
            allow_private_targets=runtime.settings.private_webhooks_allowed,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
    except InvalidInput as exc:
        return await _endpoints_page(request, user, session, error=exc.message, form=form, status_code=400)
    return RedirectResponse(endpoint_path(created.endpoint.id, notice="created"), status_code=303)


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
    error: str | None = None,
    status_code: int = 200,
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
        error = error or exc.message
        status_code = 400 if status_code == 200 else status_code
    now = runtime.clock.now()
    previous_expires = endpoint.previous_secret_expires_at
    return render(
        request,
        "webhook_endpoint.html",
        status_code=status_code,
        user=user,
        nav="webhooks",
        endpoint=endpoint,
        secret=events_service.reveal_secret(runtime.box, endpoint),
        previous_secret_until=previous_expires if previous_expires and previous_expires > now else None,
        pending=(await events_service.pending_counts(session, [endpoint])).get(endpoint.id, 0),
        waits_for_renderer=events_service.waits_for_renderer(endpoint),
        receives_test_events=events_service.receives_test_events(endpoint),
        backlog_since=events_service.backlog_since(endpoint),
        attempts=attempts,
        filters=filters,
        outcomes=list(AttemptFilter),
        notice=NOTICES.get(notice or ""),
        replayed=replayed,
        error=error,
        local=local,
    )


def _attempt_query(local: ClinicTime, filters: dict[str, str]) -> AttemptQuery:
    status = filters.get("status", "")
    if status and status not in tuple(AttemptFilter):
        raise InvalidInput("status: choose succeeded or failed", field="status")
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
    csrf_token: str,
    action: Any,
    notice: str,
) -> Response:
    """Run one endpoint action; on success go back to the endpoint page, else show why."""
    check_csrf(user.console_session.csrf_token, csrf_token)
    try:
        extra = await action()
    except CoreError as exc:
        return await _endpoint_page(
            request, user, session, runtime, endpoint_id, error=exc.message, status_code=error_status(exc)
        )
    return RedirectResponse(endpoint_path(endpoint_id, notice=notice, **(extra or {})), status_code=303)


@router.post("/console/webhooks/{endpoint_id}/test")
async def send_test_event(
    request: Request,
    endpoint_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    csrf_token: FormField = "",
) -> Response:
    async def action() -> None:
        await events_service.send_test_event(
            session, clinic_id=user.clinic.id, endpoint_id=endpoint_id, clock=runtime.clock
        )

    return await _act(request, user, session, runtime, endpoint_id, csrf_token, action, "test-sent")


@router.post("/console/webhooks/{endpoint_id}/rotate-secret")
async def rotate_secret(
    request: Request,
    endpoint_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    csrf_token: FormField = "",
) -> Response:
    async def action() -> None:
        await events_service.rotate_secret(
            session,
            box=runtime.box,
            clinic_id=user.clinic.id,
            endpoint_id=endpoint_id,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )

    return await _act(request, user, session, runtime, endpoint_id, csrf_token, action, "rotated")


@router.post("/console/webhooks/{endpoint_id}/disable")
async def disable_endpoint(
    request: Request,
    endpoint_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    csrf_token: FormField = "",
) -> Response:
    async def action() -> None:
        await events_service.disable_endpoint(
            session,
            clinic_id=user.clinic.id,
            endpoint_id=endpoint_id,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )

    return await _act(request, user, session, runtime, endpoint_id, csrf_token, action, "disabled")


@router.post("/console/webhooks/{endpoint_id}/enable")
async def enable_endpoint(
    request: Request,
    endpoint_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    replay_backlog: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    async def action() -> dict[str, int]:
        replayed = await events_service.enable_endpoint(
            session,
            clinic_id=user.clinic.id,
            endpoint_id=endpoint_id,
            replay_backlog=replay_backlog == "on",
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return {"replayed": replayed}

    return await _act(request, user, session, runtime, endpoint_id, csrf_token, action, "enabled")


@router.post("/console/webhooks/{endpoint_id}/replay")
async def replay_window(
    request: Request,
    endpoint_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    since: FormField = "",
    until: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    local = ClinicTime(user.clinic.time_zone)

    async def action() -> dict[str, int]:
        if not since:
            raise InvalidInput("since: enter when the replay starts", field="since")
        replayed = await events_service.replay_endpoint(
            session,
            clinic_id=user.clinic.id,
            endpoint_id=endpoint_id,
            since=local.parse_datetime(since, field="since"),
            until=local.parse_datetime(until, field="until") if until else None,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return {"replayed": replayed}

    return await _act(request, user, session, runtime, endpoint_id, csrf_token, action, "replayed")


@router.post("/console/webhooks/{endpoint_id}/events/{event_id}/replay")
async def replay_message(
    request: Request,
    endpoint_id: uuid.UUID,
    event_id: str,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    csrf_token: FormField = "",
) -> Response:
    async def action() -> dict[str, int]:
        endpoints = await events_service.replay_event(
            session,
            clinic_id=user.clinic.id,
            event_id=event_id,
            endpoint_id=endpoint_id,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return {"replayed": len(endpoints)}

    return await _act(request, user, session, runtime, endpoint_id, csrf_token, action, "replayed")


@router.post("/console/webhooks/{endpoint_id}/delete")
async def delete_endpoint(
    endpoint_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    await events_service.delete_endpoint(
        session,
        clinic_id=user.clinic.id,
        endpoint_id=endpoint_id,
        actor=Actor.user(user.user.id),
        clock=runtime.clock,
    )
    return RedirectResponse("/console/webhooks", status_code=303)
