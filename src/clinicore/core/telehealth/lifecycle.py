"""The patient exam's lifecycle, for every page and job that moves it (patient meeting page, provider
desk, the timers job):

    pending -> in_questionnaire -> waiting_for_provider -> in_consultation -> completed (outcome)
    completed (Approved, Rx) -> prescribed -> confirmed_by_pharmacy -> shipped   (prescriptions.py)
    cancelled: only before a provider acts (invites.py)

Each step checks that it is allowed (``Conflict`` or ``InvalidInput`` saying why) and moves the status
through the one table of ``transitions.py``, which bumps ``version`` and ``updated_at``. Deciding emits
``patient_exam.completed`` with a full snapshot. A live exam waiting 3 minutes with no provider becomes
Missed (the timers job). Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import TIMER, Actor
from clinicore.core.events import service as events_service
from clinicore.core.models import ExamOutcome, PatientExam, PatientExamStatus, Provider
from clinicore.core.telehealth import repository, snapshots
from clinicore.core.telehealth.events import AGGREGATE, PATIENT_EXAM_COMPLETED
from clinicore.core.telehealth.repository import ExamRecord
from clinicore.core.telehealth.transitions import move
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.kit.links import LinkSigner

MISSED_AFTER = timedelta(minutes=3)
MISSED_REASON = "No provider was available within 3 minutes."
# What a provider may decide; Missed is the timer's alone.
PROVIDER_OUTCOMES = (ExamOutcome.approved, ExamOutcome.rejected, ExamOutcome.deferred, ExamOutcome.na)
REASON_REQUIRED = (ExamOutcome.rejected, ExamOutcome.deferred)
MAX_REASON_LENGTH = 5000
QUEUE_LIMIT = 200


async def load(
    session: AsyncSession,
    *,
    patient_exam_id: int,
    clinic_id: uuid.UUID | None = None,
    meeting_id: uuid.UUID | None = None,
) -> ExamRecord:
    """The exam, row-locked for the step that follows, or ``NotFound`` (another clinic's or meeting's
    exam answers exactly like a missing one)."""
    record = await repository.load_exam(
        session, patient_exam_id=patient_exam_id, clinic_id=clinic_id, meeting_id=meeting_id, lock=True
    )
    if record is None:
        raise NotFound(f"patient_exam_id: no patient exam {patient_exam_id}", field="patient_exam_id")
    return record


async def emit_exam_event(
    session: AsyncSession, record: ExamRecord, *, type: str, links: LinkSigner, clock: Clock
) -> None:
    """Emit ``type`` for the exam's meeting with a snapshot taken now (pending rows flushed first)."""
    await session.flush()
    payload = await snapshots.exam_snapshot(session, record, links=links, now=clock.now())
    await events_service.emit(
        session,
        clinic_id=record.patient_exam.clinic_id,
        type=type,
        aggregate_type=AGGREGATE,
        aggregate_id=record.meeting.id,
        payload=payload,
        clock=clock,
    )


def _refuse(patient_exam: PatientExam, action: str, allowed: str) -> Conflict:
    return Conflict(
        f"patient exam {patient_exam.id} is {patient_exam.status}: it can {action} only {allowed}",
        field="patient_exam_id",
    )


# --- the patient ----------------------------------------------------------------------------------


async def start_questionnaire(
    session: AsyncSession, *, meeting_id: uuid.UUID, patient_exam_id: int, clock: Clock = system_clock
) -> PatientExam:
    """The patient opened the questionnaire (again: nothing changes)."""
    record = await load(session, patient_exam_id=patient_exam_id, meeting_id=meeting_id)
    patient_exam = record.patient_exam
    if patient_exam.status == PatientExamStatus.in_questionnaire:
        return patient_exam
    if patient_exam.status != PatientExamStatus.pending:
        raise _refuse(patient_exam, "start its questionnaire", "while pending")
    move(
        session,
        patient_exam,
        PatientExamStatus.in_questionnaire,
        at=clock.now(),
        by=Actor.patient(patient_exam.client_id),
    )
    return patient_exam


