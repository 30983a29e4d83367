"""Queries of invites: meetings and patient exams by id within a clinic, and the partner-pharmacy
rows an invite's routing is checked against."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import (
    Meeting,
    OrderSet,
    PartnerPharmacy,
    PartnerPharmacyExam,
    PartnerPharmacyState,
    PatientExam,
)


def _locks(session: AsyncSession) -> bool:
    # SQLite transactions already run one at a time (BEGIN IMMEDIATE); PostgreSQL needs row locks.
    return session.get_bind().dialect.name == "postgresql"


async def get_patient_exam(
    session: AsyncSession, *, clinic_id: uuid.UUID, patient_exam_id: int, lock: bool = False
) -> PatientExam | None:
    query = select(PatientExam).where(PatientExam.clinic_id == clinic_id, PatientExam.id == patient_exam_id)
    if lock and _locks(session):
        query = query.with_for_update()
    return await session.scalar(query)


async def get_meeting(
    session: AsyncSession, *, clinic_id: uuid.UUID, meeting_id: uuid.UUID, lock: bool = False
) -> Meeting | None:
    query = select(Meeting).where(Meeting.clinic_id == clinic_id, Meeting.id == meeting_id)
    if lock and _locks(session):
        query = query.with_for_update()
    return await session.scalar(query)


async def patient_exams_of_meeting(session: AsyncSession, *, meeting_id: uuid.UUID) -> Sequence[PatientExam]:
    return (
        await session.scalars(
            select(PatientExam).where(PatientExam.meeting_id == meeting_id).order_by(PatientExam.id)
        )
    ).all()


async def get_active_partner_pharmacy(session: AsyncSession, pharmacy_id: int) -> PartnerPharmacy | None:
    return await session.scalar(
        select(PartnerPharmacy).where(PartnerPharmacy.id == pharmacy_id, PartnerPharmacy.is_active.is_(True))
    )


async def pharmacy_serves_exam(
    session: AsyncSession, *, clinic_id: uuid.UUID, pharmacy_id: int, exam_id: int
) -> bool:
    found = await session.scalar(
        select(PartnerPharmacyExam.pharmacy_id).where(
            PartnerPharmacyExam.clinic_id == clinic_id,
            PartnerPharmacyExam.pharmacy_id == pharmacy_id,
            PartnerPharmacyExam.exam_id == exam_id,
        )
    )
    return found is not None


async def pharmacy_ships_to(session: AsyncSession, *, pharmacy_id: int, state: str) -> bool:
    found = await session.scalar(
        select(PartnerPharmacyState.pharmacy_id).where(
            PartnerPharmacyState.pharmacy_id == pharmacy_id, PartnerPharmacyState.state == state
        )
    )
    return found is not None


async def get_order_set(session: AsyncSession, *, clinic_id: uuid.UUID, order_set_id: int) -> OrderSet | None:
    return await session.scalar(
        select(OrderSet).where(OrderSet.clinic_id == clinic_id, OrderSet.id == order_set_id)
    )


async def order_set_by_exam_pos_id(
    session: AsyncSession, *, clinic_id: uuid.UUID, exam_pos_id: int
) -> OrderSet | None:
    return await session.scalar(
        select(OrderSet).where(OrderSet.clinic_id == clinic_id, OrderSet.exam_pos_id == exam_pos_id)
    )
