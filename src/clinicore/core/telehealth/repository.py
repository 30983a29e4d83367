"""Every query of the telehealth domain: a patient exam (one loader) with everything around it
(meeting, catalog exam, client, clinic, provider), its answers and attachments, its prescription, the
partner-pharmacy rows an invite's routing is checked against, the providers' queue and the claim of due
timers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, distinct, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import (
    Client,
    Clinic,
    Exam,
    ExamAnswer,
    ExamAttachment,
    ExamOutcome,
    ExamQuestion,
    Meeting,
    OrderSet,
    OrderSetItem,
    PartnerPharmacy,
    PartnerPharmacyExam,
    PartnerPharmacyState,
    PatientExam,
    PatientExamStatus,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    Provider,
    ProviderLicense,
    Shipment,
    StoredFile,
)


@dataclass(slots=True)
class ExamRecord:
    """A patient exam and the rows every lifecycle step reads."""

    patient_exam: PatientExam
    meeting: Meeting
    exam: Exam
    client: Client
    clinic: Clinic
    provider: Provider | None


def _locks(session: AsyncSession) -> bool:
    # SQLite transactions already run one at a time (BEGIN IMMEDIATE); PostgreSQL needs row locks.
    return session.get_bind().dialect.name == "postgresql"


async def load_exam(
    session: AsyncSession,
    *,
    patient_exam_id: int,
    clinic_id: uuid.UUID | None = None,
    meeting_id: uuid.UUID | None = None,
    lock: bool = False,
) -> ExamRecord | None:
    """The exam (row-locked with ``lock`` on PostgreSQL) with its surroundings; ``None`` when it does not
    exist or belongs to another clinic or meeting than the ones given.

    Pending changes are flushed first: the row is then read afresh (another worker may have moved it)."""
    await session.flush()
    patient_exam = await get_patient_exam(
        session, patient_exam_id=patient_exam_id, clinic_id=clinic_id, meeting_id=meeting_id, lock=lock
    )
    if patient_exam is None:
        return None
    row = (
        await session.execute(
            select(Meeting, Exam, Client, Clinic)
            .select_from(Meeting)
            .join(Client, Client.id == Meeting.client_id)
            .join(Clinic, Clinic.id == Meeting.clinic_id)
            .join(Exam, Exam.id == patient_exam.exam_id)
            .where(Meeting.id == patient_exam.meeting_id)
        )
    ).one()
    meeting, exam, client, clinic = row
    provider = await session.get(Provider, patient_exam.provider_id) if patient_exam.provider_id else None
    return ExamRecord(patient_exam, meeting, exam, client, clinic, provider)


async def get_patient_exam(
    session: AsyncSession,
    *,
    patient_exam_id: int,
    clinic_id: uuid.UUID | None = None,
    meeting_id: uuid.UUID | None = None,
    lock: bool = False,
) -> PatientExam | None:
    """The one patient-exam loader: ``None`` when it does not exist or belongs to another clinic or
    meeting than the ones given; row-locked with ``lock`` on PostgreSQL. The row is read afresh (another
    worker may have moved it)."""
    query = select(PatientExam).where(PatientExam.id == patient_exam_id)
    if clinic_id is not None:
        query = query.where(PatientExam.clinic_id == clinic_id)
    if meeting_id is not None:
        query = query.where(PatientExam.meeting_id == meeting_id)
    if lock and _locks(session):
        query = query.with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


async def get_meeting(
    session: AsyncSession, *, clinic_id: uuid.UUID, meeting_id: uuid.UUID, lock: bool = False
) -> Meeting | None:
    query = select(Meeting).where(Meeting.clinic_id == clinic_id, Meeting.id == meeting_id)
    if lock and _locks(session):
        query = query.with_for_update()
    return await session.scalar(query)


async def get_meeting_by_id(
    session: AsyncSession, *, meeting_id: uuid.UUID, lock: bool = False
) -> Meeting | None:
    """A meeting by its uuid alone: for the patient's page, whose signed link is the credential."""
    query = select(Meeting).where(Meeting.id == meeting_id)
    if lock and _locks(session):
        query = query.with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


