"""What a provider sees and may do at the provider desk, and the medical director's part.

Who may open an exam (``open_consultation``, ``attachment_for_provider``):
- an exam of the other mode (test / live) answers as a missing one;
- a provider not licensed (today) in the exam's ``tele_state`` is refused (``Forbidden``);
- an exam taken by another provider is refused, except an exam deferred to a medical director, which
  every medical director licensed in its state may open.
Every opening is written to the audit log (who, which exam, when); nothing about the patient is.

Medical director: a provider decides "Deferred to Medical Director" (event 1 with that status); a
provider with ``is_medical_director`` sees those exams in a queue of their own, takes one
(``completed -> in_consultation``, the deferring provider's reason kept until the director decides) and
decides it as any consultation (event 1 again, with the director's outcome).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import (
    ExamAttachment,
    ExamOutcome,
    OrderSet,
    PatientExam,
    PatientExamStatus,
    Prescription,
    PrescriptionItem,
    Provider,
    RxType,
    StoredFile,
)
from clinicore.core.pharmacy.schemas import DrugItem
from clinicore.core.telehealth import repository
from clinicore.core.telehealth.lifecycle import QUEUE_LIMIT, licensed_states, load, provider_queue
from clinicore.core.telehealth.prescriptions import routes_to_retail_pharmacy
from clinicore.core.telehealth.repository import AnswerRow, ExamRecord
from clinicore.core.telehealth.routing import ProviderChoice
from clinicore.core.telehealth.transitions import move
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, Forbidden, NotFound
from clinicore.kit.storage import FileStorage

EARLIER_EXAMS_LIMIT = 20


def provider_actor(provider_id: uuid.UUID) -> Actor:
    return Actor("provider", str(provider_id))


@dataclass(frozen=True, slots=True)
class EarlierExam:
    patient_exam: PatientExam
    title: str


@dataclass(frozen=True, slots=True)
class PrescriptionForm:
    """What the prescription form starts from, following the invite's routing."""

    retail: bool  # to the retail pharmacy the invite names: items written by the provider
    pharmacy_name: str | None
    order_sets: Sequence[OrderSet]  # those the provider may choose from (one when the invite fixed it)
    order_set_id: int | None  # the one whose items prefill the form
    items: Sequence[DrugItem]


@dataclass(frozen=True, slots=True)
class Consultation:
    record: ExamRecord
    answers: Sequence[AnswerRow]
    attachments: Sequence[tuple[ExamAttachment, StoredFile]]
    earlier_exams: Sequence[EarlierExam]
    prescription: Prescription | None
    prescription_items: Sequence[PrescriptionItem]
    can_take: bool
    can_take_deferred: bool
    can_decide: bool
    can_prescribe: bool
    is_rx: bool


@dataclass(frozen=True, slots=True)
class QueueEntry:
    patient_exam: PatientExam
    title: str


@dataclass(frozen=True, slots=True)
class DeskQueues:
    """The provider's desk: exams waiting in their states, their own open consultations, and for a
    medical director the exams deferred to one."""

    provider: Provider
    waiting: Sequence[QueueEntry]
    consultations: Sequence[QueueEntry]
    deferred: Sequence[QueueEntry]


async def _entries(session: AsyncSession, exams: Sequence[PatientExam]) -> list[QueueEntry]:
    titles = await repository.exam_titles(session, {exam.exam_id for exam in exams})
    return [QueueEntry(exam, titles.get(exam.exam_id, "")) for exam in exams]


async def desk_queues(
    session: AsyncSession, *, provider_id: uuid.UUID, clock: Clock = system_clock
) -> DeskQueues:
    provider = await _active_provider(session, provider_id)
    waiting = await provider_queue(session, provider_id=provider.id, clock=clock)
    consultations = await repository.consultations_of(session, provider_id=provider.id, limit=QUEUE_LIMIT)
    deferred = (
        await medical_director_queue(session, provider_id=provider.id, clock=clock)
        if provider.is_medical_director
        else []
    )
    return DeskQueues(
        provider,
        await _entries(session, waiting),
        await _entries(session, consultations),
        await _entries(session, deferred),
    )


async def _active_provider(session: AsyncSession, provider_id: uuid.UUID) -> Provider:
    provider = await repository.get_provider(session, provider_id)
    if provider is None or not provider.is_active:
        raise NotFound("provider not found", field="provider_id")
    return provider


