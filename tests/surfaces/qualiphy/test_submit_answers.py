"""POST /qualiphy/api/exam_submit_answers: answers validated against the exam's questions, stored
(replacing earlier answers of the same questions), and the questionnaire completed or narrowed down."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from clinicore.core.models import (
    Exam,
    ExamAnswer,
    ExamQuestion,
    ExamQuestionResponse,
    PatientExam,
    PatientExamStatus,
    QuestionType,
    RxType,
)
from clinicore.core.telehealth import answers as answers_service
from clinicore.core.telehealth import catalog
from clinicore.core.telehealth.catalog import ExamSpec, QuestionSpec
from tests.surfaces.qualiphy.conftest import QualiphyClinic

# --- arranging meetings -------------------------------------------------------------------------------


@dataclass
class Invited:
    meeting_uuid: str
    patient_exam_ids: list[int]

    @property
    def patient_exam_id(self) -> int:
        return self.patient_exam_ids[0]


async def invite(qp: QualiphyClinic, *exams: Exam) -> Invited:
    """``qp``'s clinic invites a fictional patient (live, NY) to the exams (the botox exam by default)."""
    response = await qp.post(
        "exam_invite",
        exams=[exam.id for exam in exams or (qp.catalog.botox,)],
        first_name="Pat",
        last_name="Example",
        email=f"pat-{secrets.token_hex(4)}@patients.example.com",
        dob="1990-06-30",
        phone_number="+15552223232",
        tele_state="NY",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Invited(
        meeting_uuid=body["meeting_uuid"],
        patient_exam_ids=[item["patient_exam_id"] for item in body["patient_exams"]],
    )


async def cancel(qp: QualiphyClinic, patient_exam_id: int) -> None:
    response = await qp.post("exam_invite_cancel", patient_exam_id=patient_exam_id)
    assert response.status_code == 200, response.text


async def set_status(qp: QualiphyClinic, patient_exam_id: int, status: PatientExamStatus) -> None:
    """Move a patient exam as the provider desk would (the lifecycle is exercised in its own tests)."""
    async with qp.runtime.sessions() as session, session.begin():
        await session.execute(
            update(PatientExam).where(PatientExam.id == patient_exam_id).values(status=status)
        )


@dataclass
class Screening:
    """The ids of the screening of tests/factories/catalog.py (the botox exam has all of it): q1 single
    Yes/No, q2 multi with a free-text "Other", q3 free text."""

    pregnant: int
    yes: int
    no: int
    conditions: int
    diabetes: int
    hypertension: int
    other: int
    medications: int


async def screening(qp: QualiphyClinic, exam: Exam | None = None) -> Screening:
    async with qp.runtime.sessions() as session:
        questions = (
            await session.scalars(
                select(ExamQuestion)
                .where(ExamQuestion.exam_id == (exam or qp.catalog.botox).id)
                .order_by(ExamQuestion.no)
            )
        ).all()
        options = (
            await session.scalars(
                select(ExamQuestionResponse)
                .where(ExamQuestionResponse.question_id.in_([q.id for q in questions]))
                .order_by(ExamQuestionResponse.question_id, ExamQuestionResponse.position)
            )
        ).all()
    # Exams with a shorter screening (its first questions) get 0 for what they lack.
    question_ids = [question.id for question in questions] + [0, 0, 0]
    yes, no, diabetes, hypertension, other = ([option.id for option in options] + [0] * 5)[:5]
    return Screening(
        question_ids[0], yes, no, question_ids[1], diabetes, hypertension, other, question_ids[2]
    )


async def stored_answers(
    qp: QualiphyClinic, patient_exam_id: int
) -> list[tuple[int, int | None, str, str | None, str]]:
    async with qp.runtime.sessions() as session:
        rows = (
            await session.scalars(
                select(ExamAnswer)
                .where(ExamAnswer.patient_exam_id == patient_exam_id)
                .order_by(ExamAnswer.question_id, ExamAnswer.response_id)
            )
        ).all()
    return [(row.question_id, row.response_id, row.answer, row.answer_text, row.source) for row in rows]


async def patient_exam(qp: QualiphyClinic, patient_exam_id: int) -> PatientExam:
    async with qp.runtime.sessions() as session:
        row = await session.get(PatientExam, patient_exam_id)
    assert row is not None
    return row


async def submit(qp: QualiphyClinic, invited: Invited, answers: Any, **extra: Any) -> Any:
    return await qp.post(
        "exam_submit_answers",
        meeting_uuid=invited.meeting_uuid,
        patient_exam_id=invited.patient_exam_id,
        answers=answers,
        **extra,
    )


def error_of(response: Any) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["http_code"] == 400
    return str(body["error_message"])


# --- the meeting and the patient exam -------------------------------------------------------------------


async def test_without_meeting_uuid_the_answer_is_invalid_meeting_id(qp: QualiphyClinic) -> None:
    response = await qp.post("exam_submit_answers", patient_exam_id=1, answers=[])
    assert response.status_code == 400
    assert response.json() == {"http_code": 400, "error_message": "Invalid meeting id"}
    # Even with nothing else in the body.
    assert error_of(await qp.post("exam_submit_answers")) == "Invalid meeting id"


async def test_a_malformed_or_unknown_meeting_uuid_is_an_invalid_meeting_id(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    for meeting_uuid in ("not-a-uuid", str(uuid.uuid4()), "  "):
        response = await qp.post(
            "exam_submit_answers",
            meeting_uuid=meeting_uuid,
            patient_exam_id=invited.patient_exam_id,
            answers=[{"question_id": s.pregnant, "exam_question_response_id": s.no}],
        )
        assert error_of(response) == "Invalid meeting id"


async def test_another_clinics_meeting_is_an_invalid_meeting_id(
    qp: QualiphyClinic, other_qp: QualiphyClinic
) -> None:
    theirs = await invite(other_qp)
    s = await screening(other_qp)
    response = await qp.post(
        "exam_submit_answers",
        meeting_uuid=theirs.meeting_uuid,
        patient_exam_id=theirs.patient_exam_id,
        answers=[{"question_id": s.pregnant, "exam_question_response_id": s.no}],
    )
    assert error_of(response) == "Invalid meeting id"
    assert await stored_answers(other_qp, theirs.patient_exam_id) == []


async def test_the_patient_exam_must_belong_to_the_meeting(
    qp: QualiphyClinic, other_qp: QualiphyClinic
) -> None:
    first, second = await invite(qp), await invite(qp)
    s = await screening(qp)
    answers = [{"question_id": s.pregnant, "exam_question_response_id": s.no}]
    response = await qp.post(
        "exam_submit_answers",
        meeting_uuid=first.meeting_uuid,
        patient_exam_id=second.patient_exam_id,
        answers=answers,
    )
    assert error_of(response) == (
        f"patient_exam_id: patient exam {second.patient_exam_id} is not part of meeting {first.meeting_uuid}"
    )
    theirs = await invite(other_qp)
    response = await qp.post(
        "exam_submit_answers",
        meeting_uuid=first.meeting_uuid,
        patient_exam_id=theirs.patient_exam_id,
        answers=answers,
    )
    assert error_of(response) == "patient_exam_id: no such patient exam"
    missing = await qp.post("exam_submit_answers", meeting_uuid=first.meeting_uuid, answers=answers)
    assert error_of(missing) == "patient_exam_id is required"


async def test_answers_are_refused_for_a_cancelled_exam(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    await cancel(qp, invited.patient_exam_id)
    response = await submit(qp, invited, [{"question_id": s.pregnant, "exam_question_response_id": s.no}])
    assert error_of(response) == (
        f"patient_exam_id: patient exam {invited.patient_exam_id} is cancelled; "
        "its answers can no longer change"
    )


async def test_answers_are_refused_once_a_provider_has_taken_the_exam(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    await set_status(qp, invited.patient_exam_id, PatientExamStatus.in_consultation)
    response = await submit(qp, invited, [{"question_id": s.pregnant, "exam_question_response_id": s.no}])
    assert error_of(response) == (
        f"patient_exam_id: a provider has already taken patient exam {invited.patient_exam_id} "
        "(status in_consultation); its answers can no longer change"
    )
    assert await stored_answers(qp, invited.patient_exam_id) == []


# --- validation against the exam's questions ------------------------------------------------------------


async def test_answers_must_be_a_non_empty_list(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    missing = await qp.post(
        "exam_submit_answers", meeting_uuid=invited.meeting_uuid, patient_exam_id=invited.patient_exam_id
    )
    assert error_of(missing) == "answers is required"
    assert error_of(await submit(qp, invited, [])) == "answers: must list at least one answer"
    assert error_of(await submit(qp, invited, "yes please")) == "answers: must be an array of answer objects"


async def test_each_answer_names_its_question(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(qp, invited, [{"exam_question_response_id": s.no}])
    assert error_of(response) == "answers[0].question_id is required"


async def test_an_unknown_question_is_refused(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    filler_question = (await screening(qp, qp.catalog.glp1)).pregnant  # a question of another exam
    response = await submit(
        qp,
        invited,
        [
            {"question_id": s.pregnant, "exam_question_response_id": s.no},
            {"question_id": filler_question, "exam_question_response_id": s.no},
        ],
    )
    assert error_of(response) == (
        f"answers[1].question_id: {filler_question} is not a question of this exam "
        f"(question ids: {s.pregnant}, {s.conditions}, {s.medications})"
    )
    assert await stored_answers(qp, invited.patient_exam_id) == []


async def test_a_response_id_of_another_question_is_refused(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(
        qp, invited, [{"question_id": s.pregnant, "exam_question_response_id": s.diabetes}]
    )
    assert error_of(response) == (
        f"answers[0].exam_question_response_id: {s.diabetes} is not an option of question {s.pregnant} "
        f"(options: {s.yes}, {s.no})"
    )


async def test_a_select_question_needs_a_response_id(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(qp, invited, [{"question_id": s.conditions, "answer": "Asthma"}])
    assert error_of(response) == (
        f"answers[0].exam_question_response_id is required: question {s.conditions} is multi-select"
    )


async def test_two_responses_to_a_single_select_question_are_refused(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(
        qp,
        invited,
        [
            {"question_id": s.pregnant, "exam_question_response_id": s.yes},
            {"question_id": s.pregnant, "exam_question_response_id": s.no},
        ],
    )
    assert error_of(response) == (
        f"answers[1]: question {s.pregnant} is single-select and takes one answer; it was given 2"
    )


async def test_free_text_on_an_option_without_a_box_is_refused(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(
        qp,
        invited,
        [{"question_id": s.conditions, "exam_question_response_id": s.diabetes, "answer_text": "type 2"}],
    )
    assert error_of(response) == (
        f"answers[0].answer_text: option {s.diabetes} ('Diabetes') of question {s.conditions} "
        "has no free-text box"
    )


async def test_an_option_with_a_box_needs_its_free_text(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(
        qp,
        invited,
        [{"question_id": s.conditions, "exam_question_response_id": s.other, "answer_text": "  "}],
    )
    assert error_of(response) == (
        f"answers[0].answer_text: option {s.other} ('Other') of question {s.conditions} has a free-text box; "
        "answer_text must not be empty"
    )


async def test_an_empty_free_text_answer_is_refused(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(qp, invited, [{"question_id": s.medications, "answer": "   "}])
    assert error_of(response) == (
        f"answers[0].answer: question {s.medications} is a free-text question; the answer must not be empty"
    )


async def test_a_free_text_question_has_no_options(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(
        qp, invited, [{"question_id": s.medications, "exam_question_response_id": s.yes, "answer": "None"}]
    )
    assert error_of(response) == (
        f"answers[0].exam_question_response_id: question {s.medications} is a free-text question "
        "and has no options"
    )


async def test_a_non_numeric_id_is_refused_with_its_place(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    response = await submit(qp, invited, [{"question_id": "first", "answer": "x"}])
    assert error_of(response) == "answers.0.question_id: must be a number"


# --- storing ---------------------------------------------------------------------------------------------


async def test_a_single_select_answer_is_stored_with_its_option_text(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(qp, invited, [{"question_id": s.pregnant, "exam_question_response_id": s.no}])
    assert response.status_code == 200, response.text
    assert await stored_answers(qp, invited.patient_exam_id) == [(s.pregnant, s.no, "No", None, "api")]


async def test_a_multi_select_answer_repeats_the_question_once_per_selection(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(
        qp,
        invited,
        [
            {"question_id": s.conditions, "exam_question_response_id": s.diabetes},
            {"question_id": s.conditions, "exam_question_response_id": s.other, "answer_text": "Asthma"},
            {"question_id": s.conditions, "exam_question_response_id": s.diabetes},  # repeated: kept once
        ],
    )
    assert response.status_code == 200, response.text
    assert await stored_answers(qp, invited.patient_exam_id) == [
        (s.conditions, s.diabetes, "Diabetes", None, "api"),
        (s.conditions, s.other, "Other", "Asthma", "api"),
    ]


async def test_a_free_text_answer_is_stored_as_written(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(qp, invited, [{"question_id": s.medications, "answer": " Metformin 500 mg "}])
    assert response.status_code == 200, response.text
    assert await stored_answers(qp, invited.patient_exam_id) == [
        (s.medications, None, "Metformin 500 mg", None, "api")
    ]


async def test_ids_may_be_numeric_strings(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await qp.post(
        "exam_submit_answers",
        meeting_uuid=invited.meeting_uuid,
        patient_exam_id=str(invited.patient_exam_id),
        answers=[
            {"question_id": str(s.pregnant), "exam_question_response_id": str(s.yes), "answer_text": ""}
        ],
    )
    assert response.status_code == 200, response.text
    assert await stored_answers(qp, invited.patient_exam_id) == [(s.pregnant, s.yes, "Yes", None, "api")]


async def test_a_question_may_be_matched_by_number_and_option_text(qp: QualiphyClinic) -> None:
    # Qualiphy's "Pre-fill Patient Answers" recipe matches on the question's no and text.
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(qp, invited, [{"no": 1, "answer": "yes"}, {"no": 3, "answer": "None"}])
    assert response.status_code == 200, response.text
    assert await stored_answers(qp, invited.patient_exam_id) == [
        (s.pregnant, s.yes, "Yes", None, "api"),
        (s.medications, None, "None", None, "api"),
    ]


async def test_every_question_answered_completes_the_questionnaire(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(
        qp,
        invited,
        [
            {"question_id": s.pregnant, "exam_question_response_id": s.no},
            {"question_id": s.conditions, "exam_question_response_id": s.hypertension},
            {"question_id": s.medications, "answer": "None"},
        ],
    )
    assert response.status_code == 200
    assert response.json() == {
        "http_code": 200,
        "message": "Answers saved",
        "meeting_uuid": invited.meeting_uuid,
        "patient_exam_id": invited.patient_exam_id,
        "answered": 3,
        "remaining": 0,
        "remaining_questions": [],
        "questionnaire_completed": True,
    }
    row = await patient_exam(qp, invited.patient_exam_id)
    assert row.questionnaire_completed_at is not None
    assert row.questionnaire_completed_at.replace(tzinfo=None) == qp.clock.now().replace(tzinfo=None)


async def test_some_questions_answered_leave_the_patient_only_the_rest(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    response = await submit(
        qp, invited, [{"question_id": s.conditions, "exam_question_response_id": s.diabetes}]
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["answered"], body["remaining"], body["remaining_questions"]) == (1, 2, [1, 3])
    assert body["questionnaire_completed"] is False
    assert (await patient_exam(qp, invited.patient_exam_id)).questionnaire_completed_at is None
    async with qp.runtime.sessions() as session:
        remaining = await answers_service.remaining_questions(
            session, patient_exam_id=invited.patient_exam_id
        )
        answered = await answers_service.answers_for(session, patient_exam_id=invited.patient_exam_id)
    assert [entry.question.id for entry in remaining] == [s.pregnant, s.medications]
    assert [(item.question.no, item.text) for item in answered] == [(2, "Diabetes")]

    # Answering the rest later completes it.
    response = await submit(
        qp,
        invited,
        [
            {"question_id": s.pregnant, "exam_question_response_id": s.no},
            {"question_id": s.medications, "answer": "-"},
        ],
    )
    assert response.json()["questionnaire_completed"] is True


async def test_a_resubmission_replaces_only_the_questions_it_names(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    await submit(
        qp,
        invited,
        [
            {"question_id": s.pregnant, "exam_question_response_id": s.yes},
            {"question_id": s.conditions, "exam_question_response_id": s.diabetes},
            {"question_id": s.conditions, "exam_question_response_id": s.hypertension},
        ],
    )
    response = await submit(
        qp,
        invited,
        [
            {"question_id": s.conditions, "exam_question_response_id": s.other, "answer_text": "Asthma"},
            {"question_id": s.medications, "answer": "Ibuprofen"},
        ],
    )
    assert response.status_code == 200
    assert await stored_answers(qp, invited.patient_exam_id) == [
        (s.pregnant, s.yes, "Yes", None, "api"),
        (s.conditions, s.other, "Other", "Asthma", "api"),
        (s.medications, None, "Ibuprofen", None, "api"),
    ]
    async with qp.runtime.sessions() as session:
        answered = await answers_service.answers_for(session, patient_exam_id=invited.patient_exam_id)
    assert [(item.question.no, item.text) for item in answered] == [
        (1, "Yes"),
        (2, "Other: Asthma"),
        (3, "Ibuprofen"),
    ]


async def test_an_invalid_item_stores_nothing_of_the_submission(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    await submit(qp, invited, [{"question_id": s.pregnant, "exam_question_response_id": s.yes}])
    response = await submit(
        qp,
        invited,
        [
            {"question_id": s.pregnant, "exam_question_response_id": s.no},
            {"question_id": s.medications, "answer": ""},
        ],
    )
    assert response.status_code == 400
    assert await stored_answers(qp, invited.patient_exam_id) == [(s.pregnant, s.yes, "Yes", None, "api")]


async def test_each_patient_exam_of_a_meeting_keeps_its_own_answers(qp: QualiphyClinic) -> None:
    invited = await invite(qp, qp.catalog.botox, qp.catalog.filler)
    botox, filler = await screening(qp), await screening(qp, qp.catalog.filler)
    response = await qp.post(
        "exam_submit_answers",
        meeting_uuid=invited.meeting_uuid,
        patient_exam_id=invited.patient_exam_ids[1],
        answers=[{"question_id": filler.pregnant, "exam_question_response_id": filler.no}],
    )
    assert response.json()["questionnaire_completed"] is True  # the filler exam has one question
    assert await stored_answers(qp, invited.patient_exam_ids[0]) == []
    wrong_exam = await qp.post(
        "exam_submit_answers",
        meeting_uuid=invited.meeting_uuid,
        patient_exam_id=invited.patient_exam_ids[1],
        answers=[{"question_id": botox.pregnant, "exam_question_response_id": botox.no}],
    )
    assert error_of(wrong_exam).startswith(
        f"answers[0].question_id: {botox.pregnant} is not a question of this exam"
    )


async def test_a_wrong_api_key_is_a_401(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    response = await qp.client.post(
        "/exam_submit_answers/",
        json={"api_key": "0" * 40, "meeting_uuid": invited.meeting_uuid, "patient_exam_id": 1, "answers": []},
    )
    assert response.status_code == 401
    assert response.json() == {"http_code": 401, "error_message": "Invalid api_key"}


async def test_an_unanswered_optional_question_does_not_hold_the_questionnaire_back(
    qp: QualiphyClinic,
) -> None:
    async with qp.runtime.sessions() as session, session.begin():
        exam = await catalog.create_exam(
            session,
            clinic_id=qp.arranged.clinic.id,
            spec=ExamSpec(
                "GFE - Lip Filler",
                RxType.gfe,
                questions=(
                    QuestionSpec("Any allergies?", QuestionType.text),
                    QuestionSpec("Anything else we should know?", QuestionType.text, is_required=False),
                ),
            ),
            clock=qp.clock,
        )
    invited = await invite(qp, exam)
    questions = (await qp.post("exam_questions", exam_id=exam.id)).json()["questions"]
    assert [question["required"] for question in questions] == [True, False]
    response = await submit(qp, invited, [{"question_id": questions[0]["id"], "answer": "None"}])
    body = response.json()
    assert (body["questionnaire_completed"], body["remaining_questions"]) == (True, [2])


async def test_the_pre_fill_recipe_end_to_end(qp: QualiphyClinic) -> None:
    # Qualiphy's "Pre-fill Patient Answers": read the schema, invite, submit every answer, and the
    # patient goes straight to the provider.
    schema = (await qp.post("exam_questions", exam_id=qp.catalog.botox.id)).json()["questions"]
    invited = await invite(qp)
    by_no = {question["no"]: question for question in schema}
    no_option = next(option for option in by_no[1]["responses"] if option["response"] == "No")
    other = next(option for option in by_no[2]["responses"] if option["input_field"] == 1)
    response = await submit(
        qp,
        invited,
        [
            {
                "question_id": by_no[1]["question_id"],
                "exam_question_response_id": no_option["exam_question_response_id"],
            },
            {
                "question_id": by_no[2]["question_id"],
                "exam_question_response_id": other["exam_question_response_id"],
                "answer_text": "Migraine",
            },
            {"question_id": by_no[3]["question_id"], "answer": "Sumatriptan"},
        ],
    )
    assert response.json()["questionnaire_completed"] is True
    seen = await qp.post(
        "exam_questions", meeting_uuid=invited.meeting_uuid, patient_exam_id=invited.patient_exam_id
    )
    assert seen.json()["questionnaire_completed"] is True
    assert [
        (answer["no"], answer["response"], answer["answer_text"]) for answer in seen.json()["answers"]
    ] == [
        (1, "No", None),
        (2, "Other", "Migraine"),
        (3, "Sumatriptan", None),
    ]
