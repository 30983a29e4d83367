"""What the clinic console shows of its exams: the list (filters and paging), one exam with everything
around it (the patient as the invite named them, answers, prescription, the timeline of status moves with
who made each, and the webhook attempts of its meeting), and a patient's exams.

Read-only, and every query is scoped to the caller's clinic: another clinic's exam answers exactly as a
missing one (``NotFound``). The moves themselves (cancel, resend) stay in ``invites.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import (
    ApiKey,
    ClinicUser,
    Event,
    Exam,
    ExamOutcome,
    ExamStatusChange,
    Meeting,
    PatientExam,
    PatientExamStatus,
    PharmacyUser,
    Prescription,
    PrescriptionItem,
    Provider,
    Shipment,
    WebhookAttempt,
)
from clinicore.core.telehealth import repository
from clinicore.core.telehealth.events import AGGREGATE
from clinicore.core.telehealth.invites import status_label
from clinicore.core.telehealth.repository import AnswerRow, ExamRecord
from clinicore.core.telehealth.transitions import BEFORE_A_PROVIDER_ACTS, FINISHED
from clinicore.kit.errors import InvalidInput, NotFound

LIST_LIMIT = 200
TIMELINE_LIMIT = 500
ATTEMPTS_LIMIT = 100


class ExamListStatus(StrEnum):
    """What the console's list filters by: a status, or the outcome of a decided exam (whatever came
    after it: an approved Rx exam that was prescribed is still Approved)."""

    pending = "pending"
    in_questionnaire = "in_questionnaire"
    waiting_for_provider = "waiting_for_provider"
    in_consultation = "in_consultation"
    approved = "approved"
    rejected = "rejected"
    deferred = "deferred"
    na = "na"
    missed = "missed"
    prescribed = "prescribed"
    confirmed_by_pharmacy = "confirmed_by_pharmacy"
    shipped = "shipped"
    cancelled = "cancelled"


_OUTCOME_OF = {
    ExamListStatus.approved: ExamOutcome.approved,
    ExamListStatus.rejected: ExamOutcome.rejected,
    ExamListStatus.deferred: ExamOutcome.deferred,
    ExamListStatus.na: ExamOutcome.na,
    ExamListStatus.missed: ExamOutcome.missed,
}


class ExamMode(StrEnum):
    live = "live"
    test = "test"


@dataclass(frozen=True, slots=True)
class ExamFilter:
    status: ExamListStatus | None = None
    exam_id: int | None = None
    created_from: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    mode: ExamMode | None = None
    client_id: uuid.UUID | None = None
    meeting_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ExamListRow:
    patient_exam: PatientExam
    exam_title: str
    patient_first_name: str
    patient_last_name: str
    patient_email: str

    @property
    def status_label(self) -> str:
        return status_label(self.patient_exam)


_ListQuery = Select[PatientExam, str, str, str, str]


def _filtered(query: _ListQuery, filters: ExamFilter) -> _ListQuery:
    if filters.status is not None:
        outcome = _OUTCOME_OF.get(filters.status)
        if outcome is not None:
            query = query.where(PatientExam.outcome == outcome)
        else:
            query = query.where(PatientExam.status == PatientExamStatus(filters.status.value))
    if filters.exam_id is not None:
        query = query.where(PatientExam.exam_id == filters.exam_id)
    if filters.created_from is not None:
        query = query.where(PatientExam.created_at >= filters.created_from)
    if filters.created_before is not None:
        query = query.where(PatientExam.created_at < filters.created_before)
    if filters.mode is not None:
        query = query.where(PatientExam.is_test.is_(filters.mode is ExamMode.test))
    if filters.client_id is not None:
        query = query.where(PatientExam.client_id == filters.client_id)
    if filters.meeting_id is not None:
        query = query.where(PatientExam.meeting_id == filters.meeting_id)
    return query


async def list_exams(
    session: AsyncSession, *, clinic_id: uuid.UUID, filters: ExamFilter, limit: int, offset: int = 0
) -> list[ExamListRow]:
    """The clinic's patient exams, newest first, each with its exam title and the patient as named."""
    if filters.created_from and filters.created_before and filters.created_from >= filters.created_before:
        raise InvalidInput("created: the range ends before it starts", field="created_until")
    query = (
        select(
            PatientExam,
            Exam.title,
            Meeting.patient_first_name,
            Meeting.patient_last_name,
            Meeting.patient_email,
        )
        .join(Exam, Exam.id == PatientExam.exam_id)
        .join(Meeting, Meeting.id == PatientExam.meeting_id)
        .where(PatientExam.clinic_id == clinic_id)
    )
    query = _filtered(query, filters).order_by(PatientExam.created_at.desc(), PatientExam.id.desc())
    rows = (await session.execute(query.limit(min(limit, LIST_LIMIT + 1)).offset(max(offset, 0)))).all()
    return [ExamListRow(*row) for row in rows]


