"""The patient's visit through the core: consent, the patient's answers, the pharmacy the patient
chooses, the place in the queue, and where a decided visit sends the patient."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from clinicore.core.audit.service import SYSTEM
from clinicore.core.models import Clinic, ExamOutcome, PatientExam, PatientExamStatus
from clinicore.core.pharmacy import service as pharmacy_service
from clinicore.core.pharmacy.schemas import RetailPharmacyRecord
from clinicore.core.telehealth import invites, lifecycle, visit
from clinicore.core.telehealth.answers import SubmittedAnswer
from clinicore.core.telehealth.visit import VisitStep
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import Conflict, InvalidInput
from clinicore.runtime import Runtime
from tests.factories import (
    RETAIL_PHARMACY_ROUTING,
    ArrangedMeeting,
    Catalog,
    answer_all,
    attach,
    create_catalog,
    create_clinic,
    create_live_provider,
    create_meeting,
    reload_exam,
)

START = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)


@dataclasses.dataclass
class Arranged:
    runtime: Runtime
    clock: FrozenClock
    clinic: Clinic
    catalog: Catalog


@pytest.fixture
async def arranged(runtime: Runtime) -> Arranged:
    clock = FrozenClock(START)
    frozen = dataclasses.replace(runtime, clock=clock)
    clinic = (await create_clinic(frozen)).clinic
    return Arranged(frozen, clock, clinic, await create_catalog(frozen, clinic))


async def meeting_of(arranged: Arranged, *exams: str, **values: object) -> ArrangedMeeting:
    chosen = [getattr(arranged.catalog, name) for name in exams or ("botox",)]
    return await create_meeting(arranged.runtime, arranged.clinic, chosen, **values)  # type: ignore[arg-type]


async def step_of(arranged: Arranged, created: ArrangedMeeting) -> VisitStep:
    async with arranged.runtime.sessions() as session:
        return (await visit.open_visit(session, meeting_id=created.meeting.id)).step


async def prefill(arranged: Arranged, patient_exam: PatientExam) -> None:
    await answer_all(arranged.runtime, patient_exam)
    await attach(arranged.runtime, patient_exam, label="ID", file_name="id.png")


async def accept(arranged: Arranged, created: ArrangedMeeting) -> visit.Visit:
    async with arranged.runtime.sessions() as session, session.begin():
        return await visit.accept_consent(
            session, meeting_id=created.meeting.id, accepted=True, clock=arranged.clock
        )


class TestConsent:
    async def test_consent_is_kept_once_with_the_time_it_was_first_given(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged)
        first = await accept(arranged, created)
        arranged.clock.advance(timedelta(minutes=5))
        again = await accept(arranged, created)
        assert first.meeting.consented_at == again.meeting.consented_at == START

    async def test_consent_starts_the_questionnaires(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged, "botox", "filler")
        accepted = await accept(arranged, created)
        assert accepted.step == VisitStep.questions
        for patient_exam in created.patient_exams:
            assert (
                await reload_exam(arranged.runtime, patient_exam)
            ).status == PatientExamStatus.in_questionnaire

    async def test_not_accepting_is_no_consent(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged)
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="consent"):
                await visit.accept_consent(session, meeting_id=created.meeting.id, accepted=False)

    async def test_a_cancelled_visit_takes_no_consent(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged)
        async with arranged.runtime.sessions() as session, session.begin():
            await invites.cancel_invite(
                session, clinic_id=arranged.clinic.id, patient_exam_id=created.patient_exam.id, by=SYSTEM
            )
        assert await step_of(arranged, created) == VisitStep.cancelled
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(Conflict, match="cancelled"):
                await visit.accept_consent(session, meeting_id=created.meeting.id, accepted=True)

    async def test_a_cancelled_exam_of_a_stack_asks_nothing(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged, "botox", "filler")
        await prefill(arranged, created.patient_exams[0])
        async with arranged.runtime.sessions() as session, session.begin():
            await invites.cancel_invite(
                session, clinic_id=arranged.clinic.id, patient_exam_id=created.patient_exams[1].id, by=SYSTEM
            )
        assert (await accept(arranged, created)).step == VisitStep.waiting_room
        assert (
            await reload_exam(arranged.runtime, created.patient_exams[1])
        ).status == PatientExamStatus.cancelled

    async def test_with_everything_given_before_the_visit_consent_leads_to_the_waiting_room(
        self, arranged: Arranged
    ) -> None:
        created = await meeting_of(arranged)
        await prefill(arranged, created.patient_exam)
        assert (await accept(arranged, created)).step == VisitStep.waiting_room
        exam = await reload_exam(arranged.runtime, created.patient_exam)
        assert exam.status == PatientExamStatus.waiting_for_provider
        assert exam.next_action_at == START + lifecycle.MISSED_AFTER


class TestPatientAnswers:
    async def test_a_required_question_without_an_answer_stores_nothing(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged, "filler")
        await accept(arranged, created)
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="please answer question 1"):
                await visit.answer_questions(
                    session,
                    meeting_id=created.meeting.id,
                    patient_exam_id=created.patient_exam.id,
                    answers_given=[],
                )

    async def test_answers_of_another_meetings_exam_are_not_found(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged)
        other = await meeting_of(arranged)
        await accept(arranged, created)
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(Exception, match="no patient exam"):
                await visit.answer_questions(
                    session,
                    meeting_id=created.meeting.id,
                    patient_exam_id=other.patient_exam.id,
                    answers_given=[SubmittedAnswer(question_id=1, answer="x")],
                )

    async def test_answers_before_consent_are_refused(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged, "filler")
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(Conflict, match="consent"):
                await visit.answer_questions(
                    session,
                    meeting_id=created.meeting.id,
                    patient_exam_id=created.patient_exam.id,
                    answers_given=[SubmittedAnswer(no=1, answer="No")],
                )

    async def test_the_last_answers_complete_the_questionnaire_and_move_on(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged, "filler")
        await attach(arranged.runtime, created.patient_exam, label="ID", file_name="id.png")
        await accept(arranged, created)
        async with arranged.runtime.sessions() as session, session.begin():
            after = await visit.answer_questions(
                session,
                meeting_id=created.meeting.id,
                patient_exam_id=created.patient_exam.id,
                answers_given=[SubmittedAnswer(no=1, answer="No")],
                clock=arranged.clock,
            )
        assert after.step == VisitStep.waiting_room
        assert (await reload_exam(arranged.runtime, created.patient_exam)).questionnaire_completed_at == START


async def directory_entry(arranged: Arranged, *, with_ncpdpid: bool = True) -> RetailPharmacyRecord:
    record = RetailPharmacyRecord(
        name=f"Main Street Pharmacy {secrets.token_hex(3)}",
        ncpdpid=f"{secrets.randbelow(10**7):07d}" if with_ncpdpid else None,
        npi=None if with_ncpdpid else f"1{secrets.randbelow(10**9):09d}",
        address_line_1="1 Main St",
        city="Buffalo",
        state="NY",
        zip_code=f"{secrets.randbelow(90000) + 10000}",
        phone="+17165550100",
        pharmacy_type="Retail",
    )
    async with arranged.runtime.sessions() as session, session.begin():
        await pharmacy_service.upsert_retail_pharmacies(session, records=[record], source="csv")
    return record


class TestPatientChoosesPharmacy:
    async def test_the_chosen_pharmacy_is_stored_on_the_meeting_then_confirmed(
        self, arranged: Arranged
    ) -> None:
        record = await directory_entry(arranged)
        created = await meeting_of(arranged, "uti", pharmacy_routing="retail", patient_chooses_pharmacy=True)
        await prefill(arranged, created.patient_exam)
        assert (await accept(arranged, created)).step == VisitStep.pharmacy_choice
        async with arranged.runtime.sessions() as session, session.begin():
            assert record.ncpdpid is not None
            chosen = await visit.choose_pharmacy(
                session, meeting_id=created.meeting.id, ncpdpid=record.ncpdpid, clock=arranged.clock
            )
        meeting = chosen.meeting
        assert (meeting.ncpdpid, meeting.pharmacy_name, meeting.pharmacy_city, meeting.pharmacy_phone) == (
            record.ncpdpid,
            record.name,
            "Buffalo",
            "+17165550100",
        )
        assert chosen.step == VisitStep.pharmacy_confirmation
        async with arranged.runtime.sessions() as session, session.begin():
            joined = await visit.join_waiting_room(
                session, meeting_id=created.meeting.id, clock=arranged.clock
            )
        assert joined.step == VisitStep.waiting_room

    async def test_a_visit_whose_invite_named_the_pharmacy_refuses_a_choice(self, arranged: Arranged) -> None:
        record = await directory_entry(arranged)
        created = await meeting_of(arranged, "uti", **RETAIL_PHARMACY_ROUTING)
        await prefill(arranged, created.patient_exam)
        await accept(arranged, created)
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(Conflict, match="does not let the patient choose"):
                await visit.choose_pharmacy(
                    session, meeting_id=created.meeting.id, ncpdpid=record.ncpdpid or ""
                )

    async def test_an_unknown_pharmacy_is_refused(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged, "uti", pharmacy_routing="retail", patient_chooses_pharmacy=True)
        await prefill(arranged, created.patient_exam)
        await accept(arranged, created)
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="no pharmacy"):
                await visit.choose_pharmacy(session, meeting_id=created.meeting.id, ncpdpid="0000000")

    async def test_only_pharmacies_with_an_ncpdp_id_are_offered(self, arranged: Arranged) -> None:
        with_id = await directory_entry(arranged)
        without = await directory_entry(arranged, with_ncpdpid=False)
        async with arranged.runtime.sessions() as session:
            assert [
                row.name
                for row in await visit.find_pharmacies(session, search=None, zip_code=with_id.zip_code)
            ] == [with_id.name]
            assert await visit.find_pharmacies(session, search=None, zip_code=without.zip_code) == []

    async def test_the_confirmation_is_skipped_when_the_invite_says_so(self, arranged: Arranged) -> None:
        created = await meeting_of(
            arranged, "uti", skip_pharmacy_confirmation=True, **RETAIL_PHARMACY_ROUTING
        )
        await prefill(arranged, created.patient_exam)
        assert (await accept(arranged, created)).step == VisitStep.waiting_room


class TestPlaceInQueue:
    async def waiting(self, arranged: Arranged, tele_state: str, **values: object) -> ArrangedMeeting:
        created = await meeting_of(arranged, tele_state=tele_state, **values)
        await prefill(arranged, created.patient_exam)
        await accept(arranged, created)
        arranged.clock.advance(timedelta(seconds=10))
        return created

    async def place(self, arranged: Arranged, created: ArrangedMeeting) -> int | None:
        async with arranged.runtime.sessions() as session:
            opened = await visit.open_visit(session, meeting_id=created.meeting.id)
            return await visit.place_in_queue(session, visit=opened)

    async def test_the_place_counts_earlier_meetings_of_the_same_tele_state_only(
        self, arranged: Arranged
    ) -> None:
        # Far in the future of every other test's queue, in a state of its own.
        arranged.clock.set(datetime(2099, 1, 1, tzinfo=UTC))
        first = await self.waiting(arranged, "WY")
        await self.waiting(arranged, "MT")
        second = await self.waiting(arranged, "WY")
        earliest_wy = await self.place(arranged, first)
        assert earliest_wy is not None
        assert await self.place(arranged, second) == earliest_wy + 1

    async def test_a_meeting_that_does_not_wait_has_no_place(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged)
        assert await self.place(arranged, created) is None

    async def test_a_claimed_meeting_leaves_the_queue(self, arranged: Arranged) -> None:
        arranged.clock.set(datetime(2099, 2, 1, tzinfo=UTC))
        first = await self.waiting(arranged, "ND")
        second = await self.waiting(arranged, "ND")
        before = await self.place(arranged, second)
        provider = await create_live_provider(arranged.runtime, states=("ND",))
        async with arranged.runtime.sessions() as session, session.begin():
            await lifecycle.take_exam(
                session, provider_id=provider.id, patient_exam_id=first.patient_exam.id, clock=arranged.clock
            )
        assert before is not None
        assert await self.place(arranged, second) == before - 1


class TestOutcome:
    async def decided(
        self, arranged: Arranged, created: ArrangedMeeting, *outcomes: ExamOutcome
    ) -> visit.Visit:
        provider = await create_live_provider(arranged.runtime)
        for patient_exam, outcome in zip(created.patient_exams, outcomes, strict=True):
            async with arranged.runtime.sessions() as session, session.begin():
                await lifecycle.take_exam(
                    session, provider_id=provider.id, patient_exam_id=patient_exam.id, clock=arranged.clock
                )
                await lifecycle.decide(
                    session,
                    provider_id=provider.id,
                    patient_exam_id=patient_exam.id,
                    outcome=outcome,
                    reason="Because",
                    links=arranged.runtime.links,
                    clock=arranged.clock,
                )
        async with arranged.runtime.sessions() as session:
            return await visit.open_visit(session, meeting_id=created.meeting.id)

    async def test_the_worst_outcome_of_a_stack_decides_the_redirect(self, arranged: Arranged) -> None:
        created = await meeting_of(
            arranged,
            "botox",
            "filler",
            redirect_approve="https://clinic.example/yes",
            redirect_reject="https://clinic.example/no",
        )
        for patient_exam in created.patient_exams:
            await prefill(arranged, patient_exam)
        await accept(arranged, created)
        decided = await self.decided(arranged, created, ExamOutcome.approved, ExamOutcome.rejected)
        assert decided.step == VisitStep.finished
        assert decided.outcome == ExamOutcome.rejected
        assert decided.redirect_url == "https://clinic.example/no"

    async def test_a_visit_is_not_finished_while_one_exam_waits(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged, "botox", "filler", redirect_approve="https://clinic.example/yes")
        for patient_exam in created.patient_exams:
            await prefill(arranged, patient_exam)
        await accept(arranged, created)
        provider = await create_live_provider(arranged.runtime)
        async with arranged.runtime.sessions() as session, session.begin():
            await lifecycle.take_exam(
                session,
                provider_id=provider.id,
                patient_exam_id=created.patient_exam.id,
                clock=arranged.clock,
            )
        async with arranged.runtime.sessions() as session:
            opened = await visit.open_visit(session, meeting_id=created.meeting.id)
        assert opened.step == VisitStep.waiting_room
        assert opened.outcome is None and opened.redirect_url is None

    async def test_deferred_has_no_redirect_of_its_own(self, arranged: Arranged) -> None:
        created = await meeting_of(arranged, redirect_approve="https://clinic.example/yes")
        await prefill(arranged, created.patient_exam)
        await accept(arranged, created)
        decided = await self.decided(arranged, created, ExamOutcome.deferred)
        assert decided.outcome == ExamOutcome.deferred
        assert decided.redirect_url is None