def _is_deferred(patient_exam: PatientExam) -> bool:
    return patient_exam.status == PatientExamStatus.completed and patient_exam.outcome == ExamOutcome.deferred


async def check_provider_may_open(
    session: AsyncSession, record: ExamRecord, *, provider: Provider, clock: Clock
) -> None:
    """The rule of the module docstring."""
    patient_exam = record.patient_exam
    if provider.is_test != patient_exam.is_test:
        raise NotFound(f"patient_exam_id: no patient exam {patient_exam.id}", field="patient_exam_id")
    if patient_exam.tele_state not in await licensed_states(session, provider, clock=clock):
        raise Forbidden(
            f"patient exam {patient_exam.id}: you are not licensed in {patient_exam.tele_state}",
            field="patient_exam_id",
        )
    taken_by_another = patient_exam.provider_id is not None and patient_exam.provider_id != provider.id
    if taken_by_another and not (provider.is_medical_director and _is_deferred(patient_exam)):
        raise Forbidden(
            f"patient exam {patient_exam.id} was taken by another provider", field="patient_exam_id"
        )


async def _prescription_of(
    session: AsyncSession, patient_exam_id: int
) -> tuple[Prescription | None, Sequence[PrescriptionItem]]:
    prescription = await repository.prescription_of(session, patient_exam_id=patient_exam_id)
    if prescription is None:
        return None, ()
    return prescription, await repository.prescription_items(session, prescription_id=prescription.id)


async def open_consultation(
    session: AsyncSession, *, provider_id: uuid.UUID, patient_exam_id: int, clock: Clock = system_clock
) -> Consultation:
    """The exam as the provider sees it: answers, attachments, the patient's earlier exams at this
    clinic, the prescription, and what the provider may do now. Audited."""
    provider = await _active_provider(session, provider_id)
    record = await load(session, patient_exam_id=patient_exam_id)
    await check_provider_may_open(session, record, provider=provider, clock=clock)
    patient_exam = record.patient_exam
    await audit_service.record(
        session,
        clinic_id=patient_exam.clinic_id,
        actor=provider_actor(provider.id),
        action="patient_exam.viewed",
        target_type="patient_exam",
        target_id=str(patient_exam.id),
        clock=clock,
    )
    earlier = await repository.earlier_exams_of_client(
        session,
        clinic_id=patient_exam.clinic_id,
        client_id=patient_exam.client_id,
        before_id=patient_exam.id,
        limit=EARLIER_EXAMS_LIMIT,
    )
    prescription, items = await _prescription_of(session, patient_exam.id)
    mine = patient_exam.provider_id == provider.id
    is_rx = record.exam.rx_type == RxType.rx
    return Consultation(
        record=record,
        answers=await repository.answers_by_question(session, patient_exam=patient_exam),
        attachments=await repository.attachments_of(session, patient_exam_id=patient_exam.id),
        earlier_exams=[EarlierExam(exam, title) for exam, title in earlier],
        prescription=prescription,
        prescription_items=items,
        can_take=patient_exam.status == PatientExamStatus.waiting_for_provider,
        can_take_deferred=provider.is_medical_director and _is_deferred(patient_exam),
        can_decide=mine and patient_exam.status == PatientExamStatus.in_consultation,
        can_prescribe=(
            mine
            and is_rx
            and prescription is None
            and patient_exam.status == PatientExamStatus.completed
            and patient_exam.outcome == ExamOutcome.approved
        ),
        is_rx=is_rx,
    )


async def attachment_for_provider(
    session: AsyncSession,
    *,
    provider_id: uuid.UUID,
    patient_exam_id: int,
    attachment_id: uuid.UUID,
    storage: FileStorage,
    clock: Clock = system_clock,
) -> tuple[StoredFile, bytes]:
    """One attachment's file and bytes, for a provider who may open the exam. Audited."""
    provider = await _active_provider(session, provider_id)
    record = await load(session, patient_exam_id=patient_exam_id)
    await check_provider_may_open(session, record, provider=provider, clock=clock)
    found = await repository.attachment_of(
        session, patient_exam_id=patient_exam_id, attachment_id=attachment_id
    )
    if found is None:
        raise NotFound(f"attachment_id: no attachment {attachment_id}", field="attachment_id")
    _attachment, stored = found
    await audit_service.record(
        session,
        clinic_id=record.patient_exam.clinic_id,
        actor=provider_actor(provider.id),
        action="patient_exam.attachment_viewed",
        target_type="patient_exam",
        target_id=str(patient_exam_id),
        details={"attachment_id": str(attachment_id)},
        clock=clock,
    )
    return stored, await storage.get(stored.storage_key)


