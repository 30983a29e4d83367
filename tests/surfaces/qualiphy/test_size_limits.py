"""Item 6 of issue 15: free-text answers and ``additional_data`` are bounded at the wire, answered with
Qualiphy's 400 (``{"http_code": 400, "error_message": ...}``) naming the field; at the limit they are kept."""

from __future__ import annotations

from clinicore.surfaces.qualiphy.parsing import MOST_ADDITIONAL_DATA_BYTES, MOST_ANSWER_CHARACTERS
from tests.surfaces.qualiphy.conftest import QualiphyClinic
from tests.surfaces.qualiphy.test_exam_invite import invite_body
from tests.surfaces.qualiphy.test_submit_answers import error_of, invite, screening, stored_answers, submit


class TestAdditionalData:
    async def test_additional_data_over_64_kb_is_a_400_naming_it(self, qp: QualiphyClinic) -> None:
        body = invite_body(qp.catalog.botox.id, additional_data="x" * (MOST_ADDITIONAL_DATA_BYTES + 1))
        response = await qp.post("exam_invite", **body)
        assert error_of(response) == "additional_data: must be at most 64 KB"

    async def test_an_object_is_measured_as_its_json(self, qp: QualiphyClinic) -> None:
        big = {"notes": ["é" * 1000] * 40}  # 40,000 characters, over 64 KB as UTF-8 JSON
        response = await qp.post("exam_invite", **invite_body(qp.catalog.botox.id, additional_data=big))
        assert error_of(response) == "additional_data: must be at most 64 KB"

    async def test_additional_data_at_the_limit_is_echoed_back(self, qp: QualiphyClinic) -> None:
        at_limit = "x" * (MOST_ADDITIONAL_DATA_BYTES - 2)  # plus the JSON string's two quotes
        response = await qp.post("exam_invite", **invite_body(qp.catalog.botox.id, additional_data=at_limit))
        assert response.status_code == 200, response.text[:200]


class TestAnswers:
    async def test_a_free_text_answer_over_10000_characters_is_a_400_naming_it(
        self, qp: QualiphyClinic
    ) -> None:
        invited, s = await invite(qp), await screening(qp)
        answers = [{"question_id": s.medications, "answer": "y" * (MOST_ANSWER_CHARACTERS + 1)}]
        response = await submit(qp, invited, answers)
        assert error_of(response) == "answers.0.answer: must be at most 10000 characters"

    async def test_an_answer_text_over_the_limit_is_refused_too(self, qp: QualiphyClinic) -> None:
        invited, s = await invite(qp), await screening(qp)
        long_text = "z" * (MOST_ANSWER_CHARACTERS + 1)
        answers = [
            {"question_id": s.conditions, "exam_question_response_id": s.other, "answer_text": long_text}
        ]
        response = await submit(qp, invited, answers)
        assert error_of(response) == "answers.0.answer_text: must be at most 10000 characters"
        assert await stored_answers(qp, invited.patient_exam_id) == []

    async def test_a_free_text_answer_at_the_limit_is_stored(self, qp: QualiphyClinic) -> None:
        invited, s = await invite(qp), await screening(qp)
        answer = "w" * MOST_ANSWER_CHARACTERS
        response = await submit(qp, invited, [{"question_id": s.medications, "answer": answer}])
        assert response.status_code == 200, response.text[:300]
        assert [row[2] for row in await stored_answers(qp, invited.patient_exam_id)] == [answer]
