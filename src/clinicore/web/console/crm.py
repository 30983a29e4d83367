"""Console CRM pages: leads (list with filters, detail), agents, outbound campaigns and their contacts.

Staff record call attempts here; a dialer records them through the native API. Both go through
``crm_service.record_attempt``, which decides the contact's next status.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.crm import service as crm_service
from clinicore.core.models import (
    AgentDirection,
    AttemptOutcome,
    CampaignContact,
    CampaignStatus,
    ContactStatus,
    Lead,
    LeadSource,
)
from clinicore.core.scheduling import booking as booking_service
from clinicore.core.scheduling import hours as hours_service
from clinicore.core.scheduling import settings as settings_service
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.kit.paging import Page, one_page
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.clinic_time import ClinicTime, parse_date
from clinicore.web.console.form_models import (
    AgentForm,
    AgentUpdateForm,
    AttemptForm,
    BookingForm,
    CampaignForm,
    CampaignStatusForm,
    ContactForm,
    parse_id,
)
from clinicore.web.console.forms import Refusal, refusal_context, submit_form
from clinicore.web.console.routes import render
from clinicore.web.console.scheduling import booking_request_from_form
from clinicore.web.console.session import CurrentUser, require

router = APIRouter(include_in_schema=False)
LEADS = require(Permission.work_leads)
CAMPAIGNS = require(Permission.run_campaigns)

PAGE_SIZE = 50
LEAD_APPOINTMENTS_SHOWN = 100


LAST_PAGE = 100_000  # far past any list a clinic keeps; a larger number would overflow the offset


def page_number(raw: str | None) -> int:
    """A page number from the query: anything that is not a whole number from 1 to ``LAST_PAGE`` is 1."""
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(LAST_PAGE)):
        return 1
    return min(max(int(raw), 1), LAST_PAGE)


def recorded_by_label(recorded_by: str) -> str:
    if recorded_by.startswith("user:"):
        return "Staff (console)"
    if recorded_by.startswith("api_key:"):
        return "Dialer (API)"
    return recorded_by


# --- leads ----------------------------------------------------------------------------------------


@router.get("/console/leads", dependencies=[LEADS])
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
    refusal: Refusal | None = None,
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
        **refusal_context(refusal),
        user=user,
        nav="leads",
        local=ClinicTime(user.clinic.time_zone),
        lead=lead,
        agent=agent,
        appointments=appointments,
        practitioner_names={p.id: p.name for p in practitioners},
        bookable=[p for p in practitioners if p.is_active],
        default_length=settings.default_length_minutes,
    )


@router.get("/console/leads/{lead_id}", dependencies=[LEADS])
async def lead_page(
    request: Request, lead_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _lead_page(request, user, session, runtime, lead_id)


@router.post("/console/leads/{lead_id}/appointments", dependencies=[LEADS])
async def book_for_lead(
    request: Request, lead_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: BookingForm) -> str:
        booking = booking_request_from_form(ClinicTime(user.clinic.time_zone), form, lead_id=lead_id)
        await booking_service.book_appointment(
            session, clinic_id=user.clinic.id, request=booking, source="console", clock=runtime.clock
        )
        return f"/console/leads/{lead_id}#appointments"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=BookingForm,
        act=act,
        refused=lambda refusal: _lead_page(request, user, session, runtime, lead_id, refusal=refusal),
    )


# --- agents ---------------------------------------------------------------------------------------


async def _agents_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    *,
    refusal: Refusal | None = None,
) -> Response:
    return render(
        request,
        "agents.html",
        **refusal_context(refusal),
        user=user,
        nav="agents",
        agents=await crm_service.list_agents(session, clinic_id=user.clinic.id),
        directions=list(AgentDirection),
    )


@router.get("/console/agents", dependencies=[CAMPAIGNS])
async def agents_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return await _agents_page(request, user, session)


@router.post("/console/agents", dependencies=[CAMPAIGNS])
async def create_agent(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: AgentForm) -> str:
        await crm_service.create_agent(
            session,
            clinic_id=user.clinic.id,
            name=form.name,
            direction=form.direction,
            phone_number=form.phone_number,
            clock=runtime.clock,
        )
        return "/console/agents"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=AgentForm,
        act=act,
        refused=lambda refusal: _agents_page(request, user, session, refusal=refusal),
    )


@router.post("/console/agents/{agent_id}", dependencies=[CAMPAIGNS])
async def update_agent(
    request: Request, agent_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: AgentUpdateForm) -> str:
        await crm_service.update_agent(
            session,
            clinic_id=user.clinic.id,
            agent_id=agent_id,
            name=form.name,
            direction=form.direction,
            phone_number=form.phone_number,
            is_active=form.active,
            clock=runtime.clock,
        )
        return "/console/agents"

    async def refused(refusal: Refusal) -> Response:
        # Another clinic's agent is a 404, even when the form does not read.
        await crm_service.get_agent(session, clinic_id=user.clinic.id, agent_id=agent_id)
        return await _agents_page(request, user, session, refusal=refusal)

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=AgentUpdateForm,
        act=act,
        refused=refused,
    )


# --- campaigns ------------------------------------------------------------------------------------


async def _campaigns_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    *,
    refusal: Refusal | None = None,
) -> Response:
    agents = await crm_service.list_agents(session, clinic_id=user.clinic.id)
    return render(
        request,
        "campaigns.html",
        **refusal_context(refusal),
        user=user,
        nav="campaigns",
        local=ClinicTime(user.clinic.time_zone),
        campaigns=await crm_service.list_campaigns(session, clinic_id=user.clinic.id),
        agents={agent.id: agent for agent in agents},
        outbound_agents=[a for a in agents if a.direction == AgentDirection.outbound and a.is_active],
        statuses=list(CampaignStatus),
    )


@router.get("/console/campaigns", dependencies=[CAMPAIGNS])
async def campaigns_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return await _campaigns_page(request, user, session)


@router.post("/console/campaigns", dependencies=[CAMPAIGNS])
async def create_campaign(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: CampaignForm) -> str:
        campaign = await crm_service.create_campaign(
            session,
            clinic_id=user.clinic.id,
            name=form.name,
            agent_id=form.agent_id,
            target_country=form.target_country,
            max_attempts=form.max_attempts,
            status=form.status,
            clock=runtime.clock,
        )
        return f"/console/campaigns/{campaign.id}"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=CampaignForm,
        act=act,
        refused=lambda refusal: _campaigns_page(request, user, session, refusal=refusal),
    )


async def _campaign_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    campaign_id: uuid.UUID,
    *,
    contact_status: str = "",
    page: int = 1,
    refusal: Refusal | None = None,
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
        **refusal_context(refusal),
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
    )


@router.get("/console/campaigns/{campaign_id}", dependencies=[CAMPAIGNS])
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


@router.post("/console/campaigns/{campaign_id}/status", dependencies=[CAMPAIGNS])
async def set_campaign_status(
    request: Request, campaign_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: CampaignStatusForm) -> str:
        await crm_service.set_campaign_status(
            session,
            clinic_id=user.clinic.id,
            campaign_id=campaign_id,
            status=form.status,
            clock=runtime.clock,
        )
        return f"/console/campaigns/{campaign_id}"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=CampaignStatusForm,
        act=act,
        refused=lambda refusal: _campaign_page(request, user, session, campaign_id, refusal=refusal),
    )


@router.post("/console/campaigns/{campaign_id}/contacts", dependencies=[CAMPAIGNS])
async def add_contact(
    request: Request, campaign_id: uuid.UUID, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def act(form: ContactForm) -> str:
        contact = await crm_service.add_contact(
            session,
            clinic_id=user.clinic.id,
            campaign_id=campaign_id,
            name=form.name,
            phone=form.phone,
            interest=form.interest,
            city=form.city,
            country=form.country,
            email=form.email,
            language=form.language,
            notes=form.notes,
            clock=runtime.clock,
        )
        return f"/console/campaigns/{campaign_id}/contacts/{contact.id}"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=ContactForm,
        act=act,
        refused=lambda refusal: _campaign_page(request, user, session, campaign_id, refusal=refusal),
    )


async def _campaign_contact(
    session: AsyncSession, user: SignedInUser, campaign_id: uuid.UUID, contact_id: uuid.UUID
) -> CampaignContact:
    """The contact addressed by the URL: of this clinic, and of the campaign the URL names."""
    contact = await crm_service.get_contact(session, clinic_id=user.clinic.id, contact_id=contact_id)
    if contact.campaign_id != campaign_id:
        raise NotFound("campaign contact not found")
    return contact


async def _contact_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    campaign_id: uuid.UUID,
    contact_id: uuid.UUID,
    *,
    refusal: Refusal | None = None,
) -> Response:
    clinic_id = user.clinic.id
    contact = await _campaign_contact(session, user, campaign_id, contact_id)
    campaign = await crm_service.get_campaign(session, clinic_id=clinic_id, campaign_id=campaign_id)
    return render(
        request,
        "campaign_contact.html",
        **refusal_context(refusal),
        user=user,
        nav="campaigns",
        local=ClinicTime(user.clinic.time_zone),
        campaign=campaign,
        contact=contact,
        attempts=await crm_service.list_attempts(session, clinic_id=clinic_id, contact_id=contact.id),
        outcomes=list(AttemptOutcome),
        finished=contact.status in crm_service.TERMINAL_CONTACT_STATUSES,
        recorded_by_label=recorded_by_label,
    )


@router.get("/console/campaigns/{campaign_id}/contacts/{contact_id}", dependencies=[CAMPAIGNS])
async def contact_page(
    request: Request, campaign_id: uuid.UUID, contact_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Response:
    return await _contact_page(request, user, session, campaign_id, contact_id)


@router.post("/console/campaigns/{campaign_id}/contacts/{contact_id}/attempts", dependencies=[CAMPAIGNS])
async def record_attempt(
    request: Request,
    campaign_id: uuid.UUID,
    contact_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    async def act(form: AttemptForm) -> str:
        contact = await _campaign_contact(session, user, campaign_id, contact_id)
        await crm_service.record_attempt(
            session,
            clinic_id=user.clinic.id,
            contact_id=contact.id,
            outcome=form.outcome,
            callback_at=(
                ClinicTime(user.clinic.time_zone).wall_to_utc(form.callback_at) if form.callback_at else None
            ),
            notes=form.notes,
            recorded_by=f"user:{user.user.id}",
            clock=runtime.clock,
        )
        return f"/console/campaigns/{campaign_id}/contacts/{contact_id}"

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=AttemptForm,
        act=act,
        refused=lambda refusal: _contact_page(
            request, user, session, campaign_id, contact_id, refusal=refusal
        ),
    )
