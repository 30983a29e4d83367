"""All CRM queries: agents, leads, campaigns, contacts. Every lookup takes the clinic id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from clinicore.core.models import Agent, Campaign, CampaignContact, CampaignContactAttempt, Lead


async def get_agent(session: AsyncSession, *, clinic_id: uuid.UUID, agent_id: uuid.UUID) -> Agent | None:
    return await session.scalar(select(Agent).where(Agent.id == agent_id, Agent.clinic_id == clinic_id))


async def list_agents(
    session: AsyncSession, *, clinic_id: uuid.UUID, direction: str | None
) -> Sequence[Agent]:
    query = select(Agent).where(Agent.clinic_id == clinic_id)
    if direction is not None:
        query = query.where(Agent.direction == direction)
    return (await session.scalars(query.order_by(Agent.name, Agent.id))).all()


async def get_lead(session: AsyncSession, *, clinic_id: uuid.UUID, lead_id: uuid.UUID) -> Lead | None:
    return await session.scalar(select(Lead).where(Lead.id == lead_id, Lead.clinic_id == clinic_id))


async def lock_lead(session: AsyncSession, *, clinic_id: uuid.UUID, lead_id: uuid.UUID) -> Lead | None:
    """The lead, row-locked until the transaction ends (PostgreSQL; SQLite's transaction already holds
    the write lock) and read afresh, so that two bookings of one lead see each other's client link."""
    return await session.scalar(
        select(Lead)
        .where(Lead.id == lead_id, Lead.clinic_id == clinic_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def insert_lead_unless_taken(session: AsyncSession, lead: Lead) -> bool:
    """Insert the new ``lead`` unless its clinic already has a lead with its (external_source, external_id):
    one ``INSERT ... ON CONFLICT DO NOTHING``, no savepoint. True when inserted; the lead is then in the
    session as if loaded, every column set. False when the other lead won: nothing was written."""
    values = {}
    for column in inspect(Lead).column_attrs:
        value = getattr(lead, column.key)
        setattr(lead, column.key, value)  # an unset column is set to None (loaded, never lazily fetched)
        values[column.key] = value
    dialect = session.get_bind().dialect.name
    statement = (
        (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Lead)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["clinic_id", "external_source", "external_id"])
        .returning(Lead.id)
    )
    if (await session.execute(statement)).scalar_one_or_none() is None:
        return False
    make_transient_to_detached(lead)
    session.add(lead)
    return True


async def get_lead_by_external(
    session: AsyncSession, *, clinic_id: uuid.UUID, external_source: str, external_id: str
) -> Lead | None:
    return await session.scalar(
        select(Lead).where(
            Lead.clinic_id == clinic_id,
            Lead.external_source == external_source,
            Lead.external_id == external_id,
        )
    )


async def list_leads(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    updated_since: datetime | None,
    source: str | None,
    agent_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> Sequence[Lead]:
    query = select(Lead).where(Lead.clinic_id == clinic_id)
    if updated_since is not None:
        query = query.where(Lead.updated_at >= updated_since)
    if source is not None:
        query = query.where(Lead.source == source)
    if agent_id is not None:
        query = query.where(Lead.agent_id == agent_id)
    query = query.order_by(Lead.updated_at.desc(), Lead.id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def get_campaign(
    session: AsyncSession, *, clinic_id: uuid.UUID, campaign_id: uuid.UUID
) -> Campaign | None:
    return await session.scalar(
        select(Campaign).where(Campaign.id == campaign_id, Campaign.clinic_id == clinic_id)
    )


async def list_campaigns(session: AsyncSession, *, clinic_id: uuid.UUID) -> Sequence[Campaign]:
    query = select(Campaign).where(Campaign.clinic_id == clinic_id)
    return (await session.scalars(query.order_by(Campaign.created_at.desc(), Campaign.id))).all()


async def contact_counts(session: AsyncSession, *, campaign_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not campaign_ids:
        return {}
    rows = await session.execute(
        select(CampaignContact.campaign_id, func.count())
        .where(CampaignContact.campaign_id.in_(campaign_ids))
        .group_by(CampaignContact.campaign_id)
    )
    return {row[0]: int(row[1]) for row in rows}


async def campaign_has_phone(session: AsyncSession, *, campaign_id: uuid.UUID, phone: str) -> bool:
    query = select(CampaignContact.id).where(
        CampaignContact.campaign_id == campaign_id, CampaignContact.phone == phone
    )
    return (await session.scalar(query.limit(1))) is not None


async def get_contact(
    session: AsyncSession, *, clinic_id: uuid.UUID, contact_id: uuid.UUID
) -> CampaignContact | None:
    return await session.scalar(
        select(CampaignContact).where(
            CampaignContact.id == contact_id, CampaignContact.clinic_id == clinic_id
        )
    )


async def list_contacts(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    campaign_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    offset: int,
) -> Sequence[CampaignContact]:
    query = select(CampaignContact).where(CampaignContact.clinic_id == clinic_id)
    if campaign_id is not None:
        query = query.where(CampaignContact.campaign_id == campaign_id)
    if status is not None:
        query = query.where(CampaignContact.status == status)
    query = query.order_by(CampaignContact.created_at.desc(), CampaignContact.id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def list_attempts(
    session: AsyncSession, *, clinic_id: uuid.UUID, contact_id: uuid.UUID
) -> Sequence[CampaignContactAttempt]:
    query = select(CampaignContactAttempt).where(
        CampaignContactAttempt.clinic_id == clinic_id, CampaignContactAttempt.contact_id == contact_id
    )
    return (await session.scalars(query.order_by(CampaignContactAttempt.occurred_at))).all()
