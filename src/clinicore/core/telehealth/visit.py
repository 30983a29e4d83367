"""The patient's visit at the meeting link: which step the patient is on, and each step the meeting page
takes. The page holds no rule of its own; it asks ``open_visit`` what to show and calls one function
here per form.

The steps, each skipped when it has nothing to do:

1. consent: once per meeting (``Meeting.consented_at``);
2. questions: for each exam in turn, the questions without an answer, unless the clinic's system already
   answered every required one (``questionnaire_completed_at``);
3. attachments: the required documents not uploaded yet; one upload of a label serves every exam of the
   meeting that asks for it (one ID, not one per exam);
4. pharmacy choice: a retail-routed Rx exam whose invite lets the patient choose, until one is chosen
   from the directory (only pharmacies with an NCPDP id can be chosen: a prescription needs one);
5. pharmacy confirmation: a retail-routed Rx exam, unless the invite asked to skip it (the invite's
   rule: only when every pharmacy field was given); confirming joins the waiting room;
6. the waiting room (every exam waits, or a provider has one); otherwise, once every step is done, the
   patient joins it by themselves (``advance``).

Then ``finished`` once every exam not cancelled is decided (the redirect follows the outcome, see
``visit_outcome``), or ``cancelled`` when every exam is. Exams are walked in id order; a cancelled exam
asks for nothing. Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import (
    Clinic,
    Exam,
    ExamAttachment,
    ExamOutcome,
    Meeting,
    PatientExam,
    PatientExamStatus,
    RetailPharmacy,
    RxType,
)
from clinicore.core.pharmacy import service as pharmacy_service
from clinicore.core.telehealth import answers, attachments, catalog, lifecycle, repository
from clinicore.core.telehealth.answers import AnswerSource, SubmittedAnswer
from clinicore.core.telehealth.catalog import QuestionWithOptions
from clinicore.core.telehealth.lifecycle import MISSED_AFTER
from clinicore.core.telehealth.routing import PharmacyKind
from clinicore.core.telehealth.transitions import FINISHED
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.kit.storage import FileStorage

S = PatientExamStatus
# The patient still has something to do on these exams before joining the waiting room.
BEFORE_THE_WAITING_ROOM = frozenset({S.pending, S.in_questionnaire})
# The worst outcome of a meeting's exams decides where the patient goes: an integrator's
# redirect_approve means "everything was approved".
OUTCOME_PRECEDENCE = (
    ExamOutcome.missed,
    ExamOutcome.rejected,
    ExamOutcome.deferred,
    ExamOutcome.na,
    ExamOutcome.approved,
)


class VisitStep(StrEnum):
    consent = "consent"
    questions = "questions"
    attachments = "attachments"
    pharmacy_choice = "pharmacy_choice"
    pharmacy_confirmation = "pharmacy_confirmation"
    ready = "ready"  # nothing left to ask: the patient joins the waiting room
    waiting_room = "waiting_room"
    finished = "finished"
    cancelled = "cancelled"


@dataclass(frozen=True, slots=True)
class VisitExam:
    patient_exam: PatientExam
    exam: Exam
    remaining_questions: Sequence[QuestionWithOptions]  # without an answer, by number
    missing_attachments: Sequence[str]

    @property
    def is_active(self) -> bool:
        return self.patient_exam.status != S.cancelled

    @property
    def before_the_waiting_room(self) -> bool:
        return self.patient_exam.status in BEFORE_THE_WAITING_ROOM

    @property
    def asks_questions(self) -> bool:
        return (
            self.before_the_waiting_room
            and self.patient_exam.questionnaire_completed_at is None
            and bool(self.remaining_questions)
        )


@dataclass(frozen=True, slots=True)
class Visit:
    meeting: Meeting
    clinic: Clinic
    exams: Sequence[VisitExam]  # every exam of the meeting, cancelled ones included, by id

    @property
    def active_exams(self) -> list[VisitExam]:
        return [item for item in self.exams if item.is_active]

    @property
    def brand(self) -> str:
        return self.clinic.brand_name or self.clinic.name

    @property
    def step(self) -> VisitStep:
        return next_step(self)

    @property
    def questions_exam(self) -> VisitExam | None:
        """The exam whose questions the patient answers now."""
        return next((item for item in self.active_exams if item.asks_questions), None)

    @property
    def missing_attachments(self) -> list[str]:
        """The documents still to upload, each label once for the whole meeting."""
        labels: dict[str, str] = {}
        for item in self.active_exams:
            if item.before_the_waiting_room:
                for label in item.missing_attachments:
                    labels.setdefault(label.casefold(), label)
        return list(labels.values())

    @property
    def rx_exam(self) -> VisitExam | None:
        return next((item for item in self.active_exams if item.exam.rx_type == RxType.rx), None)

    @property
    def routes_to_retail_pharmacy(self) -> bool:
        rx_exam = self.rx_exam
        return (
            rx_exam is not None
            and rx_exam.before_the_waiting_room
            and self.meeting.pharmacy_routing == PharmacyKind.retail
        )

    @property
    def patient_may_choose_pharmacy(self) -> bool:
        return self.routes_to_retail_pharmacy and bool(self.meeting.patient_chooses_pharmacy)

    @property
    def outcome(self) -> ExamOutcome | None:
        return visit_outcome(self)

    @property
    def redirect_url(self) -> str | None:
        """Where the integrator asked to send the patient after this outcome (``None``: our result page)."""
        meeting = self.meeting
        redirects = {
            ExamOutcome.approved: meeting.redirect_approve,
            ExamOutcome.rejected: meeting.redirect_reject,
            ExamOutcome.na: meeting.redirect_na,
            ExamOutcome.missed: meeting.redirect_missed,
        }
        outcome = self.outcome
        return redirects.get(outcome) if outcome is not None else None


def next_step(visit: Visit) -> VisitStep:
    """The step the patient is on (see the module docstring). Pure."""
    active = visit.active_exams
    if not active:
        return VisitStep.cancelled
    if all(item.patient_exam.status in FINISHED for item in active):
        return VisitStep.finished
    if not any(item.before_the_waiting_room for item in active):
        return VisitStep.waiting_room
    if visit.meeting.consented_at is None:
        return VisitStep.consent
    if visit.questions_exam is not None:
        return VisitStep.questions
    if visit.missing_attachments:
        return VisitStep.attachments
    if visit.routes_to_retail_pharmacy:
        if visit.patient_may_choose_pharmacy and visit.meeting.ncpdpid is None:
            return VisitStep.pharmacy_choice
        if not visit.meeting.skip_pharmacy_confirmation:
            return VisitStep.pharmacy_confirmation
    return VisitStep.ready


def visit_outcome(visit: Visit) -> ExamOutcome | None:
    """The meeting's outcome once every exam not cancelled is decided: the worst of theirs (Missed,
    Rejected, Deferred, NA, Approved); ``None`` before."""
    active = visit.active_exams
    if not active or any(item.patient_exam.status not in FINISHED for item in active):
        return None
    outcomes = {item.patient_exam.outcome for item in active}
    return next((outcome for outcome in OUTCOME_PRECEDENCE if outcome in outcomes), None)


# --- reading --------------------------------------------------------------------------------------


async def open_visit(session: AsyncSession, *, meeting_id: uuid.UUID, lock: bool = False) -> Visit:
    """The meeting with its clinic and exams, each with what it still asks of the patient. Pending
    changes are flushed first: the rows are read afresh."""
    await session.flush()
    meeting = await repository.get_meeting_by_id(session, meeting_id=meeting_id, lock=lock)
    if meeting is None:
        raise NotFound("meeting_uuid: no such meeting", field="meeting_uuid")
    clinic = await session.get(Clinic, meeting.clinic_id)
    assert clinic is not None  # meetings.clinic_id is a foreign key
    exams = []
    for patient_exam in await repository.patient_exams_of_meeting(session, meeting_id=meeting.id):
        exam = await session.get(Exam, patient_exam.exam_id)
        assert exam is not None
        asks = patient_exam.status in BEFORE_THE_WAITING_ROOM
        exams.append(
            VisitExam(
                patient_exam=patient_exam,
                exam=exam,
                remaining_questions=(
                    await answers.remaining_questions(session, patient_exam_id=patient_exam.id)
                    if asks
                    else ()
                ),
                missing_attachments=(
                    await attachments.missing_attachments(session, patient_exam_id=patient_exam.id)
                    if asks
                    else ()
                ),
            )
        )
    return Visit(meeting=meeting, clinic=clinic, exams=exams)


async def place_in_queue(session: AsyncSession, *, visit: Visit) -> int | None:
    """The patient's place among the meetings waiting for a provider of their ``tele_state`` (1: next);
    ``None`` when none of their exams waits."""
    ahead = await repository.meetings_ahead_in_queue(
        session,
        meeting_id=visit.meeting.id,
        tele_state=visit.meeting.tele_state,
        is_test=visit.meeting.is_test,
    )
    return None if ahead is None else ahead + 1


def _check_open(visit: Visit) -> None:
    if visit.step in (VisitStep.cancelled, VisitStep.finished):
        raise Conflict(f"meeting_uuid: this visit is {visit.step.value}", field="meeting_uuid")


async def advance(
    session: AsyncSession,
    *,
    meeting_id: uuid.UUID,
    missed_after: timedelta = MISSED_AFTER,
    clock: Clock = system_clock,
) -> Visit:
    """Join the waiting room when nothing is left to ask (every exam waiting for the patient)."""
    visit = await open_visit(session, meeting_id=meeting_id)
    if visit.step != VisitStep.ready:
        return visit
    return await _join(session, visit=visit, missed_after=missed_after, clock=clock)


async def _join(session: AsyncSession, *, visit: Visit, missed_after: timedelta, clock: Clock) -> Visit:
    for item in visit.active_exams:
        if item.before_the_waiting_room:
            await lifecycle.join_waiting_room(
                session,
                meeting_id=visit.meeting.id,
                patient_exam_id=item.patient_exam.id,
                missed_after=missed_after,
                clock=clock,
            )
    return await open_visit(session, meeting_id=visit.meeting.id)


# --- the steps ------------------------------------------------------------------------------------


async def accept_consent(
    session: AsyncSession,
    *,
    meeting_id: uuid.UUID,
    accepted: bool,
    missed_after: timedelta = MISSED_AFTER,
    clock: Clock = system_clock,
) -> Visit:
    """The patient accepts the telehealth consent (kept once, with its time); their exams' questionnaires
    start. Not ticking the box is no consent."""
    visit = await open_visit(session, meeting_id=meeting_id, lock=True)
    _check_open(visit)
    if not accepted:
        raise InvalidInput("consent: tick the box to accept the telehealth consent", field="consent")
    if visit.meeting.consented_at is None:
        now = clock.now()
        visit.meeting.consented_at = now
        visit.meeting.updated_at = now
    for item in visit.active_exams:
        if item.patient_exam.status == S.pending and item.asks_questions:
            await lifecycle.start_questionnaire(
                session, meeting_id=meeting_id, patient_exam_id=item.patient_exam.id, clock=clock
            )
    return await advance(session, meeting_id=meeting_id, missed_after=missed_after, clock=clock)


def _require_consent(visit: Visit) -> None:
    _check_open(visit)
    if visit.meeting.consented_at is None:
        raise Conflict("consent: accept the telehealth consent first", field="consent")


async def answer_questions(
    session: AsyncSession,
    *,
    meeting_id: uuid.UUID,
    patient_exam_id: int,
    answers_given: Sequence[SubmittedAnswer],
    missed_after: timedelta = MISSED_AFTER,
    clock: Clock = system_clock,
) -> Visit:
    """The patient's answers to the questions shown for one exam. Every required question must have an
    answer once they are stored (else nothing is stored); optional ones may stay blank, and the
    questionnaire is then complete."""
    visit = await open_visit(session, meeting_id=meeting_id)
    _require_consent(visit)
    item = next((entry for entry in visit.active_exams if entry.patient_exam.id == patient_exam_id), None)
    if item is None:
        raise NotFound(f"patient_exam_id: no patient exam {patient_exam_id}", field="patient_exam_id")
    answers.check_answers_open(item.patient_exam)
    questions = await catalog.questions(session, exam_id=item.exam.id)
    remaining_ids = {entry.question.id for entry in item.remaining_questions}
    by_no = {entry.question.no: entry.question.id for entry in questions}
    given_ids = {
        answer.question_id if answer.question_id is not None else by_no.get(answer.no or 0)
        for answer in answers_given
    }
    unanswered = [
        entry.question.no
        for entry in questions
        if entry.question.is_required
        and entry.question.id in remaining_ids
        and entry.question.id not in given_ids
    ]
    if unanswered:
        numbers = ", ".join(str(number) for number in unanswered)
        raise InvalidInput(f"answers: please answer question {numbers}", field="answers")
    if item.patient_exam.status == S.pending:
        await lifecycle.start_questionnaire(
            session, meeting_id=meeting_id, patient_exam_id=patient_exam_id, clock=clock
        )
    if answers_given:
        await answers.submit_answers(
            session,
            clinic_id=visit.meeting.clinic_id,
            meeting_uuid=str(meeting_id),
            patient_exam_id=patient_exam_id,
            answers=answers_given,
            source=AnswerSource.patient,
            clock=clock,
        )
    patient_exam = item.patient_exam
    if patient_exam.questionnaire_completed_at is None:
        # Every required question is answered (checked above); blank optional ones end it too.
        now = clock.now()
        patient_exam.questionnaire_completed_at = now
        patient_exam.updated_at = now
    return await advance(session, meeting_id=meeting_id, missed_after=missed_after, clock=clock)


async def upload_document(
    session: AsyncSession,
    *,
    meeting_id: uuid.UUID,
    label: str,
    data: bytes,
    original_name: str | None,
    storage: FileStorage,
    max_bytes: int,
    missed_after: timedelta = MISSED_AFTER,
    clock: Clock = system_clock,
) -> Visit:
    """The patient uploads one of the documents still missing; it is attached to every exam of the
    meeting that asks for that label (the checks of ``attachments.upload_attachment``: type from the
    bytes, size)."""
    visit = await open_visit(session, meeting_id=meeting_id)
    _require_consent(visit)
    wanted = (label or "").strip().casefold()
    asking = [
        item
        for item in visit.active_exams
        if item.before_the_waiting_room and wanted in {name.casefold() for name in item.missing_attachments}
    ]
    if not asking:
        missing = ", ".join(f'"{name}"' for name in visit.missing_attachments) or "none"
        raise InvalidInput(
            f"label: {label!r} is not a document this visit asks for (missing: {missing})", field="label"
        )
    first, *others = asking
    uploaded = await attachments.upload_attachment(
        session,
        clinic_id=visit.meeting.clinic_id,
        patient_exam_id=first.patient_exam.id,
        label=label,
        data=data,
        original_name=original_name,
        storage=storage,
        max_bytes=max_bytes,
        clock=clock,
    )
    for item in others:
        # The same stored file: one upload of the patient's ID serves every exam of the visit.
        session.add(
            ExamAttachment(
                clinic_id=visit.meeting.clinic_id,
                patient_exam_id=item.patient_exam.id,
                label=uploaded.attachment.label,
                file_id=uploaded.file.id,
                created_at=clock.now(),
            )
        )
    await session.flush()
    return await advance(session, meeting_id=meeting_id, missed_after=missed_after, clock=clock)


async def find_pharmacies(
    session: AsyncSession, *, search: str | None, zip_code: str | None
) -> Sequence[RetailPharmacy]:
    """The directory's pharmacies a patient may choose (by name or ZIP code): those with an NCPDP id."""
    found = await pharmacy_service.search_retail(
        session,
        search=(search or "").strip() or None,
        zip_code=(zip_code or "").strip() or None,
        ncpdpid=None,
    )
    return [pharmacy for pharmacy in found if pharmacy.ncpdpid]