async def catalog_exams(session: AsyncSession, *, clinic_id: uuid.UUID) -> Sequence[Exam]:
    """The clinic's catalog exams (active or not: old exams still filter), by title."""
    result = await session.scalars(
        select(Exam).where(Exam.clinic_id == clinic_id).order_by(Exam.title, Exam.id)
    )
    return result.all()


# --- one exam ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    occurred_at: datetime
    from_status: str | None  # None: the exam was created
    to_status: str
    outcome: str | None
    actor_type: str  # patient | provider | pharmacy | api_key | user | timer | system | ...
    actor: str  # who, in words: "Provider Liza Park", "API key “prod”", "Timer"


@dataclass(frozen=True, slots=True)
class AttemptRow:
    attempt: WebhookAttempt
    event_id: str
    event_type: str


@dataclass(frozen=True, slots=True)
class PrescriptionView:
    prescription: Prescription
    items: Sequence[PrescriptionItem]
    shipments: Sequence[Shipment]


@dataclass(frozen=True, slots=True)
class ExamDetail:
    record: ExamRecord
    answers: Sequence[AnswerRow]
    prescription: PrescriptionView | None
    timeline: Sequence[TimelineEntry]
    attempts: Sequence[AttemptRow]
    other_exams: Sequence[ExamListRow] = field(default_factory=list)  # the same invite's other exams

    @property
    def status_label(self) -> str:
        return status_label(self.record.patient_exam)

    @property
    def can_cancel(self) -> bool:
        """Whether the page offers Cancel; ``invites.cancel_invite`` decides and says why not."""
        return PatientExamStatus(self.record.patient_exam.status) in BEFORE_A_PROVIDER_ACTS

    @property
    def can_resend(self) -> bool:
        status = PatientExamStatus(self.record.patient_exam.status)
        return status is not PatientExamStatus.cancelled and status not in FINISHED


async def exam_detail(session: AsyncSession, *, clinic_id: uuid.UUID, patient_exam_id: int) -> ExamDetail:
    record = await repository.load_exam(session, patient_exam_id=patient_exam_id, clinic_id=clinic_id)
    if record is None:
        raise NotFound(f"patient exam {patient_exam_id} not found", field="patient_exam_id")
    patient_exam = record.patient_exam
    prescription = await repository.prescription_of(session, patient_exam_id=patient_exam.id)
    prescription_view = (
        PrescriptionView(
            prescription,
            await repository.prescription_items(session, prescription_id=prescription.id),
            await repository.shipments_of(session, prescription_id=prescription.id),
        )
        if prescription is not None
        else None
    )
    same_invite = await list_exams(
        session, clinic_id=clinic_id, filters=ExamFilter(meeting_id=patient_exam.meeting_id), limit=LIST_LIMIT
    )
    return ExamDetail(
        record=record,
        answers=await repository.answers_by_question(session, patient_exam=patient_exam),
        prescription=prescription_view,
        timeline=await exam_timeline(session, clinic_id=clinic_id, patient_exam=patient_exam),
        attempts=await meeting_attempts(session, clinic_id=clinic_id, meeting_id=record.meeting.id),
        other_exams=[row for row in same_invite if row.patient_exam.id != patient_exam.id],
    )


