"""Screening answers of a patient exam: submitted by the clinic's system before the visit (Qualiphy
``exam_submit_answers``) or by the patient at the meeting.

A submission replaces the earlier answers of the questions it names and leaves the others alone. When
every required question has an answer the questionnaire is complete and the patient skips it;
otherwise the patient sees only ``remaining_questions``. Answers are refused once the exam is cancelled
or a provider has taken it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import (
    Exam,
    ExamAnswer,
    ExamQuestion,
    ExamQuestionResponse,
    Meeting,
    PatientExam,
    PatientExamStatus,
    QuestionType,
)
from clinicore.core.telehealth import catalog, repository
from clinicore.core.telehealth.catalog import QuestionWithOptions
from clinicore.core.telehealth.transitions import BEFORE_A_PROVIDER_ACTS
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, InvalidInput, NotFound

UNKNOWN_MEETING = "telehealth.unknown_meeting"  # the rule a missing, malformed or unknown meeting breaks


def unknown_meeting() -> InvalidInput:
    return InvalidInput("meeting_uuid: no such meeting", field="meeting_uuid", rule=UNKNOWN_MEETING)


class AnswerSource:
    api = "api"
    patient = "patient"


@dataclass(frozen=True, slots=True)
class SubmittedAnswer:
    """One item of a submission, as sent: a question (by id, else by number) and one selection or text.

    ``response_id`` picks an option of a single- or multi-select question (else ``answer`` naming the
    option's text); ``answer`` is the text of a free-text question; ``answer_text`` fills an option's
    free-text box ("Other: ____").
    """

    question_id: int | None = None
    no: int | None = None
    response_id: int | None = None
    answer: str | None = None
    answer_text: str | None = None


@dataclass(frozen=True, slots=True)
class QuestionAnswers:
    """A question with its stored answers (one per selected option; one for a free-text question)."""

    question: ExamQuestion
    answers: Sequence[ExamAnswer]

    @property
    def text(self) -> str:
        """The answer as a reader sees it: ``Diabetes, Other: asthma`` or the free text."""
        return ", ".join(
            f"{row.answer}: {row.answer_text}" if row.answer_text else row.answer for row in self.answers
        )


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    patient_exam: PatientExam
    meeting_id: uuid.UUID
    answered: int  # questions of the exam that now have an answer
    remaining: Sequence[QuestionWithOptions]  # questions still without one, by number
    questionnaire_completed: bool


@dataclass(frozen=True, slots=True)
class ExamQuestionnaire:
    """An exam's questions, and, when asked for one patient exam, the answers it already has."""

    exam: Exam
    questions: Sequence[QuestionWithOptions]
    patient_exam: PatientExam | None = None
    answers: Sequence[QuestionAnswers] = ()


# --- lookups ----------------------------------------------------------------------------------------


async def find_patient_exam(
    session: AsyncSession, *, clinic_id: uuid.UUID, patient_exam_id: int, for_update: bool = False
) -> PatientExam:
    """The clinic's patient exam; another clinic's answers exactly as a missing one."""
    patient_exam = await repository.get_patient_exam(
        session, clinic_id=clinic_id, patient_exam_id=patient_exam_id, lock=for_update
    )
    if patient_exam is None:
        raise NotFound("patient_exam_id: no such patient exam", field="patient_exam_id")
    return patient_exam


async def find_meeting(session: AsyncSession, *, clinic_id: uuid.UUID, meeting_uuid: str | None) -> Meeting:
    """The clinic's meeting named by ``meeting_uuid``; missing, malformed or another clinic's: 400."""
    try:
        meeting_id = uuid.UUID((meeting_uuid or "").strip())
    except ValueError:
        raise unknown_meeting() from None
    meeting = await session.scalar(
        select(Meeting).where(Meeting.id == meeting_id, Meeting.clinic_id == clinic_id)
    )
    if meeting is None:
        raise unknown_meeting()
    return meeting


async def _exam_of(session: AsyncSession, patient_exam: PatientExam) -> Exam:
    exam = await session.get(Exam, patient_exam.exam_id)
    assert exam is not None  # patient_exams.exam_id is a RESTRICT foreign key
    return exam


# --- reading ----------------------------------------------------------------------------------------


async def exam_questionnaire(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    exam_id: int | None = None,
    patient_exam_id: int | None = None,
    meeting_uuid: str | None = None,
) -> ExamQuestionnaire:
    """The screening questions of one of the clinic's active exams (by ``exam_id``), or of a patient
    exam's exam together with the answers it has (by ``patient_exam_id``, checked against
    ``meeting_uuid`` when one is given)."""
    if patient_exam_id is not None:
        patient_exam = await find_patient_exam(session, clinic_id=clinic_id, patient_exam_id=patient_exam_id)
        if meeting_uuid is not None:
            meeting = await find_meeting(session, clinic_id=clinic_id, meeting_uuid=meeting_uuid)
            _check_in_meeting(patient_exam, meeting)
        exam = await _exam_of(session, patient_exam)
        if exam_id is not None and exam_id != exam.id:
            raise InvalidInput(
                f"exam_id: patient exam {patient_exam.id} is exam {exam.id}, not {exam_id}", field="exam_id"
            )
        return ExamQuestionnaire(
            exam=exam,
            questions=await catalog.questions(session, exam_id=exam.id),
            patient_exam=patient_exam,
            answers=await answers_for(session, patient_exam_id=patient_exam.id),
        )
    if exam_id is None:
        raise InvalidInput("exam_id is required", field="exam_id")
    exams = await catalog.exams_by_id(session, clinic_id=clinic_id, exam_ids=[exam_id])
    if exam_id not in exams:
        # Another clinic's exam answers exactly like one that does not exist (the invite's rule too).
        raise NotFound(
            f"exam_id: exam {exam_id} is not offered by this clinic",
            field="exam_id",
            rule="telehealth.exam_not_offered",
            params={"exam_id": exam_id},
        )
    return ExamQuestionnaire(exam=exams[exam_id], questions=await catalog.questions(session, exam_id=exam_id))


async def answers_for(session: AsyncSession, *, patient_exam_id: int) -> Sequence[QuestionAnswers]:
    """The answered questions of a patient exam, by question number, options in their order.

    For callers that already hold the patient exam (the patient page, the PDF, the webhooks)."""
    rows = (
        await session.execute(
            select(ExamAnswer, ExamQuestion)
            .join(ExamQuestion, ExamQuestion.id == ExamAnswer.question_id)
            .outerjoin(ExamQuestionResponse, ExamQuestionResponse.id == ExamAnswer.response_id)
            .where(ExamAnswer.patient_exam_id == patient_exam_id)
            .order_by(ExamQuestion.no, ExamQuestionResponse.position, ExamAnswer.created_at)
        )
    ).all()
    grouped: dict[int, tuple[ExamQuestion, list[ExamAnswer]]] = {}
    for answer, question in rows:
        grouped.setdefault(question.id, (question, []))[1].append(answer)
    return [QuestionAnswers(question=question, answers=answers) for question, answers in grouped.values()]


async def _answered_question_ids(session: AsyncSession, *, patient_exam_id: int) -> set[int]:
    result = await session.scalars(
        select(ExamAnswer.question_id).where(ExamAnswer.patient_exam_id == patient_exam_id).distinct()
    )
    return set(result)


async def remaining_questions(
    session: AsyncSession, *, patient_exam_id: int
) -> Sequence[QuestionWithOptions]:
    """The questions of a patient exam that have no answer yet, by number: what the patient still sees.
    For callers that already hold the patient exam (not scoped to a clinic)."""
    patient_exam = await session.get(PatientExam, patient_exam_id)
    if patient_exam is None:
        raise NotFound(f"patient_exam_id: no patient exam {patient_exam_id}", field="patient_exam_id")
    questions = await catalog.questions(session, exam_id=patient_exam.exam_id)
    answered = await _answered_question_ids(session, patient_exam_id=patient_exam_id)
    return [item for item in questions if item.question.id not in answered]


# --- submitting -------------------------------------------------------------------------------------


def _check_in_meeting(patient_exam: PatientExam, meeting: Meeting) -> None:
    if patient_exam.meeting_id != meeting.id:
        raise InvalidInput(
            f"patient_exam_id: patient exam {patient_exam.id} is not part of meeting {meeting.id}",
            field="patient_exam_id",
        )


def check_answers_open(patient_exam: PatientExam) -> None:
    """Answers may change until a provider acts; never on a cancelled exam."""
    if patient_exam.status == PatientExamStatus.cancelled:
        raise Conflict(
            f"patient_exam_id: patient exam {patient_exam.id} is cancelled; its answers can no longer change",
            field="patient_exam_id",
        )
    if patient_exam.status not in BEFORE_A_PROVIDER_ACTS:
        raise Conflict(
            f"patient_exam_id: a provider has already taken patient exam {patient_exam.id} "
            f"(status {patient_exam.status}); its answers can no longer change",
            field="patient_exam_id",
        )


@dataclass(frozen=True, slots=True)
class _Row:
    question: ExamQuestion
    response_id: int | None
    answer: str
    answer_text: str | None


def _resolve_question(
    item: SubmittedAnswer,
    where: str,
    by_id: dict[int, QuestionWithOptions],
    by_no: dict[int, QuestionWithOptions],
) -> QuestionWithOptions:
    if item.question_id is not None:
        found = by_id.get(item.question_id)
        if found is None:
            raise InvalidInput(
                f"{where}.question_id: {item.question_id} is not a question of this exam "
                f"(question ids: {', '.join(str(key) for key in by_id)})",
                field="answers",
            )
        if item.no is not None and item.no != found.question.no:
            raise InvalidInput(
                f"{where}.no: question {item.question_id} is number {found.question.no}, not {item.no}",
                field="answers",
            )
        return found
    if item.no is not None:
        found = by_no.get(item.no)
        if found is None:
            raise InvalidInput(f"{where}.no: the exam has no question number {item.no}", field="answers")
        return found
    raise InvalidInput(f"{where}.question_id is required", field="answers")


def _resolve_option(item: SubmittedAnswer, where: str, entry: QuestionWithOptions) -> ExamQuestionResponse:
    question = entry.question
    if item.response_id is not None:
        for option in entry.options:
            if option.id == item.response_id:
                return option
        raise InvalidInput(
            f"{where}.exam_question_response_id: {item.response_id} is not an option of question "
            f"{question.id} (options: {', '.join(str(option.id) for option in entry.options)})",
            field="answers",
        )
    # Qualiphy's recipe matches on text too: an option named by its exact text (case aside) is accepted.
    if item.answer is not None:
        wanted = item.answer.strip().casefold()
        for option in entry.options:
            if option.text.strip().casefold() == wanted:
                return option
    raise InvalidInput(
        f"{where}.exam_question_response_id is required: question {question.id} is "
        f"{'multi' if question.type == QuestionType.multiple else 'single'}-select",
        field="answers",
    )


def _rows_for(item: SubmittedAnswer, where: str, entry: QuestionWithOptions) -> _Row:
    question = entry.question
    if question.type == QuestionType.text:
        if item.response_id is not None:
            raise InvalidInput(
                f"{where}.exam_question_response_id: question {question.id} is a free-text question "
                "and has no options",
                field="answers",
            )
        text = item.answer if item.answer is not None else item.answer_text
        if text is None or not text.strip():
            raise InvalidInput(
                f"{where}.answer: question {question.id} is a free-text question; "
                "the answer must not be empty",
                field="answers",
            )
        return _Row(question=question, response_id=None, answer=text.strip(), answer_text=None)
    option = _resolve_option(item, where, entry)
    if option.has_free_text:
        if item.answer_text is None or not item.answer_text.strip():
            raise InvalidInput(
                f"{where}.answer_text: option {option.id} ({option.text!r}) of question {question.id} has a "
                "free-text box; answer_text must not be empty",
                field="answers",
            )
        return _Row(
            question=question, response_id=option.id, answer=option.text, answer_text=item.answer_text.strip()
        )
    if item.answer_text is not None and item.answer_text.strip():
        raise InvalidInput(
            f"{where}.answer_text: option {option.id} ({option.text!r}) of question {question.id} has no "
            "free-text box",
            field="answers",
        )
    return _Row(question=question, response_id=option.id, answer=option.text, answer_text=None)


def validate_answers(
    questions: Sequence[QuestionWithOptions], answers: Sequence[SubmittedAnswer]
) -> dict[int, list[_Row]]:
    """The rows to store, by question id; a 400 naming the first item that does not fit the exam."""
    if not answers:
        raise InvalidInput("answers: must list at least one answer", field="answers")
    by_id = {entry.question.id: entry for entry in questions}
    by_no = {entry.question.no: entry for entry in questions}
    rows: dict[int, list[_Row]] = {}
    for index, item in enumerate(answers):
        where = f"answers[{index}]"
        entry = _resolve_question(item, where, by_id, by_no)
        row = _rows_for(item, where, entry)
        chosen = rows.setdefault(entry.question.id, [])
        same = [
            other for other in chosen if row.response_id is not None and other.response_id == row.response_id
        ]
        if same:
            if same[0].answer_text != row.answer_text:
                raise InvalidInput(
                    f"{where}: option {row.response_id} of question {entry.question.id} is given twice "
                    "with different answer_text",
                    field="answers",
                )
            continue  # the same selection repeated: once is enough
        chosen.append(row)
        question_type = entry.question.type
        if question_type != QuestionType.multiple and len(chosen) > 1:
            kind = "free-text" if question_type == QuestionType.text else "single-select"
            raise InvalidInput(
                f"{where}: question {entry.question.id} is {kind} and takes one answer; "
                f"it was given {len(chosen)}",
                field="answers",
            )
    return rows


async def submit_answers(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    meeting_uuid: str | None,
    patient_exam_id: int,
    answers: Sequence[SubmittedAnswer],
    source: str = AnswerSource.api,
    clock: Clock = system_clock,
) -> SubmissionResult:
    """Store answers for a patient exam of one of the clinic's meetings (see the module docstring)."""
    meeting = await find_meeting(session, clinic_id=clinic_id, meeting_uuid=meeting_uuid)
    patient_exam = await find_patient_exam(
        session, clinic_id=clinic_id, patient_exam_id=patient_exam_id, for_update=True
    )
    _check_in_meeting(patient_exam, meeting)
    check_answers_open(patient_exam)
    questions = await catalog.questions(session, exam_id=patient_exam.exam_id)
    rows = validate_answers(questions, answers)

    now = clock.now()
    await session.execute(
        delete(ExamAnswer).where(
            ExamAnswer.patient_exam_id == patient_exam.id, ExamAnswer.question_id.in_(list(rows))
        )
    )
    session.add_all(
        ExamAnswer(
            patient_exam_id=patient_exam.id,
            question_id=row.question.id,
            response_id=row.response_id,
            answer=row.answer,
            answer_text=row.answer_text,
            source=source,
            created_at=now,
        )
        for question_rows in rows.values()
        for row in question_rows
    )
    await session.flush()

    answered = await _answered_question_ids(session, patient_exam_id=patient_exam.id)
    remaining = [entry for entry in questions if entry.question.id not in answered]
    complete = all(entry.question.id in answered for entry in questions if entry.question.is_required)
    if complete and patient_exam.questionnaire_completed_at is None:
        patient_exam.questionnaire_completed_at = now
    patient_exam.updated_at = now
    await session.flush()
    return SubmissionResult(
        patient_exam=patient_exam,
        meeting_id=meeting.id,
        answered=sum(1 for entry in questions if entry.question.id in answered),
        remaining=remaining,
        questionnaire_completed=patient_exam.questionnaire_completed_at is not None,
    )
