"""``/exam_list``: the clinic's catalog with Qualiphy's numbering quirks, behind the api_key."""

from __future__ import annotations

from sqlalchemy import update

from clinicore.core.models import Clinic, Exam
from tests.surfaces.qualiphy.conftest import QualiphyClinic


class TestExamList:
    async def test_lists_the_clinics_exams_with_qualiphy_numbers(self, qp: QualiphyClinic) -> None:
        response = await qp.post("exam_list")

        assert response.status_code == 200
        body = response.json()
        assert body["http_code"] == 200
        assert body["clinic_id"] == qp.arranged.clinic.number
        assert isinstance(body["clinic_id"], int)
        by_title = {exam["title"]: exam for exam in body["exams"]}
        assert list(by_title) == [
            "GFE - Botox",
            "GFE - Dermal Filler",
            "GLP-1 Weight Loss",
            "Hair Loss Treatment",
            "Urgent Care - UTI",
        ]
        assert by_title["GFE - Botox"] == {
            "id": qp.catalog.botox.id,
            "title": "GFE - Botox",
            "rx_type": 1,
            "price": "27.99",
            "attachments_required": 1,
            "attachments": [],
        }
        assert by_title["GFE - Dermal Filler"]["price"] is None
        assert by_title["GLP-1 Weight Loss"]["rx_type"] == 2
        assert by_title["GLP-1 Weight Loss"]["price"] == "49.00"
        assert by_title["Hair Loss Treatment"]["attachments_required"] == 2
        assert by_title["Hair Loss Treatment"]["attachments"] == ["Picture of hair loss area"]
        assert by_title["Urgent Care - UTI"]["rx_type"] == 2

    async def test_another_clinics_exams_are_not_listed(
        self, qp: QualiphyClinic, other_qp: QualiphyClinic
    ) -> None:
        ids = {exam["id"] for exam in (await qp.post("exam_list")).json()["exams"]}
        assert ids == {exam.id for exam in qp.catalog.all}
        assert ids.isdisjoint(exam.id for exam in other_qp.catalog.all)

    async def test_an_inactive_exam_is_not_listed(self, qp: QualiphyClinic) -> None:
        async with qp.runtime.sessions() as session, session.begin():
            await session.execute(update(Exam).where(Exam.id == qp.catalog.filler.id).values(is_active=False))
        ids = [exam["id"] for exam in (await qp.post("exam_list")).json()["exams"]]
        assert qp.catalog.filler.id not in ids and qp.catalog.botox.id in ids

    async def test_a_trailing_slash_and_a_bearer_header_work(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post(
            "/exam_list/", json={}, headers={"Authorization": f"Bearer {qp.api_key}"}
        )
        assert response.status_code == 200
        assert len(response.json()["exams"]) == 5

    async def test_a_missing_api_key_is_a_401(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post("/exam_list", json={})
        assert response.status_code == 401
        assert response.json() == {"http_code": 401, "error_message": "api_key is required"}

    async def test_a_wrong_api_key_is_a_401(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post("/exam_list", json={"api_key": "0" * 40})
        assert response.status_code == 401
        assert response.json() == {"http_code": 401, "error_message": "Invalid api_key"}

    async def test_an_inactive_clinic_is_a_401(self, qp: QualiphyClinic) -> None:
        async with qp.runtime.sessions() as session, session.begin():
            await session.execute(
                update(Clinic).where(Clinic.id == qp.arranged.clinic.id).values(is_active=False)
            )
        response = await qp.post("exam_list")
        assert response.status_code == 401
        assert response.json() == {"http_code": 401, "error_message": "Clinic is inactive"}
