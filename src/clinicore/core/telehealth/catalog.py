"""A clinic's exam catalog: exams with their screening questions and answer options."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Exam, ExamQuestion, ExamQuestionResponse, QuestionType, RxType
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput

URGENT_CARE_PREFIX = "urgent care"


@dataclass(frozen=True, slots=True)
class OptionSpec:
    text: str
    has_free_text: bool = False


@dataclass(frozen=True, slots=True)
class QuestionSpec:
    text: str
    type: QuestionType
    options: Sequence[OptionSpec] = ()
    is_required: bool = True


@dataclass(frozen=True, slots=True)
class ExamSpec:
    title: str
    rx_type: RxType
    price: Decimal | None = None
    attachments_required: bool = False
    attachments: Sequence[str] = ()
    questions: Sequence[QuestionSpec] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class QuestionWithOptions:
    question: ExamQuestion
    options: Sequence[ExamQuestionResponse]


def is_urgent_care(exam: Exam) -> bool:
    """Urgent care is an Rx exam told apart only by its title (``Urgent Care - UTI``)."""
    return exam.rx_type == RxType.rx and exam.title.strip().lower().startswith(URGENT_CARE_PREFIX)


async def create_exam(
    session: AsyncSession, *, clinic_id: uuid.UUID, spec: ExamSpec, clock: Clock = system_clock
) -> Exam:
    if not spec.title.strip():
        raise InvalidInput("title: must not be empty", field="title")
    for number, question in enumerate(spec.questions, start=1):
        has_options = bool(question.options)
        if (question.type == QuestionType.text) == has_options:
            raise InvalidInput(
                f"questions[{number}]: a {question.type} question "
                + ("takes no options" if question.type == QuestionType.text else "needs options"),
                field="questions",
            )
    now = clock.now()
    exam = Exam(
        clinic_id=clinic_id,
        title=spec.title.strip(),
        rx_type=spec.rx_type,
        price=spec.price,
        attachments_required=spec.attachments_required,
        attachments=list(spec.attachments),
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(exam)
    await session.flush()
    for number, question_spec in enumerate(spec.questions, start=1):
        row = ExamQuestion(
            exam_id=exam.id,
            no=number,
            text=question_spec.text,
            type=question_spec.type,
            is_required=question_spec.is_required,
        )
        session.add(row)
        await session.flush()
        session.add_all(
            ExamQuestionResponse(
                question_id=row.id,
                position=position,
                text=option.text,
                has_free_text=option.has_free_text,
            )
            for position, option in enumerate(question_spec.options, start=1)
        )
    await session.flush()
    return exam


async def list_exams(session: AsyncSession, *, clinic_id: uuid.UUID) -> Sequence[Exam]:
    """The clinic's active exams, in id order."""
    result = await session.scalars(
        select(Exam).where(Exam.clinic_id == clinic_id, Exam.is_active.is_(True)).order_by(Exam.id)
    )
    return result.all()


async def exams_by_id(
    session: AsyncSession, *, clinic_id: uuid.UUID, exam_ids: Sequence[int]
) -> dict[int, Exam]:
    """The clinic's active exams among ``exam_ids`` (another clinic's exam is simply absent)."""
    if not exam_ids:
        return {}
    result = await session.scalars(
        select(Exam).where(Exam.clinic_id == clinic_id, Exam.is_active.is_(True), Exam.id.in_(set(exam_ids)))
    )
    return {exam.id: exam for exam in result}


async def questions(session: AsyncSession, *, exam_id: int) -> Sequence[QuestionWithOptions]:
    """An exam's questions by ``no``, each with its options by position (two queries)."""
    rows = (
        await session.scalars(
            select(ExamQuestion).where(ExamQuestion.exam_id == exam_id).order_by(ExamQuestion.no)
        )
    ).all()
    if not rows:
        return []
    options = (
        await session.scalars(
            select(ExamQuestionResponse)
            .where(ExamQuestionResponse.question_id.in_([row.id for row in rows]))
            .order_by(ExamQuestionResponse.question_id, ExamQuestionResponse.position)
        )
    ).all()
    by_question: dict[int, list[ExamQuestionResponse]] = {}
    for option in options:
        by_question.setdefault(option.question_id, []).append(option)
    return [QuestionWithOptions(question=row, options=by_question.get(row.id, [])) for row in rows]
