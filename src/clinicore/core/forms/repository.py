"""All form queries, each scoped to the templates' owner (a partner or a clinic)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.forms.schemas import FormOwner
from clinicore.core.models import FormConsentDocument, FormQuestion, FormSection, FormTemplate


def _owned_by(owner: FormOwner) -> ColumnElement[bool]:
    if owner.partner_id is not None:
        return FormTemplate.partner_id == owner.partner_id
    return FormTemplate.clinic_id == owner.clinic_id


async def count_forms(session: AsyncSession, owner: FormOwner) -> int:
    return int(await session.scalar(select(func.count(FormTemplate.id)).where(_owned_by(owner))) or 0)


async def list_forms(session: AsyncSession, owner: FormOwner) -> Sequence[FormTemplate]:
    query = select(FormTemplate).where(_owned_by(owner)).order_by(FormTemplate.created_at, FormTemplate.id)
    return (await session.scalars(query)).all()


async def get_form(session: AsyncSession, *, owner: FormOwner, form_id: uuid.UUID) -> FormTemplate | None:
    return await session.scalar(select(FormTemplate).where(FormTemplate.id == form_id, _owned_by(owner)))


async def form_named(session: AsyncSession, *, owner: FormOwner, name: str) -> FormTemplate | None:
    """The owner's oldest form of that name."""
    query = (
        select(FormTemplate)
        .where(_owned_by(owner), FormTemplate.name == name)
        .order_by(FormTemplate.created_at, FormTemplate.id)
        .limit(1)
    )
    return await session.scalar(query)


async def copy_of(
    session: AsyncSession, *, owner: FormOwner, source_form_id: uuid.UUID
) -> FormTemplate | None:
    """The owner's oldest copy of a master form."""
    query = (
        select(FormTemplate)
        .where(_owned_by(owner), FormTemplate.source_form_id == source_form_id)
        .order_by(FormTemplate.created_at, FormTemplate.id)
        .limit(1)
    )
    return await session.scalar(query)


async def sections_of(session: AsyncSession, form_id: uuid.UUID) -> Sequence[FormSection]:
    query = select(FormSection).where(FormSection.form_id == form_id).order_by(FormSection.position)
    return (await session.scalars(query)).all()


async def questions_of(session: AsyncSession, form_id: uuid.UUID) -> Sequence[FormQuestion]:
    query = select(FormQuestion).where(FormQuestion.form_id == form_id).order_by(FormQuestion.position)
    return (await session.scalars(query)).all()


async def consent_documents_of(session: AsyncSession, form_id: uuid.UUID) -> Sequence[FormConsentDocument]:
    query = (
        select(FormConsentDocument)
        .where(FormConsentDocument.form_id == form_id)
        .order_by(FormConsentDocument.position)
    )
    return (await session.scalars(query)).all()


async def delete_sections(session: AsyncSession, form_id: uuid.UUID) -> None:
    """The form's sections and their questions."""
    await session.execute(delete(FormQuestion).where(FormQuestion.form_id == form_id))
    await session.execute(delete(FormSection).where(FormSection.form_id == form_id))


async def delete_consent_documents(session: AsyncSession, form_id: uuid.UUID) -> None:
    await session.execute(delete(FormConsentDocument).where(FormConsentDocument.form_id == form_id))
