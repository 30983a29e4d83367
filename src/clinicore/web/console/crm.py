"""Console CRM pages: leads (list with filters, detail), agents, outbound campaigns and their contacts.

Staff record call attempts here; a dialer records them through the native API. Both go through
``crm_service.record_attempt``, which decides the contact's next status.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.crm import service as crm_service
from clinicore.core.models import (
    AgentDirection,
    AttemptOutcome,
    CampaignStatus,
    ContactStatus,
    Lead,
    LeadSource,
)
from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling import hours as hours_service
from clinicore.core.scheduling import settings as settings_service
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.kit.paging import Page, one_page
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.clinic_time import ClinicTime, parse_date, parse_whole_number
from clinicore.web.console.errors import error_status
from clinicore.web.console.routes import FormField, render
from clinicore.web.console.scheduling import booking_request_from_form, parse_id
from clinicore.web.console.session import CurrentUser, check_csrf

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
LEAD_APPOINTMENTS_SHOWN = 100


def page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and int(raw) >= 1 else 1


def recorded_by_label(recorded_by: str) -> str:
    if recorded_by.startswith("user:"):
        return "Staff (console)"
    if recorded_by.startswith("api_key:"):
        return "Dialer (API)"
    return recorded_by


# --- leads ----------------------------------------------------------------------------------------


@router.get("/console/leads")
async def leads_page(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    source: str = "",
    agent: str = "",
    updated_since: str = "",
    page: str | None = None,
) -> Response:
    clinic_time = ClinicTime(user.clinic.time_zone)
    agents = await crm_service.list_agents(session, clinic_id=user.clinic.id)
    filters = {"source": source, "agent": agent, "updated_since": updated_since}
    number = page_number(page)
    error = None
    leads: Page[Lead] = Page(items=[], has_more=False)
    try:
        if source and source not in LeadSource.__members__:
            raise InvalidInput("source: choose one of the listed sources", field="source")
        agent_id = parse_id(agent, field="agent") if agent else None
        since = (
            clinic_time.start_of(parse_date(updated_since, field="updated_since")) if updated_since else None
        )
        leads = await one_page(
            lambda rows: crm_service.list_leads(
                session,
                clinic_id=user.clinic.id,
                source=LeadSource(source) if source else None,
                agent_id=agent_id,
                updated_since=since,
                limit=rows,
                offset=(number - 1) * PAGE_SIZE,
            ),
            limit=PAGE_SIZE,
        )
    except InvalidInput as exc:
        error = exc.message
    active_filters = {name: value for name, value in filters.items() if value}
    return render(
        request,
        "leads.html",
        status_code=400 if error else 200,
        user=user,
        nav="leads",
        local=clinic_time,
        leads=leads.items,
        agents={a.id: a for a in agents},
        sources=list(LeadSource),
        filters=filters,
        page=number,
        previous_url=f"?{urlencode(active_filters | {'page': number - 1})}" if number > 1 else None,
        next_url=f"?{urlencode(active_filters | {'page': number + 1})}" if leads.has_more else None,
        error=error,
    )


async def _lead_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    lead_id: uuid.UUID,
    *,
    error: str | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    clinic_id = user.clinic.id
    lead = await crm_service.get_lead(session, clinic_id=clinic_id, lead_id=lead_id)
    agent = (
        await crm_service.get_agent(session, clinic_id=clinic_id, agent_id=lead.agent_id)
        if lead.agent_id
        else None
    )
    practitioners = await hours_service.list_practitioners(session, clinic_id=clinic_id)
    settings = await settings_service.get_booking_settings(session, clinic_id=clinic_id, clock=runtime.clock)
    appointments = await booking_service.list_appointments(
        session, clinic_id=clinic_id, lead_id=lead.id, limit=LEAD_APPOINTMENTS_SHOWN
    )
    return render(
        request,
        "lead.html",
        status_code=status_code,
        user=user,
        nav="leads",
        local=ClinicTime(user.clinic.time_zone),
        lead=lead,
        agent=agent,
        appointments=appointments,
        practitioner_names={p.id: p.name for p in practitioners},
        bookable=[p for p in practitioners if p.is_active],
        default_length=settings.default_length_minutes,
        error=error,
        form=form or {},
    )


@router.get("/console/leads/{lead_id}")
async def lead_page(
    request: Request, lead_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _lead_page(request, user, session, runtime, lead_id)


@router.post("/console/leads/{lead_id}/appointments")
async def book_for_lead(
    request: Request,
    lead_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    practitioner_id: FormField = "",
    day: FormField = "",
    start: FormField = "",
    length: FormField = "",
    title: FormField = "",
    notes: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    lead = await crm_service.get_lead(session, clinic_id=user.clinic.id, lead_id=lead_id)
    try:
        booking = booking_request_from_form(
            ClinicTime(user.clinic.time_zone),
            practitioner_id=practitioner_id,
            day=day,
            start=start,
            length_minutes=length,
            title=title,
            notes=notes,
            lead_id=lead.id,
        )
        await booking_service.book_appointment(
            session, clinic_id=user.clinic.id, request=booking, source="console", clock=runtime.clock
        )
    except (InvalidInput, Conflict) as exc:
        submitted = {
            "practitioner_id": practitioner_id,
            "day": day,
            "start": start,
            "length": length,
            "title": title,
            "notes": notes,
        }
        return await _lead_page(
            request,
            user,
            session,
            runtime,
            lead_id,
            error=exc.message,
            form=submitted,
            status_code=error_status(exc),
        )
    return RedirectResponse(f"/console/leads/{lead_id}#appointments", status_code=303)


# --- agents ---------------------------------------------------------------------------------------


async def _agents_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    *,
    error: str | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "agents.html",
        status_code=status_code,
        user=user,
        nav="agents",
        agents=await crm_service.list_agents(session, clinic_id=user.clinic.id),
        directions=list(AgentDirection),
        error=error,
        form=form or {},
    )


def agent_direction(raw: str) -> AgentDirection:
    if raw not in AgentDirection.__members__:
        raise InvalidInput("direction: inbound or outbound", field="direction")
    return AgentDirection(raw)


@router.get("/console/agents")
async def agents_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return await _agents_page(request, user, session)


@router.post("/console/agents")
async def create_agent(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    name: FormField = "",
    direction: FormField = "",
    phone_number: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    try:
        await crm_service.create_agent(
            session,
            clinic_id=user.clinic.id,
            name=name,
            direction=agent_direction(direction),
            phone_number=phone_number.strip() or None,
            clock=runtime.clock,
        )
    except InvalidInput as exc:
        submitted = {"name": name, "direction": direction, "phone_number": phone_number}
        return await _agents_page(request, user, session, error=exc.message, form=submitted, status_code=400)
    return RedirectResponse("/console/agents", status_code=303)


@router.post("/console/agents/{agent_id}")
async def update_agent(
    request: Request,
    agent_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    name: FormField = "",
    direction: FormField = "",
    phone_number: FormField = "",
    active: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    await crm_service.get_agent(session, clinic_id=user.clinic.id, agent_id=agent_id)  # 404 before a 400
    try:
        await crm_service.update_agent(
            session,
            clinic_id=user.clinic.id,
            agent_id=agent_id,
            name=name,
            direction=agent_direction(direction),
            phone_number=phone_number.strip() or None,
            is_active=bool(active),
            clock=runtime.clock,
        )
    except InvalidInput as exc:
        return await _agents_page(request, user, session, error=exc.message, status_code=400)
    return RedirectResponse("/console/agents", status_code=303)


# --- campaigns ------------------------------------------------------------------------------------


async def _campaigns_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    *,
    error: str | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    agents = await crm_service.list_agents(session, clinic_id=user.clinic.id)
    return render(
        request,
        "campaigns.html",
        status_code=status_code,
        user=user,
        nav="campaigns",
        local=ClinicTime(user.clinic.time_zone),
        campaigns=await crm_service.list_campaigns(session, clinic_id=user.clinic.id),
        agents={agent.id: agent for agent in agents},
        outbound_agents=[a for a in agents if a.direction == AgentDirection.outbound and a.is_active],
        statuses=list(CampaignStatus),
        error=error,
        form=form or {},
    )


def campaign_status(raw: str) -> CampaignStatus:
    if raw not in CampaignStatus.__members__:
        raise InvalidInput("status: choose one of the listed statuses", field="status")
    return CampaignStatus(raw)


@router.get("/console/campaigns")
async def campaigns_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return await _campaigns_page(request, user, session)


@router.post("/console/campaigns")
async def create_campaign(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    name: FormField = "",
    agent_id: FormField = "",
    target_country: FormField = "",
    max_attempts: FormField = "3",
    status: FormField = "active",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    try:
        campaign = await crm_service.create_campaign(
            session,
            clinic_id=user.clinic.id,
            name=name,
            agent_id=parse_id(agent_id, field="agent") if agent_id else None,
            target_country=target_country.strip() or None,
            max_attempts=parse_whole_number(max_attempts, field="max_attempts"),
            status=campaign_status(status),
            clock=runtime.clock,
        )
    except InvalidInput as exc:
        submitted = {
            "name": name,
            "agent_id": agent_id,
            "target_country": target_country,
            "max_attempts": max_attempts,
            "status": status,
        }
        return await _campaigns_page(
            request, user, session, error=exc.message, form=submitted, status_code=400
        )
    return RedirectResponse(f"/console/campaigns/{campaign.id}", status_code=303)


async def _campaign_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    campaign_id: uuid.UUID,
    *,
    contact_status: str = "",
    page: int = 1,
    error: str | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    clinic_id = user.clinic.id
    campaign = await crm_service.get_campaign(session, clinic_id=clinic_id, campaign_id=campaign_id)
    agent = (
        await crm_service.get_agent(session, clinic_id=clinic_id, agent_id=campaign.agent_id)
        if campaign.agent_id
        else None
    )
    wanted = ContactStatus(contact_status) if contact_status in ContactStatus.__members__ else None
    contacts = await one_page(
        lambda rows: crm_service.list_contacts(
            session,
            clinic_id=clinic_id,
            campaign_id=campaign.id,
            status=wanted,
            limit=rows,
            offset=(page - 1) * PAGE_SIZE,
        ),
        limit=PAGE_SIZE,
    )
    filters = {"status": wanted} if wanted else {}
    return render(
        request,
        "campaign.html",
        status_code=status_code,
        user=user,
        nav="campaigns",
        local=ClinicTime(user.clinic.time_zone),
        campaign=campaign,
        agent=agent,
        contacts=contacts.items,
        contact_status=wanted,
        contact_statuses=list(ContactStatus),
        statuses=list(CampaignStatus),
        previous_url=f"?{urlencode(filters | {'page': page - 1})}" if page > 1 else None,
        next_url=f"?{urlencode(filters | {'page': page + 1})}" if contacts.has_more else None,
        error=error,
        form=form or {},
    )


@router.get("/console/campaigns/{campaign_id}")
async def campaign_page(
    request: Request,
    campaign_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    status: str = "",
    page: str | None = None,
) -> Response:
    return await _campaign_page(
        request, user, session, campaign_id, contact_status=status, page=page_number(page)
    )


@router.post("/console/campaigns/{campaign_id}/status")
async def set_campaign_status(
    request: Request,
    campaign_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    status: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    try:
        await crm_service.set_campaign_status(
            session,
            clinic_id=user.clinic.id,
            campaign_id=campaign_id,
            status=campaign_status(status),
            clock=runtime.clock,
        )
    except InvalidInput as exc:
        return await _campaign_page(request, user, session, campaign_id, error=exc.message, status_code=400)
    return RedirectResponse(f"/console/campaigns/{campaign_id}", status_code=303)


@router.post("/console/campaigns/{campaign_id}/contacts")
async def add_contact(
    request: Request,
    campaign_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    name: FormField = "",
    phone: FormField = "",
    interest: FormField = "",
    city: FormField = "",
    country: FormField = "",
    email: FormField = "",
    language: FormField = "",
    notes: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    try:
        contact = await crm_service.add_contact(
            session,
            clinic_id=user.clinic.id,
            campaign_id=campaign_id,
            name=name,
            phone=phone,
            interest=interest,
            city=city,
            country=country.strip() or None,
            email=email.strip() or None,
            language=language.strip() or None,
            notes=notes.strip() or None,
            clock=runtime.clock,
        )
    except (InvalidInput, Conflict) as exc:
        submitted = {
            "name": name,
            "phone": phone,
            "interest": interest,
            "city": city,
            "country": country,
            "email": email,
            "language": language,
            "notes": notes,
        }
        return await _campaign_page(
            request,
            user,
            session,
            campaign_id,
            error=exc.message,
            form=submitted,
            status_code=error_status(exc),
        )
    return RedirectResponse(f"/console/campaigns/{campaign_id}/contacts/{contact.id}", status_code=303)


async def _contact_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    campaign_id: uuid.UUID,
    contact_id: uuid.UUID,
    *,
    error: str | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    clinic_id = user.clinic.id
    campaign = await crm_service.get_campaign(session, clinic_id=clinic_id, campaign_id=campaign_id)
    contact = await crm_service.get_contact(session, clinic_id=clinic_id, contact_id=contact_id)
    if contact.campaign_id != campaign.id:
        raise NotFound("campaign contact not found")
    return render(
        request,
        "campaign_contact.html",
        status_code=status_code,
        user=user,
        nav="campaigns",
        local=ClinicTime(user.clinic.time_zone),
        campaign=campaign,
        contact=contact,
        attempts=await crm_service.list_attempts(session, clinic_id=clinic_id, contact_id=contact.id),
        outcomes=list(AttemptOutcome),
        finished=contact.status in crm_service.TERMINAL_CONTACT_STATUSES,
        recorded_by_label=recorded_by_label,
        error=error,
        form=form or {},
    )


@router.get("/console/campaigns/{campaign_id}/contacts/{contact_id}")
async def contact_page(
    request: Request, campaign_id: uuid.UUID, contact_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Response:
    return await _contact_page(request, user, session, campaign_id, contact_id)


@router.post("/console/campaigns/{campaign_id}/contacts/{contact_id}/attempts")
async def record_attempt(
    request: Request,
    campaign_id: uuid.UUID,
    contact_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    outcome: FormField = "",
    callback_at: FormField = "",
    notes: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    check_csrf(user.console_session.csrf_token, csrf_token)
    campaign = await crm_service.get_campaign(session, clinic_id=user.clinic.id, campaign_id=campaign_id)
    contact = await crm_service.get_contact(session, clinic_id=user.clinic.id, contact_id=contact_id)
    if contact.campaign_id != campaign.id:
        raise NotFound("campaign contact not found")
    try:
        if outcome not in AttemptOutcome.__members__:
            raise InvalidInput("outcome: choose how the call ended", field="outcome")
        # A callback time only means something with a callback outcome; a value left in the field otherwise
        # is ignored rather than refused.
        wants_callback = outcome == AttemptOutcome.callback_requested
        callback = (
            ClinicTime(user.clinic.time_zone).parse_datetime(callback_at, field="callback_at")
            if wants_callback and callback_at.strip()
            else None
        )
        await crm_service.record_attempt(
            session,
            clinic_id=user.clinic.id,
            contact_id=contact.id,
            outcome=AttemptOutcome(outcome),
            callback_at=callback,
            notes=notes.strip() or None,
            recorded_by=f"user:{user.user.id}",
            clock=runtime.clock,
        )
    except (InvalidInput, Conflict) as exc:
        submitted = {"outcome": outcome, "callback_at": callback_at, "notes": notes}
        return await _contact_page(
            request,
            user,
            session,
            campaign_id,
            contact_id,
            error=exc.message,
            form=submitted,
            status_code=error_status(exc),
        )
    return RedirectResponse(f"/console/campaigns/{campaign_id}/contacts/{contact_id}", status_code=303)