async def meetings_ahead_in_queue(
    session: AsyncSession, *, meeting_id: uuid.UUID, tele_state: str, is_test: bool
) -> int | None:
    """How many other meetings have an exam waiting in the same queue (``tele_state``, live or test)
    since before this meeting's first waiting exam; ``None`` when none of this meeting's exams waits."""
    waiting = PatientExam.status == PatientExamStatus.waiting_for_provider
    mine = (
        await session.execute(
            select(func.min(PatientExam.waiting_since), func.min(PatientExam.id)).where(
                PatientExam.meeting_id == meeting_id, waiting
            )
        )
    ).one()
    since, first_id = mine
    if since is None:
        return None
    ahead = await session.scalar(
        select(func.count(distinct(PatientExam.meeting_id))).where(
            waiting,
            PatientExam.tele_state == tele_state,
            PatientExam.is_test.is_(is_test),
            PatientExam.meeting_id != meeting_id,
            or_(
                PatientExam.waiting_since < since,
                and_(PatientExam.waiting_since == since, PatientExam.id < first_id),
            ),
        )
    )
    return int(ahead or 0)


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


async def order_set_by_exam_pos_id(
    session: AsyncSession, *, clinic_id: uuid.UUID, exam_pos_id: int
) -> OrderSet | None:
    return await session.scalar(
        select(OrderSet).where(OrderSet.clinic_id == clinic_id, OrderSet.exam_pos_id == exam_pos_id)
    )


async def get_provider(session: AsyncSession, provider_id: uuid.UUID) -> Provider | None:
    return await session.get(Provider, provider_id)


async def provider_states(
    session: AsyncSession, provider_id: uuid.UUID, *, on: date | None = None
) -> set[str]:
    """The states of the provider's licences; with ``on``, only those not expired that day."""
    query = select(ProviderLicense.state).where(ProviderLicense.provider_id == provider_id)
    if on is not None:
        query = query.where(or_(ProviderLicense.expires_on.is_(None), ProviderLicense.expires_on >= on))
    return set(await session.scalars(query))


async def provider_license(
    session: AsyncSession, *, provider_id: uuid.UUID, state: str
) -> ProviderLicense | None:
    return await session.get(ProviderLicense, (provider_id, state))