async def choose_pharmacy(
    session: AsyncSession,
    *,
    meeting_id: uuid.UUID,
    ncpdpid: str,
    missed_after: timedelta = MISSED_AFTER,
    clock: Clock = system_clock,
) -> Visit:
    """The patient picks a pharmacy of the directory for the meeting's Rx exam, when the invite lets
    them; its details are stored on the meeting as an invite would have named them."""
    visit = await open_visit(session, meeting_id=meeting_id, lock=True)
    _require_consent(visit)
    if not visit.patient_may_choose_pharmacy:
        raise Conflict("ncpdpid: this visit does not let the patient choose the pharmacy", field="ncpdpid")
    pharmacy = await pharmacy_service.retail_pharmacy_by_ncpdpid(session, ncpdpid=ncpdpid)
    if pharmacy is None or not pharmacy.is_active:
        raise InvalidInput(f"ncpdpid: no pharmacy {ncpdpid!r} in the directory", field="ncpdpid")
    meeting = visit.meeting
    meeting.ncpdpid = pharmacy.ncpdpid
    meeting.pharmacy_name = pharmacy.name
    meeting.pharmacy_address_line_1 = pharmacy.address_line_1
    meeting.pharmacy_address_line_2 = pharmacy.address_line_2
    meeting.pharmacy_city = pharmacy.city
    meeting.pharmacy_state = pharmacy.state
    meeting.pharmacy_zip_code = pharmacy.zip_code
    meeting.pharmacy_phone = pharmacy.phone
    meeting.pharmacy_type = pharmacy.pharmacy_type
    meeting.updated_at = clock.now()
    await session.flush()
    return await advance(session, meeting_id=meeting_id, missed_after=missed_after, clock=clock)


async def join_waiting_room(
    session: AsyncSession,
    *,
    meeting_id: uuid.UUID,
    missed_after: timedelta = MISSED_AFTER,
    clock: Clock = system_clock,
) -> Visit:
    """The patient confirms the pharmacy (or, with nothing left to ask, simply goes on) and waits for a
    provider. Refused while a step before is not done."""
    visit = await open_visit(session, meeting_id=meeting_id)
    _require_consent(visit)
    if visit.step == VisitStep.waiting_room:
        return visit
    if visit.step not in (VisitStep.pharmacy_confirmation, VisitStep.ready):
        raise Conflict(
            f"meeting_uuid: finish the {visit.step.value.replace('_', ' ')} step first", field="meeting_uuid"
        )
    return await _join(session, visit=visit, missed_after=missed_after, clock=clock)
