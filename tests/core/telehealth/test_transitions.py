"""The patient exam's one transition table: every legal move, every illegal one refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.models import ExamStatusChange, PatientExam, PatientExamStatus
from clinicore.core.telehealth.transitions import BEFORE_A_PROVIDER_ACTS, TRANSITIONS, can_move, move
from clinicore.kit.errors import Conflict

S = PatientExamStatus
NOW = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)
ACTOR = Actor("provider", "a-provider")
LEGAL = {
    (S.pending, S.in_questionnaire),
    (S.pending, S.waiting_for_provider),
    (S.pending, S.cancelled),
    (S.in_questionnaire, S.waiting_for_provider),
    (S.in_questionnaire, S.cancelled),
    (S.waiting_for_provider, S.in_consultation),
    (S.waiting_for_provider, S.completed),
    (S.waiting_for_provider, S.cancelled),
    (S.in_consultation, S.completed),
    (S.completed, S.prescribed),
    (S.completed, S.in_consultation),  # a medical director takes an exam deferred to them
    (S.prescribed, S.confirmed_by_pharmacy),
    (S.confirmed_by_pharmacy, S.shipped),
}
EVERY_MOVE = [(current, target) for current in S for target in S]


def exam_in(status: PatientExamStatus) -> PatientExam:
    return PatientExam(id=100001, status=status, version=1, updated_at=NOW)


def test_the_table_covers_every_status() -> None:
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(("current", "target"), EVERY_MOVE)
def test_a_move_is_allowed_exactly_when_the_table_holds_it(
    current: PatientExamStatus, target: PatientExamStatus
) -> None:
    assert can_move(current, target) == ((current, target) in LEGAL)


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_a_legal_move_sets_the_status_and_counts_a_version(
    current: PatientExamStatus, target: PatientExamStatus
) -> None:
    exam = exam_in(current)
    session = AsyncSession()
    move(session, exam, target, at=NOW, by=ACTOR)
    assert (exam.status, exam.version, exam.updated_at) == (target, 2, NOW)
    (change,) = session.new
    assert isinstance(change, ExamStatusChange)
    assert (change.patient_exam_id, change.from_status, change.to_status) == (exam.id, current, target)
    assert (change.actor_type, change.actor_id, change.occurred_at) == ("provider", ACTOR.id, NOW)


@pytest.mark.parametrize(("current", "target"), [move for move in EVERY_MOVE if move not in LEGAL])
def test_an_illegal_move_is_refused_and_changes_nothing(
    current: PatientExamStatus, target: PatientExamStatus
) -> None:
    exam = exam_in(current)
    session = AsyncSession()
    with pytest.raises(Conflict) as refused:
        move(session, exam, target, at=NOW, by=ACTOR)
    assert refused.value.rule == "telehealth.illegal_status_move"
    assert (exam.status, exam.version) == (current, 1)
    assert not session.new  # nothing on the timeline


def test_cancelling_is_possible_exactly_before_a_provider_acts() -> None:
    assert {status for status in S if can_move(status, S.cancelled)} == BEFORE_A_PROVIDER_ACTS
