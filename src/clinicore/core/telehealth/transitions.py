"""The patient exam's status moves, in one table that every status write goes through (``move``).

    pending -> in_questionnaire -> waiting_for_provider -> in_consultation -> completed (an outcome)
    pending -> waiting_for_provider            (every question answered before the visit)
    waiting_for_provider -> completed          (Missed: no provider within 3 minutes)
    completed -> in_consultation               (a medical director takes an exam deferred to them)
    completed -> prescribed -> confirmed_by_pharmacy -> shipped   (an approved Rx exam)
    pending | in_questionnaire | waiting_for_provider -> cancelled   (before a provider acts)

Every move is written to the exam's timeline (``ExamStatusChange``) with who made it, so no status
changes unrecorded. No I/O here: the row is added to the session and flushed with the exam. A move the
table does not hold is refused with a ``Conflict`` naming both statuses; the step that asks for it may
first refuse with its own, friendlier reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.models import ExamStatusChange, PatientExam, PatientExamStatus
from clinicore.kit.errors import Conflict

S = PatientExamStatus

# Statuses in which no provider has acted yet: the invite may be cancelled, the answers changed.
BEFORE_A_PROVIDER_ACTS = frozenset({S.pending, S.in_questionnaire, S.waiting_for_provider})
# Statuses of a decided exam.
FINISHED = frozenset({S.completed, S.prescribed, S.confirmed_by_pharmacy, S.shipped})

TRANSITIONS: Mapping[PatientExamStatus, frozenset[PatientExamStatus]] = {
    S.pending: frozenset({S.in_questionnaire, S.waiting_for_provider, S.cancelled}),
    S.in_questionnaire: frozenset({S.waiting_for_provider, S.cancelled}),
    S.waiting_for_provider: frozenset({S.in_consultation, S.completed, S.cancelled}),
    S.in_consultation: frozenset({S.completed}),
    S.completed: frozenset({S.prescribed, S.in_consultation}),
    S.prescribed: frozenset({S.confirmed_by_pharmacy}),
    S.confirmed_by_pharmacy: frozenset({S.shipped}),
    S.shipped: frozenset(),
    S.cancelled: frozenset(),
}


def can_move(current: PatientExamStatus | str, target: PatientExamStatus) -> bool:
    return target in TRANSITIONS.get(S(current), frozenset())


def move(
    session: AsyncSession, patient_exam: PatientExam, target: PatientExamStatus, *, at: datetime, by: Actor
) -> None:
    """Set the exam's status to ``target`` when the table allows it; bump ``version`` and ``updated_at``;
    write the move to the timeline (with the outcome, when the move decides one)."""
    if not can_move(patient_exam.status, target):
        raise Conflict(
            f"patient exam {patient_exam.id} cannot move from {patient_exam.status} to {target.value}",
            field="patient_exam_id",
            rule="telehealth.illegal_status_move",
            params={"from": str(patient_exam.status), "to": target.value},
        )
    session.add(
        ExamStatusChange(
            clinic_id=patient_exam.clinic_id,
            patient_exam_id=patient_exam.id,
            from_status=str(patient_exam.status),
            to_status=target.value,
            outcome=patient_exam.outcome if target == S.completed else None,
            actor_type=by.type,
            actor_id=by.id,
            occurred_at=at,
        )
    )
    patient_exam.status = target
    patient_exam.version += 1
    patient_exam.updated_at = at


def record_creation(session: AsyncSession, patient_exam: PatientExam, *, by: Actor) -> None:
    """The first line of a new exam's timeline (flushed after the exam, which has its id by then)."""
    session.add(
        ExamStatusChange(
            clinic_id=patient_exam.clinic_id,
            patient_exam_id=patient_exam.id,
            from_status=None,
            to_status=str(patient_exam.status),
            outcome=None,
            actor_type=by.type,
            actor_id=by.id,
            occurred_at=patient_exam.created_at,
        )
    )