async def exam_timeline(
    session: AsyncSession, *, clinic_id: uuid.UUID, patient_exam: PatientExam
) -> list[TimelineEntry]:
    """Every status move of the exam in order, each with when and who (named in one query per kind of
    actor). An exam made before moves were recorded starts from its creation time."""
    changes = (
        await session.scalars(
            select(ExamStatusChange)
            .where(
                ExamStatusChange.clinic_id == clinic_id, ExamStatusChange.patient_exam_id == patient_exam.id
            )
            .order_by(ExamStatusChange.occurred_at, ExamStatusChange.id)
            .limit(TIMELINE_LIMIT)
        )
    ).all()
    names = await _actor_names(session, clinic_id=clinic_id, changes=changes)
    entries = [
        TimelineEntry(
            occurred_at=change.occurred_at,
            from_status=change.from_status,
            to_status=change.to_status,
            outcome=change.outcome,
            actor_type=change.actor_type,
            actor=names.get((change.actor_type, change.actor_id or ""), _actor_kind(change.actor_type)),
        )
        for change in changes
    ]
    if not entries or entries[0].from_status is not None:
        created = TimelineEntry(
            occurred_at=patient_exam.created_at,
            from_status=None,
            to_status=PatientExamStatus.pending.value,
            outcome=None,
            actor_type="unknown",
            actor="Not recorded",
        )
        entries.insert(0, created)
    return entries


_ACTOR_KINDS = {
    "patient": "Patient",
    "provider": "Provider",
    "pharmacy_user": "Pharmacy",
    "pharmacy": "Pharmacy",
    "api_key": "API key",
    "user": "Console user",
    "timer": "Timer",
    "system": "System",
    "cli": "Command line",
}


def _actor_kind(actor_type: str) -> str:
    return _ACTOR_KINDS.get(actor_type, actor_type.replace("_", " ").capitalize())


def _uuids(values: set[str]) -> set[uuid.UUID]:
    found = set()
    for value in values:
        try:
            found.add(uuid.UUID(value))
        except ValueError:
            continue
    return found


async def _actor_names(
    session: AsyncSession, *, clinic_id: uuid.UUID, changes: Sequence[ExamStatusChange]
) -> dict[tuple[str, str], str]:
    """(actor type, id) -> words. Keys and console users only of this clinic; providers and pharmacy
    users by name (the network's and the partner pharmacy's people)."""
    ids: dict[str, set[str]] = {}
    for change in changes:
        if change.actor_id:
            ids.setdefault(change.actor_type, set()).add(change.actor_id)
    names: dict[tuple[str, str], str] = {}
    if wanted := _uuids(ids.get("provider", set())):
        for provider_id, name in (
            await session.execute(select(Provider.id, Provider.name).where(Provider.id.in_(wanted)))
        ).all():
            names[("provider", str(provider_id))] = f"Provider {name}"
    for kind in ("pharmacy_user", "pharmacy"):
        if wanted := _uuids(ids.get(kind, set())):
            for user_id, name in (
                await session.execute(
                    select(PharmacyUser.id, PharmacyUser.name).where(PharmacyUser.id.in_(wanted))
                )
            ).all():
                names[(kind, str(user_id))] = f"Pharmacy ({name})"
    if wanted := _uuids(ids.get("api_key", set())):
        for key_id, name in (
            await session.execute(
                select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(wanted), ApiKey.clinic_id == clinic_id)
            )
        ).all():
            names[("api_key", str(key_id))] = f"API key “{name}”"
    if wanted := _uuids(ids.get("user", set())):
        for user_id, name in (
            await session.execute(
                select(ClinicUser.id, ClinicUser.name).where(
                    ClinicUser.id.in_(wanted), ClinicUser.clinic_id == clinic_id
                )
            )
        ).all():
            names[("user", str(user_id))] = f"{name} (console)"
    return names


async def meeting_attempts(
    session: AsyncSession, *, clinic_id: uuid.UUID, meeting_id: uuid.UUID, limit: int = ATTEMPTS_LIMIT
) -> list[AttemptRow]:
    """The webhook delivery attempts of the meeting's events (every exam of its invite), newest first."""
    query = (
        select(WebhookAttempt, Event.id, Event.type)
        .join(Event, Event.sequence == WebhookAttempt.event_sequence)
        .where(
            WebhookAttempt.clinic_id == clinic_id,
            Event.clinic_id == clinic_id,
            Event.aggregate_type == AGGREGATE,
            Event.aggregate_id == str(meeting_id),
        )
        .order_by(
            WebhookAttempt.attempted_at.desc(),
            WebhookAttempt.event_sequence.desc(),
            WebhookAttempt.attempt_number.desc(),
        )
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [AttemptRow(attempt, event_id, event_type) for attempt, event_id, event_type in rows]
