"""The patient exam's one timer (``next_action_at``), stepped by the worker's ``telehealth.timers`` job.

- A live exam still waiting for a provider when its 3 minutes are up becomes Missed (event 1).
- A test exam (``state``/``tele_state`` TE) is run by a built-in test provider, whatever the patient
  did: at the timer the provider takes it and decides from the test name (event 1); for a prescription
  approval on an Rx exam, one delay later the prescription is written and confirmed by the pharmacy
  (event 2), and one more delay later it ships with a test tracking number (event 3). The same
  lifecycle functions, events and PDF as a live exam.

Each due exam is claimed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and re-checked under the claim, so
any number of workers may run the job. Each exam's step runs in a savepoint: one that fails is put back
a minute later without undoing the others. Nothing here commits.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import TIMER
from clinicore.core.models import ExamOutcome, PatientExamStatus, Provider, RxType, TestOutcome
from clinicore.core.pharmacy.schemas import DrugItem
from clinicore.core.telehealth import lifecycle, prescriptions, providers, repository
from clinicore.core.telehealth.repository import ExamRecord
from clinicore.core.telehealth.transitions import BEFORE_A_PROVIDER_ACTS, move
from clinicore.kit.clock import Clock
from clinicore.kit.links import LinkSigner
from clinicore.kit.observability import get_logger

log = get_logger("clinicore.telehealth.timers")

BATCH = 50
RETRY_AFTER = timedelta(minutes=1)
TEST_PHARMACY_NAME = "Clinicore Test Pharmacy"
TEST_CARRIER = "TEST"
TEST_DELIVERY_SERVICE = "Test Ground (no parcel)"
TEST_ITEM = DrugItem(
    drug_name="TEST ITEM - not a real prescription",
    strength="0 mg",
    form="test",
    quantity="1",
    quantity_units="each",
    refills=0,
    days_supply=30,
    directions="Test mode: nothing to dispense or take.",
)
# What a test provider decides, and why (the reason the webhook and the PDF carry).
_TEST_DECISIONS = {
    TestOutcome.approve: ExamOutcome.approved,
    TestOutcome.reject: ExamOutcome.rejected,
    TestOutcome.na: ExamOutcome.na,
    TestOutcome.rx_approve: ExamOutcome.approved,
    TestOutcome.rx_reject: ExamOutcome.rejected,
}


def tracking_number_for_test(patient_exam_id: int) -> str:
    return f"TEST{patient_exam_id:010d}"


def decision_for_test_outcome(outcome: TestOutcome) -> ExamOutcome:
    """The test provider's decision (on a GFE exam the prescription outcomes act as approve/reject)."""
    return _TEST_DECISIONS[outcome]


def prescribes(outcome: TestOutcome, rx_type: str) -> bool:
    """Whether the test run goes on to a prescription (events 2 and 3): only a prescription approval
    of an Rx exam. A plain approve of an Rx exam stops at event 1."""
    return outcome is TestOutcome.rx_approve and rx_type == RxType.rx


async def run_due_timers(
    session: AsyncSession,
    *,
    clock: Clock,
    links: LinkSigner,
    test_delay: timedelta,
    limit: int = BATCH,
) -> int:
    """Step every exam whose timer is due (up to ``limit``); return how many were claimed."""
    now = clock.now()
    due = await repository.claim_due_exams(session, now=now, limit=limit)
    for patient_exam_id in [patient_exam.id for patient_exam in due]:
        try:
            async with session.begin_nested():
                record = await repository.load_exam(session, patient_exam_id=patient_exam_id)
                if record is not None:
                    await step(session, record, clock=clock, links=links, test_delay=test_delay)
        except Exception as exc:  # one exam's failure must not hold the others back
            log.error(
                "telehealth timer step failed", patient_exam_id=patient_exam_id, error=type(exc).__name__
            )
            await repository.postpone(session, patient_exam_id=patient_exam_id, until=now + RETRY_AFTER)
    await session.flush()
    return len(due)


