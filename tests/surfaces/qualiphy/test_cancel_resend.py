"""``/exam_invite_cancel`` and ``/exam_invite_resend``: cancel only before a provider acts, resend
the link unless the exam is over; another clinic's patient exam answers as a missing one."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import select, update

from clinicore.core.models import Clinic, Event, PatientExam
from tests.surfaces.qualiphy.conftest import NOW, QualiphyClinic
from tests.surfaces.qualiphy.test_exam_invite import (
    invite,
    invite_body,
    read_meeting,
    te_invite_body,
)
from tests.surfaces.qualiphy.test_invite_notifications import emails_to, sms_to


async def set_patient_exam(qp: QualiphyClinic, patient_exam_id: int, **values: Any) -> None:
    async with qp.runtime.sessions() as session, session.begin():
        await session.execute(update(PatientExam).where(PatientExam.id == patient_exam_id).values(**values))


async def read_patient_exam(qp: QualiphyClinic, patient_exam_id: int) -> PatientExam:
    async with qp.runtime.sessions() as session:
        row = await session.get(PatientExam, patient_exam_id)
    assert row is not None
    return row


async def first_patient_exam_id(qp: QualiphyClinic, body: dict[str, Any]) -> int:
    value: int = body["patient_exams"][0]["patient_exam_id"]
    return value


class TestCancel:
    async def test_cancelling_a_pending_exam(self, qp: QualiphyClinic) -> None:
        body = await invite(qp, te_invite_body(qp.catalog.botox.id, qp.catalog.filler.id))
        first, second = (item["patient_exam_id"] for item in body["patient_exams"])

        response = await qp.post("exam_invite_cancel", patient_exam_id=str(first))

        assert response.status_code == 200
        assert response.json() == {
            "http_code": 200,
            "message": "Exam invite cancelled",
            "patient_exam_id": first,
            "meeting_uuid": body["meeting_uuid"],
            "status": "cancelled",
        }
        cancelled = await read_patient_exam(qp, first)
        assert cancelled.status == "cancelled" and cancelled.cancelled_at == NOW
        assert cancelled.next_action_at is None  # the test provider will not take it
        assert cancelled.version == 2 and cancelled.updated_at == NOW
        other = await read_patient_exam(qp, second)
        assert other.status == "pending" and other.next_action_at is not None  # the meeting's other exam
        async with qp.runtime.sessions() as session:
            event = await session.scalar(
                select(Event).where(
                    Event.aggregate_id == body["meeting_uuid"], Event.type == "patient_exam.cancelled"
                )
            )
        assert event is not None and event.payload["patient_exam_id"] == first

    async def test_cancelling_twice_is_a_400_with_the_status(self, qp: QualiphyClinic) -> None:
        patient_exam_id = await first_patient_exam_id(qp, await invite(qp, invite_body(qp.catalog.botox.id)))
        assert (await qp.post("exam_invite_cancel", patient_exam_id=patient_exam_id)).status_code == 200
        response = await qp.post("exam_invite_cancel", patient_exam_id=patient_exam_id)
        assert response.status_code == 400
        assert response.json() == {
            "http_code": 400,
            "error_message": "Exam invite is already cancelled (status: cancelled)",
        }
        assert (await read_patient_exam(qp, patient_exam_id)).version == 2

    @pytest.mark.parametrize("status", ["in_questionnaire", "waiting_for_provider"])
    async def test_cancelling_before_a_provider_acts(self, qp: QualiphyClinic, status: str) -> None:
        patient_exam_id = await first_patient_exam_id(qp, await invite(qp, invite_body(qp.catalog.botox.id)))
        await set_patient_exam(qp, patient_exam_id, status=status)
        assert (await qp.post("exam_invite_cancel", patient_exam_id=patient_exam_id)).status_code == 200
        assert (await read_patient_exam(qp, patient_exam_id)).status == "cancelled"

    @pytest.mark.parametrize(
        ("values", "shown"),
        [
            ({"status": "in_consultation"}, "in_consultation"),
            ({"status": "completed", "outcome": "Approved"}, "Approved"),
            ({"status": "completed", "outcome": "Rejected"}, "Rejected"),
            ({"status": "prescribed", "outcome": "Approved"}, "prescribed"),
            ({"status": "confirmed_by_pharmacy", "outcome": "Approved"}, "confirmed_by_pharmacy"),
            ({"status": "shipped", "outcome": "Approved"}, "shipped"),
        ],
    )
    async def test_cancelling_after_a_provider_acted_is_a_400_saying_why(
        self, qp: QualiphyClinic, values: dict[str, str], shown: str
    ) -> None:
        patient_exam_id = await first_patient_exam_id(qp, await invite(qp, invite_body(qp.catalog.glp1.id)))
        await set_patient_exam(qp, patient_exam_id, **values)
        response = await qp.post("exam_invite_cancel", patient_exam_id=patient_exam_id)
        assert response.status_code == 400
        assert response.json()["error_message"] == (
            f"Exam cannot be cancelled: a provider has already acted on it (status: {shown})"
        )
        assert (await read_patient_exam(qp, patient_exam_id)).status == values["status"]

    async def test_cancelling_a_missed_exam_says_it_is_finished(self, qp: QualiphyClinic) -> None:
        patient_exam_id = await first_patient_exam_id(qp, await invite(qp, invite_body(qp.catalog.botox.id)))
        await set_patient_exam(qp, patient_exam_id, status="completed", outcome="Missed")
        response = await qp.post("exam_invite_cancel", patient_exam_id=patient_exam_id)
        assert (
            response.json()["error_message"]
            == "Exam cannot be cancelled: it is already finished (status: Missed)"
        )

    async def test_another_clinics_patient_exam_answers_as_missing(
        self, qp: QualiphyClinic, other_qp: QualiphyClinic
    ) -> None:
        theirs = await first_patient_exam_id(
            other_qp, await invite(other_qp, invite_body(other_qp.catalog.botox.id))
        )
        for patient_exam_id in (theirs, 99999999):
            response = await qp.post("exam_invite_cancel", patient_exam_id=patient_exam_id)
            assert response.status_code == 400
            assert response.json() == {
                "http_code": 400,
                "error_message": "patient_exam_id: no such patient exam",
            }
        assert (await read_patient_exam(other_qp, theirs)).status == "pending"

    async def test_patient_exam_id_is_required_and_numeric(self, qp: QualiphyClinic) -> None:
        response = await qp.post("exam_invite_cancel")
        assert response.json() == {"http_code": 400, "error_message": "patient_exam_id is required"}
        response = await qp.post("exam_invite_cancel", patient_exam_id="abc")
        assert response.json() == {"http_code": 400, "error_message": "patient_exam_id: must be a number"}
        response = await qp.post("exam_invite_cancel", patient_exam_id=2**40)
        assert response.json() == {
            "http_code": 400,
            "error_message": "patient_exam_id: must be a number from 0 to 2147483647",
        }

    async def test_cancel_needs_the_api_key(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post("/exam_invite_cancel/", json={"patient_exam_id": 1})
        assert response.status_code == 401


class TestResend:
    async def test_resending_sends_the_email_and_sms_again(self, qp: QualiphyClinic) -> None:
        email = f"pat-{secrets.token_hex(4)}@patients.example.com"
        phone = f"+1646{secrets.randbelow(10**7):07d}"
        body = await invite(qp, invite_body(qp.catalog.botox.id, email=email, phone_number=phone))
        patient_exam_id = await first_patient_exam_id(qp, body)
        later = NOW.replace(hour=18)
        qp.clock.set(later)

        response = await qp.post("exam_invite_resend/", patient_exam_id=patient_exam_id)

        assert response.status_code == 200
        assert response.json() == {
            "http_code": 200,
            "message": "Exam invite resent",
            "patient_exam_id": patient_exam_id,
            "meeting_uuid": body["meeting_uuid"],
            "status": "pending",
        }
        emails = await emails_to(qp.runtime, email)
        texts = await sms_to(qp.runtime, phone)
        assert len(emails) == 2 and len(texts) == 2
        # The same meeting's page, in a new link (a resend renews the link's lifetime).
        meeting_page = f"/meet/{body['meeting_uuid']}?expires="
        assert meeting_page in emails[1].body and meeting_page in texts[1].body
        assert body["meeting_url"] not in emails[1].body
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert meeting.invites_sent == 2 and meeting.last_invited_at == later

    async def test_resend_is_explicit_so_auto_invites_off_does_not_stop_it(self, qp: QualiphyClinic) -> None:
        async with qp.runtime.sessions() as session, session.begin():
            await session.execute(
                update(Clinic).where(Clinic.id == qp.arranged.clinic.id).values(auto_invites=False)
            )
        email = f"pat-{secrets.token_hex(4)}@patients.example.com"
        body = await invite(qp, invite_body(qp.catalog.botox.id, email=email))
        assert await emails_to(qp.runtime, email) == []
        response = await qp.post("exam_invite_resend", patient_exam_id=await first_patient_exam_id(qp, body))
        assert response.status_code == 200
        assert len(await emails_to(qp.runtime, email)) == 1

    async def test_a_cancelled_exam_is_not_resent(self, qp: QualiphyClinic) -> None:
        patient_exam_id = await first_patient_exam_id(qp, await invite(qp, invite_body(qp.catalog.botox.id)))
        await qp.post("exam_invite_cancel", patient_exam_id=patient_exam_id)
        response = await qp.post("exam_invite_resend", patient_exam_id=patient_exam_id)
        assert response.status_code == 400
        assert (
            response.json()["error_message"]
            == "Exam invite cannot be resent: it was cancelled (status: cancelled)"
        )

    async def test_a_finished_exam_is_not_resent(self, qp: QualiphyClinic) -> None:
        patient_exam_id = await first_patient_exam_id(qp, await invite(qp, invite_body(qp.catalog.botox.id)))
        await set_patient_exam(qp, patient_exam_id, status="completed", outcome="Approved")
        response = await qp.post("exam_invite_resend", patient_exam_id=patient_exam_id)
        assert response.status_code == 400
        assert response.json()["error_message"] == (
            "Exam invite cannot be resent: the exam is finished (status: Approved)"
        )

    async def test_another_clinics_patient_exam_answers_as_missing(
        self, qp: QualiphyClinic, other_qp: QualiphyClinic
    ) -> None:
        theirs = await first_patient_exam_id(
            other_qp, await invite(other_qp, invite_body(other_qp.catalog.botox.id))
        )
        response = await qp.post("exam_invite_resend", patient_exam_id=theirs)
        assert response.json() == {"http_code": 400, "error_message": "patient_exam_id: no such patient exam"}
        meeting_id = str((await read_patient_exam(other_qp, theirs)).meeting_id)
        assert (await read_meeting(other_qp, meeting_id)).invites_sent == 1  # nothing sent again