async def join_waiting_room(
    session: AsyncSession,
    *,
    meeting_id: uuid.UUID,
    patient_exam_id: int,
    missed_after: timedelta = MISSED_AFTER,
    clock: Clock = system_clock,
) -> PatientExam:
    """The patient finished the questionnaire and waits for a provider. A live exam that no provider
    takes within ``missed_after`` (the clinic network's missed window, 3 minutes unless set) becomes
    Missed; a test exam keeps the timer its invite set (the test provider acts whatever the patient
    does)."""
    record = await load(session, patient_exam_id=patient_exam_id, meeting_id=meeting_id)
    patient_exam = record.patient_exam
    if patient_exam.status not in (PatientExamStatus.pending, PatientExamStatus.in_questionnaire):
        raise _refuse(patient_exam, "join the waiting room", "while pending or in the questionnaire")
    missing = await repository.unanswered_required_questions(session, patient_exam=patient_exam)
    if missing:
        numbers = ", ".join(str(number) for number in missing)
        raise InvalidInput(f"answers: required questions not answered yet: {numbers}", field="answers")
    now = clock.now()
    if patient_exam.questionnaire_completed_at is None:
        patient_exam.questionnaire_completed_at = now
    patient_exam.waiting_since = now
    if not patient_exam.is_test:
        patient_exam.next_action_at = now + missed_after
    move(
        session,
        patient_exam,
        PatientExamStatus.waiting_for_provider,
        at=now,
        by=Actor.patient(patient_exam.client_id),
    )
    return patient_exam


finish_questionnaire = join_waiting_room


# --- the provider ---------------------------------------------------------------------------------


async def _active_provider(session: AsyncSession, provider_id: uuid.UUID) -> Provider:
    provider = await repository.get_provider(session, provider_id)
    if provider is None or not provider.is_active:
        raise NotFound("provider not found", field="provider_id")
    return provider


async def licensed_states(session: AsyncSession, provider: Provider, *, clock: Clock) -> set[str]:
    """The states the provider may practise in today: an expired licence counts as none."""
    return await repository.provider_states(session, provider.id, on=clock.now().date())


async def provider_queue(
    session: AsyncSession, *, provider_id: uuid.UUID, limit: int = QUEUE_LIMIT, clock: Clock = system_clock
) -> Sequence[PatientExam]:
    """Waiting exams in the states the provider is licensed in, longest wait first. Test exams reach
    only test providers and live exams only live ones. A waiting exam has no provider yet: one taken by
    another provider is in consultation and never listed."""
    provider = await _active_provider(session, provider_id)
    states = await licensed_states(session, provider, clock=clock)
    return await repository.waiting_exams_in(session, states=states, is_test=provider.is_test, limit=limit)


async def take_exam(
    session: AsyncSession, *, provider_id: uuid.UUID, patient_exam_id: int, clock: Clock = system_clock
) -> PatientExam:
    """The provider starts the consultation; the missed timer stops."""
    provider = await _active_provider(session, provider_id)
    record = await load(session, patient_exam_id=patient_exam_id)
    return await take(session, record, provider=provider, clock=clock)


