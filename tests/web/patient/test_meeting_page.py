"""The patient's meeting page through HTTP: each step, and every refusal."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select

from clinicore.core.audit.service import SYSTEM
from clinicore.core.models import ExamAnswer, ExamAttachment, ExamOutcome, Meeting, PatientExamStatus
from clinicore.core.telehealth import invites, lifecycle
from clinicore.core.telehealth.invites import meeting_path
from clinicore.runtime import Runtime
from tests.factories import (
    RETAIL_PHARMACY_ROUTING,
    answer_all,
    attach,
    create_live_provider,
    reload_exam,
)
from tests.web.patient.pages import (
    PNG,
    ArrangedVisit,
    arrange_visit,
    consent,
    directory_pharmacy,
    post,
)


async def stored_meeting(runtime: Runtime, visit: ArrangedVisit) -> Meeting:
    async with runtime.sessions() as session:
        meeting = await session.get(Meeting, visit.meeting.id)
        assert meeting is not None
        return meeting


async def answer_screening(client: httpx.AsyncClient, visit: ArrangedVisit, index: int = 0) -> httpx.Response:
    """Answer the SCREENING questions of tests/factories/catalog.py on the page, as shown."""
    page = await client.get(visit.url)
    patient_exam = visit.patient_exams[index]
    fields: list[tuple[str, str]] = [("patient_exam_id", str(patient_exam.id))]
    for name in sorted(set(re.findall(r'name="(choice_\d+|text_\d+)"', page.text))):
        if name.startswith("text_"):
            fields.append((name, "Metformin 500 mg"))
        else:
            first = re.search(rf'name="{name}" value="(\d+)"', page.text)
            assert first
            fields.append((name, first.group(1)))
    return await post(client, visit, "/answers", fields)


async def decide(
    runtime: Runtime, visit: ArrangedVisit, outcome: ExamOutcome, reason: str | None = None
) -> None:
    provider = await create_live_provider(runtime)
    for patient_exam in visit.patient_exams:
        async with runtime.sessions() as session, session.begin():
            await lifecycle.take_exam(
                session, provider_id=provider.id, patient_exam_id=patient_exam.id, clock=runtime.clock
            )
            await lifecycle.decide(
                session,
                provider_id=provider.id,
                patient_exam_id=patient_exam.id,
                outcome=outcome,
                reason=reason,
                links=runtime.links,
                clock=runtime.clock,
            )


async def to_waiting_room(runtime: Runtime, client: httpx.AsyncClient, visit: ArrangedVisit) -> None:
    for patient_exam in visit.patient_exams:
        await answer_all(runtime, patient_exam)
        await attach(runtime, patient_exam, label="ID", file_name="id.png")
    await consent(client, visit)
    page = await client.get(visit.url)
    assert "Waiting room" in page.text, page.text


class TestTheLink:
    async def test_a_tampered_signature_is_a_404_without_a_trace(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        tampered = visit.url[:-2] + ("00" if not visit.url.endswith("00") else "11")
        response = await client.get(tampered)
        assert response.status_code == 404
        assert "Link not found" in response.text
        assert "Traceback" not in response.text
        assert "Glow Aesthetics" not in response.text  # a bad link tells nothing about the clinic

    async def test_a_missing_signature_and_a_malformed_id_are_404s(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        assert (await client.get(meeting_path(visit.meeting.id))).status_code == 404
        assert (await client.get("/meet/not-a-uuid?signature=abc")).status_code == 404

    async def test_another_meetings_signature_is_a_404(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        first = await arrange_visit(runtime)
        second = await arrange_visit(runtime)
        query = first.url.partition("?")[2]
        response = await client.get(f"{meeting_path(second.meeting.id)}?{query}")
        assert response.status_code == 404

    async def test_an_expired_link_is_a_410_in_the_clinics_brand(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        expired = runtime.links.sign(
            meeting_path(visit.meeting.id), expires_at=runtime.clock.now() - timedelta(minutes=1)
        ).removeprefix(runtime.links.base_url)
        response = await client.get(expired)
        assert response.status_code == 410
        assert "This link has expired" in response.text
        assert "Glow Aesthetics" in response.text

    async def test_a_cancelled_visit_shows_a_branded_410(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        async with runtime.sessions() as session, session.begin():
            await invites.cancel_invite(
                session,
                clinic_id=visit.clinic.id,
                patient_exam_id=visit.patient_exams[0].id,
                by=SYSTEM,
                clock=runtime.clock,
            )
        response = await client.get(visit.url)
        assert response.status_code == 410
        assert "This visit was cancelled" in response.text
        assert "Glow Aesthetics" in response.text
        assert "#7a3e9d" in response.text

    async def test_a_finished_visit_shows_a_branded_410(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        await to_waiting_room(runtime, client, visit)
        await decide(runtime, visit, ExamOutcome.approved)
        response = await client.get(visit.url)
        assert response.status_code == 410
        assert "This visit has ended" in response.text
        assert "Glow Aesthetics" in response.text

    async def test_pages_are_never_cached_nor_leak_the_link(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        response = await client.get(visit.url)
        assert response.headers["cache-control"] == "private, no-store"
        assert response.headers["referrer-policy"] == "no-referrer"


class TestConsent:
    async def test_the_first_page_is_the_consent_in_the_clinics_brand(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        page = await client.get(visit.url)
        assert page.status_code == 200
        assert "Telehealth consent" in page.text
        assert "Glow Aesthetics" in page.text
        assert "--brand: #7a3e9d" in page.text
        assert "GFE - Botox" in page.text

    async def test_accepting_stores_the_time_and_opens_the_questions(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        await consent(client, visit)
        assert (await stored_meeting(runtime, visit)).consented_at is not None
        assert (
            await reload_exam(runtime, visit.patient_exams[0])
        ).status == PatientExamStatus.in_questionnaire
        page = await client.get(visit.url)
        assert "Are you currently pregnant or breastfeeding?" in page.text

    async def test_without_the_box_ticked_nothing_is_stored(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        response = await post(client, visit, "/consent", {})
        assert response.status_code == 400
        assert "tick the box" in response.text
        assert (await stored_meeting(runtime, visit)).consented_at is None

    async def test_a_form_without_the_pages_csrf_token_is_refused(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        response = await client.post(visit.at("/consent"), data={"consent": "yes", "csrf_token": "forged"})
        assert response.status_code == 403
        assert "This form has expired" in response.text
        assert (await stored_meeting(runtime, visit)).consented_at is None

    async def test_a_form_posted_with_a_bad_signature_is_a_404(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        response = await client.post(
            f"{meeting_path(visit.meeting.id)}/consent?signature=0",
            data={"consent": "yes", "csrf_token": "x"},
        )
        assert response.status_code == 404
        assert (await stored_meeting(runtime, visit)).consented_at is None


class TestQuestions:
    async def test_a_required_question_left_blank_is_refused_and_nothing_is_stored(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        await consent(client, visit)
        response = await post(client, visit, "/answers", {"patient_exam_id": str(visit.patient_exams[0].id)})
        assert response.status_code == 400
        assert "please answer question 1, 2, 3" in response.text
        async with runtime.sessions() as session:
            assert (
                await session.scalars(
                    select(ExamAnswer).where(ExamAnswer.patient_exam_id == visit.patient_exams[0].id)
                )
            ).all() == []

    async def test_other_with_its_free_text_is_stored_as_the_patient_typed_it(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        await consent(client, visit)
        page = await client.get(visit.url)
        single = re.search(r'name="(choice_\d+)" value="(\d+)"', page.text)
        multi = re.findall(r'name="(choice_\d+)" value="(\d+)"', page.text)
        text = re.search(r'name="(text_\d+)"', page.text)
        other = re.search(r'name="other_(\d+)"', page.text)
        assert single and text and other
        multiple_question = multi[2][0]  # Yes, No, then the multi-select's options
        response = await post(
            client,
            visit,
            "/answers",
            [
                ("patient_exam_id", str(visit.patient_exams[0].id)),
                (single.group(1), single.group(2)),
                (multiple_question, multi[2][1]),
                (multiple_question, other.group(1)),
                (f"other_{other.group(1)}", "asthma"),
                (text.group(1), "Metformin"),
            ],
        )
        assert response.status_code == 303, response.text
        async with runtime.sessions() as session:
            rows = (
                await session.scalars(
                    select(ExamAnswer).where(ExamAnswer.patient_exam_id == visit.patient_exams[0].id)
                )
            ).all()
        assert {(row.answer, row.answer_text, row.source) for row in rows} == {
            ("Yes", None, "patient"),
            ("Diabetes", None, "patient"),
            ("Other", "asthma", "patient"),
            ("Metformin", None, "patient"),
        }

    async def test_questions_answered_by_the_clinics_system_are_skipped(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        await answer_all(runtime, visit.patient_exams[0])
        async with runtime.sessions() as session, session.begin():
            exam = await session.get(type(visit.patient_exams[0]), visit.patient_exams[0].id)
            assert exam is not None
            exam.questionnaire_completed_at = runtime.clock.now()
        await consent(client, visit)
        page = await client.get(visit.url)
        assert "Your documents" in page.text

    async def test_a_meeting_with_several_exams_walks_each_exams_questions(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime, ("botox", "filler"))
        await consent(client, visit)
        page = await client.get(visit.url)
        assert "Treatment 1 of 2" in page.text and "GFE - Botox" in page.text
        assert (await answer_screening(client, visit, 0)).status_code == 303
        page = await client.get(visit.url)
        assert "Treatment 2 of 2" in page.text and "GFE - Dermal Filler" in page.text
        assert (await answer_screening(client, visit, 1)).status_code == 303
        page = await client.get(visit.url)
        assert "Your documents" in page.text


class TestUploads:
    async def test_the_upload_asks_for_a_camera_on_phones_and_the_accepted_types(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime, ("hair",))
        await answer_all(runtime, visit.patient_exams[0])
        await consent(client, visit)
        page = await client.get(visit.url)
        assert 'accept="image/jpeg,image/png,image/heic,application/pdf"' in page.text
        assert 'capture="environment"' in page.text
        assert "Picture of hair loss area" in page.text

    async def test_a_file_that_is_not_an_image_or_pdf_is_refused(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        await answer_all(runtime, visit.patient_exams[0])
        await consent(client, visit)
        response = await post(
            client,
            visit,
            "/attachments",
            {"label": "ID"},
            files={"file": ("id.png", b"MZ not an image", "image/png")},
        )
        assert response.status_code == 400
        assert "must be a JPEG, PNG, HEIC or PDF file" in response.text

    async def test_a_file_over_the_size_limit_is_refused(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        await answer_all(runtime, visit.patient_exams[0])
        await consent(client, visit)
        too_big = PNG + b"\x00" * (runtime.settings.max_upload_bytes - len(PNG) + 1)
        response = await post(
            client, visit, "/attachments", {"label": "ID"}, files={"file": ("id.png", too_big, "image/png")}
        )
        assert response.status_code == 400
        assert "larger than the 10 MB limit" in response.text
        async with runtime.sessions() as session:
            assert (
                await session.scalars(
                    select(ExamAttachment).where(ExamAttachment.patient_exam_id == visit.patient_exams[0].id)
                )
            ).all() == []

    async def test_one_id_serves_every_exam_and_the_patient_joins_the_waiting_room(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime, ("botox", "filler"))
        for patient_exam in visit.patient_exams:
            await answer_all(runtime, patient_exam)
        await consent(client, visit)
        response = await post(
            client, visit, "/attachments", {"label": "ID"}, files={"file": ("my id.png", PNG, "image/png")}
        )
        assert response.status_code == 303, response.text
        async with runtime.sessions() as session:
            rows = (
                await session.scalars(
                    select(ExamAttachment).where(
                        ExamAttachment.patient_exam_id.in_([item.id for item in visit.patient_exams])
                    )
                )
            ).all()
        assert len(rows) == 2 and len({row.file_id for row in rows}) == 1
        for patient_exam in visit.patient_exams:
            assert (await reload_exam(runtime, patient_exam)).status == PatientExamStatus.waiting_for_provider
        page = await client.get(visit.url)
        assert "Waiting room" in page.text


class TestPharmacy:
    async def test_the_patient_finds_a_pharmacy_by_zip_chooses_confirms_and_waits(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        pharmacy = await directory_pharmacy(runtime)
        visit = await arrange_visit(
            runtime, ("uti",), pharmacy_routing="retail", patient_chooses_pharmacy=True
        )
        await answer_all(runtime, visit.patient_exams[0])
        await attach(runtime, visit.patient_exams[0], label="ID", file_name="id.png")
        await consent(client, visit)
        page = await client.get(visit.url)
        assert "Choose your pharmacy" in page.text
        search = f"{visit.url}&zip_code={pharmacy.zip_code}"
        assert pharmacy.name in (await client.get(search)).text
        response = await post(client, visit, "/pharmacy", {"ncpdpid": pharmacy.ncpdpid}, page=search)
        assert response.status_code == 303, response.text
        meeting = await stored_meeting(runtime, visit)
        assert (meeting.ncpdpid, meeting.pharmacy_name, meeting.pharmacy_zip_code) == (
            pharmacy.ncpdpid,
            pharmacy.name,
            pharmacy.zip_code,
        )
        page = await client.get(visit.url)
        assert "Your pharmacy" in page.text and pharmacy.name in page.text
        assert (await post(client, visit, "/join")).status_code == 303
        assert (
            await reload_exam(runtime, visit.patient_exams[0])
        ).status == PatientExamStatus.waiting_for_provider

    async def test_a_search_by_name_of_one_letter_is_refused_with_the_reason(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(
            runtime, ("uti",), pharmacy_routing="retail", patient_chooses_pharmacy=True
        )
        await answer_all(runtime, visit.patient_exams[0])
        await attach(runtime, visit.patient_exams[0], label="ID", file_name="id.png")
        await consent(client, visit)
        response = await client.get(f"{visit.url}&search=a")
        assert response.status_code == 400
        assert "at least 2 characters" in response.text

    async def test_the_invites_pharmacy_is_confirmed_unless_the_invite_skips_it(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        confirming = await arrange_visit(runtime, ("uti",), **RETAIL_PHARMACY_ROUTING)
        skipping = await arrange_visit(
            runtime, ("uti",), skip_pharmacy_confirmation=True, **RETAIL_PHARMACY_ROUTING
        )
        for visit in (confirming, skipping):
            await answer_all(runtime, visit.patient_exams[0])
            await attach(runtime, visit.patient_exams[0], label="ID", file_name="id.png")
            await consent(client, visit)
        assert "CVS Pharmacy #1234" in (await client.get(confirming.url)).text
        assert "Waiting room" in (await client.get(skipping.url)).text


class TestWaitingRoom:
    async def test_the_status_tells_the_place_in_the_queue_of_the_tele_state(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        state = "VT"  # a state of its own: the queue is shared by every clinic
        first = await arrange_visit(runtime, tele_state=state)
        second = await arrange_visit(runtime, tele_state=state)
        await to_waiting_room(runtime, client, first)
        await to_waiting_room(runtime, client, second)
        status = (await client.get(second.at("/status"))).json()
        assert status["step"] == "waiting_room"
        assert status["place"] >= 2
        assert status["redirect"] is None
        assert (await client.get(first.at("/status"))).json()["place"] == status["place"] - 1

    async def test_the_status_says_when_a_provider_has_taken_the_exam(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        await to_waiting_room(runtime, client, visit)
        provider = await create_live_provider(runtime)
        async with runtime.sessions() as session, session.begin():
            await lifecycle.take_exam(
                session,
                provider_id=provider.id,
                patient_exam_id=visit.patient_exams[0].id,
                clock=runtime.clock,
            )
        status = (await client.get(visit.at("/status"))).json()
        assert (status["step"], status["provider_joined"], status["place"], status["redirect"]) == (
            "waiting_room",
            True,
            None,
            None,
        )
        assert "Your provider has joined" in (await client.get(visit.url)).text

    async def test_once_approved_the_status_sends_the_patient_to_redirect_approve(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime, redirect_approve="https://clinic.example/approved")
        await to_waiting_room(runtime, client, visit)
        await decide(runtime, visit, ExamOutcome.approved)
        status = (await client.get(visit.at("/status"))).json()
        assert status["redirect"] == "https://clinic.example/approved"
        assert status["outcome"] == "Approved"

    async def test_without_a_redirect_the_patient_sees_the_result_page(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime, redirect_approve="https://clinic.example/approved")
        await to_waiting_room(runtime, client, visit)
        await decide(runtime, visit, ExamOutcome.rejected, reason="Not a candidate")
        status = (await client.get(visit.at("/status"))).json()
        assert status["redirect"] == visit.at("/result")
        page = await client.get(status["redirect"])
        assert page.status_code == 200
        assert "could not approve" in page.text

    async def test_a_missed_exam_sends_the_patient_to_redirect_missed(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime, redirect_missed="https://clinic.example/missed")
        await to_waiting_room(runtime, client, visit)
        async with runtime.sessions() as session, session.begin():
            record = await lifecycle.load(session, patient_exam_id=visit.patient_exams[0].id)
            assert await lifecycle.mark_missed(session, record, links=runtime.links, clock=runtime.clock)
        status = (await client.get(visit.at("/status"))).json()
        assert status["redirect"] == "https://clinic.example/missed"

    async def test_the_status_of_a_bad_link_is_a_404(
        self, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        visit = await arrange_visit(runtime)
        response = await client.get(f"{meeting_path(visit.meeting.id)}/status?signature=00")
        assert response.status_code == 404
