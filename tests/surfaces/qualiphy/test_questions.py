"""POST /qualiphy/api/exam_questions: an exam's screening questions with their answer options (by
``exam_id``), or a patient exam's with the answers it already has (by ``patient_exam_id``)."""

from __future__ import annotations

from tests.surfaces.qualiphy.conftest import QualiphyClinic
from tests.surfaces.qualiphy.test_submit_answers import cancel, error_of, invite, screening, submit


async def test_the_questions_of_an_exam_with_their_options(qp: QualiphyClinic) -> None:
    s = await screening(qp)
    response = await qp.post("exam_questions", exam_id=qp.catalog.botox.id)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "http_code": 200,
        "exam_id": qp.catalog.botox.id,
        "exam_title": "GFE - Botox",
        "questions": [
            {
                "id": s.pregnant,
                "question_id": s.pregnant,
                "no": 1,
                "question": "Are you currently pregnant or breastfeeding?",
                "type": "single",
                "required": True,
                "responses": [
                    {"exam_question_response_id": s.yes, "response": "Yes", "input_field": 0},
                    {"exam_question_response_id": s.no, "response": "No", "input_field": 0},
                ],
            },
            {
                "id": s.conditions,
                "question_id": s.conditions,
                "no": 2,
                "question": "Which of these conditions do you have?",
                "type": "multiple",
                "required": True,
                "responses": [
                    {"exam_question_response_id": s.diabetes, "response": "Diabetes", "input_field": 0},
                    {
                        "exam_question_response_id": s.hypertension,
                        "response": "Hypertension",
                        "input_field": 0,
                    },
                    {"exam_question_response_id": s.other, "response": "Other", "input_field": 1},
                ],
            },
            {
                "id": s.medications,
                "question_id": s.medications,
                "no": 3,
                "question": "List any medications you take.",
                "type": "text",
                "required": True,
                "responses": [],
            },
        ],
    }


async def test_the_exam_id_may_be_a_numeric_string_and_the_path_end_in_a_slash(qp: QualiphyClinic) -> None:
    response = await qp.client.post(
        "/exam_questions/", json={"api_key": qp.api_key, "exam_id": str(qp.catalog.filler.id)}
    )
    assert response.status_code == 200, response.text
    assert [question["no"] for question in response.json()["questions"]] == [1]


async def test_an_exam_the_clinic_does_not_have_is_not_enabled(
    qp: QualiphyClinic, other_qp: QualiphyClinic
) -> None:
    theirs = other_qp.catalog.botox.id
    response = await qp.post("exam_questions", exam_id=theirs)
    assert response.status_code == 401
    assert response.json() == {
        "http_code": 401,
        "error_message": f"Exam {theirs} is not enabled for this clinic",
    }
    unknown = await qp.post("exam_questions", exam_id=999_999_999)
    assert unknown.json() == {
        "http_code": 401,
        "error_message": "Exam 999999999 is not enabled for this clinic",
    }


async def test_an_exam_id_is_required(qp: QualiphyClinic) -> None:
    assert error_of(await qp.post("exam_questions")) == "exam_id is required"
    assert error_of(await qp.post("exam_questions", exam_id="botox")) == "exam_id: must be a number"


async def test_a_patient_exam_gets_its_questions_with_the_answers_already_given(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    s = await screening(qp)
    await submit(
        qp,
        invited,
        [
            {"question_id": s.conditions, "exam_question_response_id": s.diabetes},
            {"question_id": s.conditions, "exam_question_response_id": s.other, "answer_text": "Asthma"},
        ],
    )
    response = await qp.post(
        "exam_questions", meeting_uuid=invited.meeting_uuid, patient_exam_id=invited.patient_exam_id
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["exam_id"] == qp.catalog.botox.id
    assert [question["id"] for question in body["questions"]] == [s.pregnant, s.conditions, s.medications]
    assert body["meeting_uuid"] == invited.meeting_uuid
    assert body["patient_exam_id"] == invited.patient_exam_id
    assert body["questionnaire_completed"] is False
    assert body["answers"] == [
        {
            "question_id": s.conditions,
            "no": 2,
            "exam_question_response_id": s.diabetes,
            "response": "Diabetes",
            "answer_text": None,
        },
        {
            "question_id": s.conditions,
            "no": 2,
            "exam_question_response_id": s.other,
            "response": "Other",
            "answer_text": "Asthma",
        },
    ]


async def test_a_patient_exam_is_looked_up_in_the_clinic_and_its_meeting(
    qp: QualiphyClinic, other_qp: QualiphyClinic
) -> None:
    mine, another = await invite(qp), await invite(qp)
    response = await qp.post(
        "exam_questions", meeting_uuid=another.meeting_uuid, patient_exam_id=mine.patient_exam_id
    )
    assert error_of(response) == (
        f"patient_exam_id: patient exam {mine.patient_exam_id} is not part of meeting {another.meeting_uuid}"
    )
    theirs = await invite(other_qp)
    response = await qp.post("exam_questions", patient_exam_id=theirs.patient_exam_id)
    assert error_of(response) == "patient_exam_id: no such patient exam"
    response = await qp.post("exam_questions", meeting_uuid="nope", patient_exam_id=mine.patient_exam_id)
    assert error_of(response) == "Invalid meeting id"


async def test_a_cancelled_patient_exam_still_shows_its_questions(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    await cancel(qp, invited.patient_exam_id)
    response = await qp.post("exam_questions", patient_exam_id=invited.patient_exam_id)
    assert response.status_code == 200
    assert response.json()["answers"] == []