async def take(session: AsyncSession, record: ExamRecord, *, provider: Provider, clock: Clock) -> PatientExam:
    patient_exam = record.patient_exam
    if provider.is_test != patient_exam.is_test:
        # Indistinguishable from an exam outside the provider's queue.
        raise NotFound(f"patient_exam_id: no patient exam {patient_exam.id}", field="patient_exam_id")
    if patient_exam.tele_state not in await licensed_states(session, provider, clock=clock):
        raise InvalidInput(
            f"provider: not licensed in {patient_exam.tele_state}, the patient's tele_state",
            field="provider_id",
        )
    if patient_exam.provider_id is not None and patient_exam.provider_id != provider.id:
        raise Conflict(
            f"patient exam {patient_exam.id} was already taken by another provider",
            field="patient_exam_id",
            rule="telehealth.exam_already_taken",
        )
    if patient_exam.status != PatientExamStatus.waiting_for_provider:
        raise _refuse(patient_exam, "be taken", "while the patient waits for a provider")
    now = clock.now()
    patient_exam.provider_id = provider.id
    patient_exam.consultation_started_at = now
    patient_exam.next_action_at = None
    record.provider = provider
    move(session, patient_exam, PatientExamStatus.in_consultation, at=now, by=Actor.provider(provider.id))
    return patient_exam


def _clean_reason(outcome: ExamOutcome, reason: str | None) -> str | None:
    cleaned = (reason or "").strip() or None
    if cleaned is None and outcome in REASON_REQUIRED:
        raise InvalidInput(f"reason: say why the exam is {outcome.value}", field="reason")
    if cleaned is not None and len(cleaned) > MAX_REASON_LENGTH:
        raise InvalidInput(f"reason: at most {MAX_REASON_LENGTH} characters", field="reason")
    return cleaned


async def decide(
    session: AsyncSession,
    *,
    provider_id: uuid.UUID,
    patient_exam_id: int,
    outcome: ExamOutcome,
    reason: str | None,
    links: LinkSigner,
    clock: Clock = system_clock,
) -> PatientExam:
    """The provider in the consultation decides; emits event 1."""
    record = await load(session, patient_exam_id=patient_exam_id)
    if record.patient_exam.provider_id != provider_id:
        raise Conflict(
            f"patient exam {patient_exam_id}: only the provider in the consultation can decide it",
            field="provider_id",
        )
    return await complete(session, record, outcome=outcome, reason=reason, links=links, clock=clock)


async def complete(
    session: AsyncSession,
    record: ExamRecord,
    *,
    outcome: ExamOutcome,
    reason: str | None,
    links: LinkSigner,
    clock: Clock,
) -> PatientExam:
    patient_exam = record.patient_exam
    if outcome not in PROVIDER_OUTCOMES:
        allowed = ", ".join(item.value for item in PROVIDER_OUTCOMES)
        raise InvalidInput(f"outcome: must be one of {allowed}", field="outcome")
    if patient_exam.status != PatientExamStatus.in_consultation:
        raise _refuse(patient_exam, "be decided", "during the consultation")
    cleaned = _clean_reason(outcome, reason)
    now = clock.now()
    patient_exam.outcome = outcome
    patient_exam.reason = cleaned
    patient_exam.decided_at = now
    patient_exam.next_action_at = None
    assert patient_exam.provider_id is not None  # in consultation: taken by a provider
    move(
        session,
        patient_exam,
        PatientExamStatus.completed,
        at=now,
        by=Actor.provider(patient_exam.provider_id),
    )
    await emit_exam_event(session, record, type=PATIENT_EXAM_COMPLETED, links=links, clock=clock)
    return patient_exam


async def mark_missed(session: AsyncSession, record: ExamRecord, *, links: LinkSigner, clock: Clock) -> bool:
    """A live exam still waiting when its 3 minutes are up becomes Missed (event 1); the patient page
    then sends the patient to ``redirect_missed``. False when the exam is no longer waiting."""
    patient_exam = record.patient_exam
    if patient_exam.status != PatientExamStatus.waiting_for_provider or patient_exam.is_test:
        return False
    now = clock.now()
    patient_exam.outcome = ExamOutcome.missed
    patient_exam.reason = MISSED_REASON
    patient_exam.decided_at = now
    patient_exam.next_action_at = None
    move(session, patient_exam, PatientExamStatus.completed, at=now, by=TIMER)
    await emit_exam_event(session, record, type=PATIENT_EXAM_COMPLETED, links=links, clock=clock)
    return True