async def prescription_form(
    session: AsyncSession, record: ExamRecord, *, order_set_id: int | None
) -> PrescriptionForm:
    """Where the form starts: the retail pharmacy of the invite (items written by the provider), or the
    order sets the provider may choose from per the invite's routing, the chosen one's items prefilled."""
    meeting = record.meeting
    if routes_to_retail_pharmacy(meeting):
        return PrescriptionForm(True, meeting.pharmacy_name, (), None, ())
    choice = meeting.provider_chooses
    if choice in (ProviderChoice.order_set, ProviderChoice.pharmacy_and_order_set):
        pharmacy_id = None if choice == ProviderChoice.pharmacy_and_order_set else meeting.pharmacy_id
        order_sets: Sequence[OrderSet] = await repository.active_order_sets(
            session, clinic_id=record.clinic.id, exam_id=record.exam.id, pharmacy_id=pharmacy_id
        )
    else:
        fixed = (
            await repository.get_order_set(
                session, clinic_id=record.clinic.id, order_set_id=meeting.order_set_id
            )
            if meeting.order_set_id is not None
            else None
        )
        order_sets = [fixed] if fixed is not None else []
    allowed = {order_set.id for order_set in order_sets}
    chosen = order_set_id if order_set_id in allowed else meeting.order_set_id
    if chosen not in allowed:
        chosen = order_sets[0].id if order_sets else None
    items = (
        [DrugItem.of(item) for item in await repository.order_set_items(session, order_set_id=chosen)]
        if chosen is not None
        else []
    )
    pharmacy = None
    if chosen is not None:
        order_set = next(order_set for order_set in order_sets if order_set.id == chosen)
        pharmacy = await repository.get_partner_pharmacy(session, order_set.pharmacy_id)
    return PrescriptionForm(False, pharmacy.name if pharmacy else None, order_sets, chosen, items)


# --- the medical director ---------------------------------------------------------------------------


async def _medical_director(session: AsyncSession, provider_id: uuid.UUID) -> Provider:
    provider = await _active_provider(session, provider_id)
    if not provider.is_medical_director:
        raise Forbidden("only a medical director decides deferred exams", field="provider_id")
    return provider


async def medical_director_queue(
    session: AsyncSession, *, provider_id: uuid.UUID, limit: int = QUEUE_LIMIT, clock: Clock = system_clock
) -> Sequence[PatientExam]:
    """Live exams deferred to a medical director in the director's licensed states, oldest first."""
    provider = await _medical_director(session, provider_id)
    states = await licensed_states(session, provider, clock=clock)
    return await repository.deferred_exams_in(session, states=states, limit=limit)


async def take_deferred(
    session: AsyncSession, *, provider_id: uuid.UUID, patient_exam_id: int, clock: Clock = system_clock
) -> PatientExam:
    """A medical director takes an exam deferred to them; they then decide it as any consultation.
    Atomic like taking a waiting exam: of two directors, one wins and the other is refused."""
    provider = await _medical_director(session, provider_id)
    record = await load(session, patient_exam_id=patient_exam_id)
    await check_provider_may_open(session, record, provider=provider, clock=clock)
    patient_exam = record.patient_exam
    if not _is_deferred(patient_exam):
        raise Conflict(
            f"patient exam {patient_exam.id} is not deferred to a medical director (any more)",
            field="patient_exam_id",
            rule="telehealth.exam_already_taken",
        )
    now = clock.now()
    patient_exam.provider_id = provider.id
    patient_exam.outcome = None
    patient_exam.decided_at = None
    patient_exam.consultation_started_at = now
    record.provider = provider
    move(session, patient_exam, PatientExamStatus.in_consultation, at=now, by=provider_actor(provider.id))
    await audit_service.record(
        session,
        clinic_id=patient_exam.clinic_id,
        actor=provider_actor(provider.id),
        action="patient_exam.deferred_taken",
        target_type="patient_exam",
        target_id=str(patient_exam.id),
        clock=clock,
    )
    return patient_exam