async def deferred_exams_in(session: AsyncSession, *, states: set[str], limit: int) -> Sequence[PatientExam]:
    """Live exams deferred to a medical director in these states, deferred longest ago first."""
    if not states:
        return []
    query = (
        select(PatientExam)
        .where(
            PatientExam.status == PatientExamStatus.completed,
            PatientExam.outcome == ExamOutcome.deferred,
            PatientExam.tele_state.in_(states),
            PatientExam.is_test.is_(False),
        )
        .order_by(PatientExam.decided_at, PatientExam.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def consultations_of(
    session: AsyncSession, *, provider_id: uuid.UUID, limit: int
) -> Sequence[PatientExam]:
    """Exams the provider took and has not decided yet, oldest first."""
    query = (
        select(PatientExam)
        .where(
            PatientExam.provider_id == provider_id, PatientExam.status == PatientExamStatus.in_consultation
        )
        .order_by(PatientExam.consultation_started_at, PatientExam.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def exam_titles(session: AsyncSession, exam_ids: set[int]) -> dict[int, str]:
    if not exam_ids:
        return {}
    rows = await session.execute(select(Exam.id, Exam.title).where(Exam.id.in_(exam_ids)))
    return {exam_id: title for exam_id, title in rows.all()}


async def earlier_exams_of_client(
    session: AsyncSession, *, clinic_id: uuid.UUID, client_id: uuid.UUID, before_id: int, limit: int
) -> Sequence[tuple[PatientExam, str]]:
    """The client's other exams at this clinic made before ``before_id``, newest first, with titles."""
    rows = await session.execute(
        select(PatientExam, Exam.title)
        .join(Exam, Exam.id == PatientExam.exam_id)
        .where(
            PatientExam.clinic_id == clinic_id,
            PatientExam.client_id == client_id,
            PatientExam.id < before_id,
        )
        .order_by(PatientExam.id.desc())
        .limit(limit)
    )
    return [(patient_exam, title) for patient_exam, title in rows.all()]


async def attachment_of(
    session: AsyncSession, *, patient_exam_id: int, attachment_id: uuid.UUID
) -> tuple[ExamAttachment, StoredFile] | None:
    row = (
        await session.execute(
            select(ExamAttachment, StoredFile)
            .join(StoredFile, StoredFile.id == ExamAttachment.file_id)
            .where(ExamAttachment.patient_exam_id == patient_exam_id, ExamAttachment.id == attachment_id)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def waiting_exams_in(
    session: AsyncSession, *, states: set[str], is_test: bool, limit: int
) -> Sequence[PatientExam]:
    if not states:
        return []
    query = (
        select(PatientExam)
        .where(
            PatientExam.status == PatientExamStatus.waiting_for_provider,
            PatientExam.tele_state.in_(states),
            PatientExam.is_test.is_(is_test),
        )
        .order_by(PatientExam.waiting_since, PatientExam.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


@dataclass(frozen=True, slots=True)
class AnswerRow:
    no: int
    question: str
    question_type: str
    answers: Sequence[ExamAnswer]


async def answers_by_question(session: AsyncSession, *, patient_exam: PatientExam) -> list[AnswerRow]:
    """Every question of the exam in order, each with its answers (none when unanswered)."""
    questions = (
        await session.scalars(
            select(ExamQuestion).where(ExamQuestion.exam_id == patient_exam.exam_id).order_by(ExamQuestion.no)
        )
    ).all()
    answers = (
        await session.scalars(
            select(ExamAnswer)
            .where(ExamAnswer.patient_exam_id == patient_exam.id)
            .order_by(ExamAnswer.created_at, ExamAnswer.response_id)
        )
    ).all()
    by_question: dict[int, list[ExamAnswer]] = {}
    for answer in answers:
        by_question.setdefault(answer.question_id, []).append(answer)
    return [
        AnswerRow(question.no, question.text, question.type, by_question.get(question.id, []))
        for question in questions
    ]


async def unanswered_required_questions(session: AsyncSession, *, patient_exam: PatientExam) -> list[int]:
    answered = select(ExamAnswer.question_id).where(ExamAnswer.patient_exam_id == patient_exam.id)
    result = await session.scalars(
        select(ExamQuestion.no)
        .where(
            ExamQuestion.exam_id == patient_exam.exam_id,
            ExamQuestion.is_required.is_(True),
            ExamQuestion.id.not_in(answered),
        )
        .order_by(ExamQuestion.no)
    )
    return list(result)


async def attachments_of(
    session: AsyncSession, *, patient_exam_id: int
) -> Sequence[tuple[ExamAttachment, StoredFile]]:
    """A patient exam's attachments with their files, oldest first."""
    rows = await session.execute(
        select(ExamAttachment, StoredFile)
        .join(StoredFile, StoredFile.id == ExamAttachment.file_id)
        .where(ExamAttachment.patient_exam_id == patient_exam_id)
        .order_by(ExamAttachment.created_at, ExamAttachment.id)
    )
    return [(attachment, stored) for attachment, stored in rows.all()]


async def prescription_of(session: AsyncSession, *, patient_exam_id: int) -> Prescription | None:
    return await session.scalar(select(Prescription).where(Prescription.patient_exam_id == patient_exam_id))


async def prescription_items(
    session: AsyncSession, *, prescription_id: uuid.UUID
) -> Sequence[PrescriptionItem]:
    result = await session.scalars(
        select(PrescriptionItem)
        .where(PrescriptionItem.prescription_id == prescription_id)
        .order_by(PrescriptionItem.position, PrescriptionItem.id)
    )
    return result.all()


async def shipments_of(session: AsyncSession, *, prescription_id: uuid.UUID) -> Sequence[Shipment]:
    result = await session.scalars(
        select(Shipment).where(Shipment.prescription_id == prescription_id).order_by(Shipment.shipped_at)
    )
    return result.all()


async def get_order_set(session: AsyncSession, *, clinic_id: uuid.UUID, order_set_id: int) -> OrderSet | None:
    return await session.scalar(
        select(OrderSet).where(OrderSet.id == order_set_id, OrderSet.clinic_id == clinic_id)
    )


async def first_active_order_set(
    session: AsyncSession, *, clinic_id: uuid.UUID, exam_id: int, pharmacy_id: int | None
) -> OrderSet | None:
    query = select(OrderSet).where(
        OrderSet.clinic_id == clinic_id, OrderSet.exam_id == exam_id, OrderSet.is_active.is_(True)
    )
    if pharmacy_id is not None:
        query = query.where(OrderSet.pharmacy_id == pharmacy_id)
    return await session.scalar(query.order_by(OrderSet.id).limit(1))


async def active_order_sets(
    session: AsyncSession, *, clinic_id: uuid.UUID, exam_id: int, pharmacy_id: int | None
) -> Sequence[OrderSet]:
    query = select(OrderSet).where(
        OrderSet.clinic_id == clinic_id, OrderSet.exam_id == exam_id, OrderSet.is_active.is_(True)
    )
    if pharmacy_id is not None:
        query = query.where(OrderSet.pharmacy_id == pharmacy_id)
    return (await session.scalars(query.order_by(OrderSet.id))).all()


async def order_set_items(session: AsyncSession, *, order_set_id: int) -> Sequence[OrderSetItem]:
    result = await session.scalars(
        select(OrderSetItem)
        .where(OrderSetItem.order_set_id == order_set_id)
        .order_by(OrderSetItem.position, OrderSetItem.id)
    )
    return result.all()


async def get_partner_pharmacy(session: AsyncSession, pharmacy_id: int) -> PartnerPharmacy | None:
    return await session.get(PartnerPharmacy, pharmacy_id)


async def claim_due_exams(session: AsyncSession, *, now: datetime, limit: int) -> Sequence[PatientExam]:
    """Exams whose timer is due, oldest first. On PostgreSQL the rows come locked ``FOR UPDATE SKIP
    LOCKED``, so several workers share the work and never step one exam twice; the ``WHERE`` is
    re-checked on the locked row, so an exam another worker just stepped is not returned."""
    query = (
        select(PatientExam)
        .where(PatientExam.next_action_at.is_not(None), PatientExam.next_action_at <= now)
        .order_by(PatientExam.next_action_at, PatientExam.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if _locks(session):
        query = query.with_for_update(skip_locked=True)
    return (await session.scalars(query)).all()


async def postpone(session: AsyncSession, *, patient_exam_id: int, until: datetime) -> None:
    """Move an exam's timer (after a failed step, whose changes were rolled back)."""
    await session.execute(
        update(PatientExam)
        .where(PatientExam.id == patient_exam_id)
        .values(next_action_at=until)
        .execution_options(synchronize_session=False)
    )


# --- prescriptions at a pharmacy desk ----------------------------------------------------------------


async def live_prescription(session: AsyncSession, prescription_id: uuid.UUID) -> Prescription | None:
    """The prescription, unless it is missing or belongs to a test exam."""
    row = (
        await session.execute(
            select(Prescription, PatientExam.is_test)
            .join(PatientExam, PatientExam.id == Prescription.patient_exam_id)
            .where(Prescription.id == prescription_id)
        )
    ).one_or_none()
    if row is None or row.is_test:
        return None
    prescription: Prescription = row.Prescription
    return prescription


# When a prescription reached each status.
STATUS_SINCE = {
    PrescriptionStatus.written: Prescription.written_at,
    PrescriptionStatus.confirmed: Prescription.confirmed_at,
    PrescriptionStatus.shipped: Prescription.shipped_at,
}


async def listed_prescriptions(
    session: AsyncSession,
    status: PrescriptionStatus,
    *,
    pharmacy_id: int | None,
    retail_of_clinic: uuid.UUID | None,
    since: datetime | None,
    limit: int,
) -> Sequence[tuple[Prescription, PatientExam]]:
    """Prescriptions of live exams in ``status``, at a partner pharmacy or to the retail pharmacies of a
    clinic, by the time they reached it: since ``since``, newest first; otherwise oldest first."""
    reached = STATUS_SINCE[status]
    query = (
        select(Prescription, PatientExam)
        .join(PatientExam, PatientExam.id == Prescription.patient_exam_id)
        .where(PatientExam.is_test.is_(False), Prescription.status == status)
    )
    if pharmacy_id is not None:
        query = query.where(Prescription.pharmacy_id == pharmacy_id)
    else:
        query = query.where(Prescription.clinic_id == retail_of_clinic, Prescription.pharmacy_id.is_(None))
    if since is not None:
        query = query.where(reached >= since).order_by(reached.desc(), Prescription.id)
    else:
        query = query.order_by(reached, Prescription.id)
    return [(prescription, exam) for prescription, exam in await session.execute(query.limit(limit))]