async def step(
    session: AsyncSession, record: ExamRecord, *, clock: Clock, links: LinkSigner, test_delay: timedelta
) -> None:
    patient_exam = record.patient_exam
    now = clock.now()
    if patient_exam.next_action_at is None or patient_exam.next_action_at > now:
        return  # stepped meanwhile
    if not patient_exam.is_test:
        await lifecycle.mark_missed(session, record, links=links, clock=clock)
        patient_exam.next_action_at = None
        return
    if record.meeting.test_outcome is None:
        patient_exam.next_action_at = None
        return
    outcome = TestOutcome(record.meeting.test_outcome)
    status = patient_exam.status
    if status in BEFORE_A_PROVIDER_ACTS:
        await _test_consultation(session, record, outcome=outcome, clock=clock, links=links)
        if prescribes(outcome, record.exam.rx_type):
            patient_exam.next_action_at = now + test_delay
    elif status == PatientExamStatus.completed and prescribes(outcome, record.exam.rx_type):
        await _test_prescription(session, record, clock=clock, links=links)
        patient_exam.next_action_at = now + test_delay
    elif status == PatientExamStatus.confirmed_by_pharmacy:
        await prescriptions.ship(
            session,
            record,
            pharmacy_id=None,
            tracking_number=tracking_number_for_test(patient_exam.id),
            delivery_service=TEST_DELIVERY_SERVICE,
            carrier=TEST_CARRIER,
            by=TIMER,
            links=links,
            clock=clock,
        )
        patient_exam.next_action_at = None
    else:
        patient_exam.next_action_at = None  # cancelled, or nothing left to do


async def _test_provider(session: AsyncSession, record: ExamRecord, clock: Clock) -> Provider:
    test_providers = await providers.test_providers(session, clock=clock)
    return test_providers[record.patient_exam.id % len(test_providers)]


async def _test_consultation(
    session: AsyncSession, record: ExamRecord, *, outcome: TestOutcome, clock: Clock, links: LinkSigner
) -> None:
    patient_exam = record.patient_exam
    now = clock.now()
    # The test provider acts whatever the patient did: the exam goes straight to the consultation.
    if patient_exam.waiting_since is None:
        patient_exam.waiting_since = now
    if patient_exam.status != PatientExamStatus.waiting_for_provider:
        move(session, patient_exam, PatientExamStatus.waiting_for_provider, at=now, by=TIMER)
    provider = await _test_provider(session, record, clock)
    await lifecycle.take(session, record, provider=provider, clock=clock)
    decision = decision_for_test_outcome(outcome)
    reason = f"Test mode: decided {decision.value} from the test patient's name."
    await lifecycle.complete(session, record, outcome=decision, reason=reason, links=links, clock=clock)


async def _test_prescription(
    session: AsyncSession, record: ExamRecord, *, clock: Clock, links: LinkSigner
) -> None:
    """The meeting's order set, else the exam's first active order set (at the invite's pharmacy when it
    named one), else a clearly-marked test item: at the invite's retail pharmacy when it routed to one,
    at the Clinicore Test Pharmacy otherwise."""
    meeting = record.meeting
    order_set_id: int | None = None
    items: tuple[DrugItem, ...] = ()
    if prescriptions.routes_to_retail_pharmacy(meeting):
        items = (TEST_ITEM,)
    else:
        if meeting.order_set_id is not None:
            chosen = await repository.get_order_set(
                session, clinic_id=record.clinic.id, order_set_id=meeting.order_set_id
            )
            if chosen is not None and chosen.is_active and chosen.exam_id == record.exam.id:
                order_set_id = chosen.id
        if order_set_id is None:
            first = await repository.first_active_order_set(
                session, clinic_id=record.clinic.id, exam_id=record.exam.id, pharmacy_id=meeting.pharmacy_id
            )
            order_set_id = first.id if first is not None else None
        if order_set_id is None:
            items = (TEST_ITEM,)
    await prescriptions.write_prescription(
        session,
        record,
        order_set_id=order_set_id,
        items=items,
        clock=clock,
        fallback_pharmacy_name=TEST_PHARMACY_NAME,
    )
    await prescriptions.confirm(session, record, pharmacy_id=None, by=TIMER, links=links, clock=clock)
