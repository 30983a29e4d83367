"""Qualiphy's wire for screening questions, submitted answers and attachments, and the pure functions
that map core results onto it.

Field names follow real client code (``responses[].response``, ``input_field``,
``exam_question_response_id``) and the doc (``question_id``, ``answer``, ``answer_text``); the choices
are recorded in ``docs/compat/qualiphy.md``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator

from clinicore.core.models import QuestionType
from clinicore.core.telehealth.answers import (
    ExamQuestionnaire,
    QuestionAnswers,
    SubmissionResult,
    SubmittedAnswer,
)
from clinicore.core.telehealth.attachments import AttachmentUpload
from clinicore.core.telehealth.catalog import QuestionWithOptions
from clinicore.surfaces.qualiphy.parsing import AnswerText as BoundedAnswerText
from clinicore.surfaces.qualiphy.parsing import Body, IntId, Text, as_int


def _blank_or_int(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return as_int(value)


def _answer_list(value: Any) -> Any:
    """``answers`` as an array of objects; a single object, or the array as a JSON string (form posts)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("must be an array of answer objects") from None
    if isinstance(value, dict):
        return [value]
    return value


def _answer_value(value: Any) -> Any:
    """A number or a boolean sent as an answer is taken as its text."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return str(value)
    return value


OptionalIntId = Annotated[int | None, BeforeValidator(_blank_or_int)]
AnswerText = Annotated[BoundedAnswerText, BeforeValidator(_answer_value)]


# --- requests ---------------------------------------------------------------------------------------


class ExamQuestionsRequest(Body):
    exam_id: OptionalIntId = None
    # Real clients also ask by patient exam (and meeting): the answers already given come back too.
    patient_exam_id: OptionalIntId = None
    meeting_uuid: Text = None


class AnswerItem(Body):
    question_id: OptionalIntId = None
    no: OptionalIntId = None  # the doc's recipe matches on the question's number too
    exam_question_response_id: OptionalIntId = None
    answer: AnswerText = None
    response: AnswerText = None  # the name real clients read back from exam_questions
    answer_text: AnswerText = None

    def to_core(self) -> SubmittedAnswer:
        return SubmittedAnswer(
            question_id=self.question_id,
            no=self.no,
            response_id=self.exam_question_response_id,
            answer=self.answer if self.answer is not None else self.response,
            answer_text=self.answer_text,
        )


class SubmitAnswersRequest(Body):
    meeting_uuid: Text = None  # missing: "Invalid meeting id" (the core's words)
    patient_exam_id: IntId
    answers: Annotated[list[AnswerItem], BeforeValidator(_answer_list)]


class AttachmentRequest(Body):
    """The form fields of an upload (the file itself is the ``file`` part)."""

    patient_exam_id: IntId
    label: Text = None
    attachment_name: Text = None  # accepted in place of ``label``


# --- responses --------------------------------------------------------------------------------------


class QuestionOption(BaseModel):
    exam_question_response_id: int
    response: str
    input_field: int  # 1: the option has a free-text box (send its text as answer_text)


class Question(BaseModel):
    id: int
    question_id: int
    no: int
    question: str
    type: str  # single | multiple | text
    required: bool
    responses: list[QuestionOption]


class GivenAnswer(BaseModel):
    question_id: int
    no: int
    exam_question_response_id: int | None
    response: str
    answer_text: str | None


class ExamQuestions(BaseModel):
    http_code: int = 200
    exam_id: int
    exam_title: str
    questions: list[Question]


class PatientExamQuestions(ExamQuestions):
    meeting_uuid: str
    patient_exam_id: int
    questionnaire_completed: bool
    answers: list[GivenAnswer]


class AnswersSaved(BaseModel):
    http_code: int = 200
    message: str = "Answers saved"
    meeting_uuid: str
    patient_exam_id: int
    answered: int
    remaining: int
    remaining_questions: list[int]  # numbers (``no``) of the questions still without an answer
    questionnaire_completed: bool


class AttachmentUploaded(BaseModel):
    http_code: int = 200
    message: str = "Attachment uploaded"
    attachment_id: str
    patient_exam_id: int
    label: str
    content_type: str
    size: int
    required_attachments: list[str]
    missing_attachments: list[str]


# --- mapping ----------------------------------------------------------------------------------------


def question(entry: QuestionWithOptions) -> Question:
    row = entry.question
    return Question(
        id=row.id,
        question_id=row.id,
        no=row.no,
        question=row.text,
        type=QuestionType(row.type).value,
        required=row.is_required,
        responses=[
            QuestionOption(
                exam_question_response_id=option.id,
                response=option.text,
                input_field=int(option.has_free_text),
            )
            for option in entry.options
        ],
    )


def given_answers(answered: Sequence[QuestionAnswers]) -> list[GivenAnswer]:
    return [
        GivenAnswer(
            question_id=item.question.id,
            no=item.question.no,
            exam_question_response_id=row.response_id,
            response=row.answer,
            answer_text=row.answer_text,
        )
        for item in answered
        for row in item.answers
    ]


def exam_questions(result: ExamQuestionnaire) -> ExamQuestions | PatientExamQuestions:
    questions = [question(entry) for entry in result.questions]
    if result.patient_exam is None:
        return ExamQuestions(exam_id=result.exam.id, exam_title=result.exam.title, questions=questions)
    return PatientExamQuestions(
        exam_id=result.exam.id,
        exam_title=result.exam.title,
        questions=questions,
        meeting_uuid=str(result.patient_exam.meeting_id),
        patient_exam_id=result.patient_exam.id,
        questionnaire_completed=result.patient_exam.questionnaire_completed_at is not None,
        answers=given_answers(result.answers),
    )


def answers_saved(result: SubmissionResult) -> AnswersSaved:
    return AnswersSaved(
        meeting_uuid=str(result.meeting_id),
        patient_exam_id=result.patient_exam.id,
        answered=result.answered,
        remaining=len(result.remaining),
        remaining_questions=[entry.question.no for entry in result.remaining],
        questionnaire_completed=result.questionnaire_completed,
    )


def attachment_uploaded(result: AttachmentUpload) -> AttachmentUploaded:
    return AttachmentUploaded(
        attachment_id=str(result.attachment.id),
        patient_exam_id=result.patient_exam.id,
        label=result.attachment.label,
        content_type=result.file.content_type,
        size=result.file.size_bytes,
        required_attachments=list(result.required),
        missing_attachments=list(result.missing),
    )
