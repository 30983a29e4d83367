"""The ``telehealth.timers`` job on a frozen clock: nothing before an exam's timer, the step after it;
test providers through the whole lifecycle; live exams missed after 3 minutes in the waiting room."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clinicore.core.audit.service import SYSTEM
from clinicore.core.models import (
    Clinic,
    Event,
    ExamOutcome,
    Meeting,
    PatientExamStatus,
    Prescription,
    PrescriptionItem,
    Shipment,
)
from clinicore.core.models import TestOutcome as NamedOutcome
from clinicore.core.telehealth import lifecycle
from clinicore.core.telehealth.timers import TEST_PHARMACY_NAME, tracking_number_for_test
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from clinicore.worker.loop import DEFAULT_JOBS
from clinicore.worker.telehealth import run_telehealth_timers
from tests.factories import (
    RETAIL_PHARMACY_ROUTING,
    ArrangedMeeting,
    Catalog,
    answer_all,
    create_catalog,
    create_clinic,
    create_live_provider,
    create_meeting,
    create_partner_pharmacy,
    reload_exam,
)

START = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)


@dataclasses.dataclass
class Arranged:
    runtime: Runtime
    clock: FrozenClock
    catalog: Catalog
    clinic: Clinic

    @property
    def delay(self) -> timedelta:
        return timedelta(seconds=self.runtime.settings.test_provider_delay_seconds)

    async def run_timers(self) -> int:
        async with self.runtime.sessions() as session, session.begin():
            return await run_telehealth_timers(session, self.runtime)

    async def run_until_quiet(self) -> None:
        while await self.run_timers():
            pass


@pytest.fixture
async def arranged(runtime: Runtime) -> Arranged:
    clock = FrozenClock(START)
    frozen = dataclasses.replace(runtime, clock=clock)
    clinic = (await create_clinic(frozen, name="Glow Medspa")).clinic
    return Arranged(frozen, clock, await create_catalog(frozen, clinic), clinic)


async def event_types(runtime: Runtime, created: ArrangedMeeting) -> list[str]:
    async with runtime.sessions() as session:
        result = await session.scalars(
            select(Event.type).where(Event.aggregate_id == str(created.meeting.id)).order_by(Event.sequence)
        )
        return list(result)


def test_the_job_is_registered() -> None:
    assert "telehealth.timers" in {job.name for job in DEFAULT_JOBS}


class TestTestProviders:
    async def test_nothing_happens_before_the_timer_and_the_decision_right_after(
        self, arranged: Arranged
    ) -> None:
        created = await create_meeting(
            arranged.runtime, arranged.clinic, [arranged.catalog.botox], test_outcome=NamedOutcome.approve
        )
        arranged.clock.advance(arranged.delay - timedelta(milliseconds=1))
        await arranged.run_until_quiet()
        assert (await reload_exam(arranged.runtime, created.patient_exam)).status == PatientExamStatus.pending

        arranged.clock.advance(timedelta(milliseconds=1))
        await arranged.run_until_quiet()

        exam = await reload_exam(arranged.runtime, created.patient_exam)
        assert (exam.status, exam.outcome, exam.next_action_at) == ("completed", "Approved", None)
        assert exam.provider_id is not None
        assert await event_types(arranged.runtime, created) == ["patient_exam.completed"]

    @pytest.mark.parametrize(
        ("outcome", "exam_name", "decision"),
        [
            (NamedOutcome.reject, "botox", ExamOutcome.rejected),
            (NamedOutcome.na, "botox", ExamOutcome.na),
            (NamedOutcome.rx_reject, "glp1", ExamOutcome.rejected),
            (NamedOutcome.approve, "glp1", ExamOutcome.approved),  # a plain approve prescribes nothing
            (NamedOutcome.rx_approve, "botox", ExamOutcome.approved),  # on a GFE: approve
            (NamedOutcome.rx_reject, "filler", ExamOutcome.rejected),  # on a GFE: reject
        ],
    )
    async def test_single_step_outcomes(
        self, arranged: Arranged, outcome: NamedOutcome, exam_name: str, decision: ExamOutcome
    ) -> None:
        created = await create_meeting(
            arranged.runtime, arranged.clinic, [getattr(arranged.catalog, exam_name)], test_outcome=outcome
        )
        arranged.clock.advance(arranged.delay)
        await arranged.run_until_quiet()
        arranged.clock.advance(arranged.delay * 10)
        await arranged.run_until_quiet()

        exam = await reload_exam(arranged.runtime, created.patient_exam)
        assert (exam.status, exam.outcome) == ("completed", decision)
        assert await event_types(arranged.runtime, created) == ["patient_exam.completed"]

    async def test_prescription_approve_is_approved_then_confirmed_then_shipped_one_delay_apart(
        self, arranged: Arranged
    ) -> None:
        runtime = arranged.runtime
        pharmacy = await create_partner_pharmacy(runtime, arranged.clinic, arranged.catalog.glp1)
        created = await create_meeting(
            runtime,
            arranged.clinic,
            [arranged.catalog.glp1],
            test_outcome=NamedOutcome.rx_approve,
            pharmacy_routing="partner",
            pharmacy_id=pharmacy.pharmacy.id,
            order_set_id=pharmacy.order_sets[1].id,
        )
        expected = [
            ("completed", ["patient_exam.completed"]),
            ("confirmed_by_pharmacy", ["patient_exam.completed", "prescription.confirmed"]),
            ("shipped", ["patient_exam.completed", "prescription.confirmed", "prescription.shipped"]),
        ]
        for status, types in expected:
            arranged.clock.advance(arranged.delay - timedelta(milliseconds=1))
            await arranged.run_until_quiet()
            assert (await reload_exam(runtime, created.patient_exam)).status != status
            arranged.clock.advance(timedelta(milliseconds=1))
            await arranged.run_until_quiet()
            assert (await reload_exam(runtime, created.patient_exam)).status == status
            assert await event_types(runtime, created) == types

        async with runtime.sessions() as session:
            prescription = await session.scalar(
                select(Prescription).where(Prescription.patient_exam_id == created.patient_exam.id)
            )
            assert prescription is not None
            shipment = await session.scalar(
                select(Shipment).where(Shipment.prescription_id == prescription.id)
            )
        assert prescription.order_set_id == pharmacy.order_sets[1].id
        assert prescription.status == "shipped"
        assert shipment is not None and shipment.tracking_number == tracking_number_for_test(
            created.patient_exam.id
        )
        assert (await reload_exam(runtime, created.patient_exam)).next_action_at is None

    async def test_without_an_order_set_the_exams_first_active_one_is_used(self, arranged: Arranged) -> None:
        runtime = arranged.runtime
        pharmacy = await create_partner_pharmacy(runtime, arranged.clinic, arranged.catalog.glp1)
        created = await create_meeting(
            runtime, arranged.clinic, [arranged.catalog.glp1], test_outcome=NamedOutcome.rx_approve
        )
        await self._through_confirmation(arranged)
        prescription = await self._prescription(runtime, created)
        assert prescription.order_set_id == pharmacy.order_sets[0].id
        assert prescription.pharmacy_name == "Empower Partner Pharmacy"

    async def test_custom_pharmacy_routing_gets_a_marked_test_item_there(self, arranged: Arranged) -> None:
        runtime = arranged.runtime
        await create_partner_pharmacy(runtime, arranged.clinic, arranged.catalog.glp1)
        created = await create_meeting(
            runtime,
            arranged.clinic,
            [arranged.catalog.glp1],
            test_outcome=NamedOutcome.rx_approve,
            **RETAIL_PHARMACY_ROUTING,
        )
        await self._through_confirmation(arranged)
        prescription = await self._prescription(runtime, created)
        assert (prescription.pharmacy_name, prescription.pharmacy_ncpdpid) == (
            "CVS Pharmacy #1234",
            "3456789",
        )
        assert await self._drug_names(runtime, prescription) == ["TEST ITEM - not a real prescription"]

    async def test_with_no_pharmacy_at_all_the_clinicore_test_pharmacy_gets_a_marked_test_item(
        self, arranged: Arranged
    ) -> None:
        runtime = arranged.runtime
        created = await create_meeting(
            runtime, arranged.clinic, [arranged.catalog.uti], test_outcome=NamedOutcome.rx_approve
        )
        await self._through_confirmation(arranged)
        prescription = await self._prescription(runtime, created)
        assert prescription.pharmacy_name == TEST_PHARMACY_NAME
        assert await self._drug_names(runtime, prescription) == ["TEST ITEM - not a real prescription"]

    async def test_a_cancelled_test_exam_is_left_alone(self, arranged: Arranged) -> None:
        runtime = arranged.runtime
        created = await create_meeting(
            runtime, arranged.clinic, [arranged.catalog.botox], test_outcome=NamedOutcome.approve
        )
        async with runtime.sessions() as session, session.begin():
            record = await lifecycle.load(session, patient_exam_id=created.patient_exam.id)
            lifecycle.move(
                session, record.patient_exam, PatientExamStatus.cancelled, at=runtime.clock.now(), by=SYSTEM
            )
        arranged.clock.advance(arranged.delay)
        await arranged.run_until_quiet()
        exam = await reload_exam(runtime, created.patient_exam)
        assert (exam.status, exam.next_action_at) == ("cancelled", None)
        assert await event_types(runtime, created) == []

    async def _through_confirmation(self, arranged: Arranged) -> None:
        for _ in range(2):
            arranged.clock.advance(arranged.delay)
            await arranged.run_until_quiet()

    async def _prescription(self, runtime: Runtime, created: ArrangedMeeting) -> Prescription:
        async with runtime.sessions() as session:
            prescription = await session.scalar(
                select(Prescription).where(Prescription.patient_exam_id == created.patient_exam.id)
            )
        assert prescription is not None
        assert prescription.status == "confirmed"
        return prescription

    async def _drug_names(self, runtime: Runtime, prescription: Prescription) -> list[str]:
        async with runtime.sessions() as session:
            result = await session.scalars(
                select(PrescriptionItem.drug_name).where(PrescriptionItem.prescription_id == prescription.id)
            )
            return list(result)


class TestTheMissedTimer:
    async def _waiting(self, arranged: Arranged) -> ArrangedMeeting:
        runtime = arranged.runtime
        created = await create_meeting(runtime, arranged.clinic, [arranged.catalog.botox])
        await answer_all(runtime, created.patient_exam)
        async with runtime.sessions() as session, session.begin():
            await lifecycle.join_waiting_room(
                session,
                meeting_id=created.meeting.id,
                patient_exam_id=created.patient_exam.id,
                clock=runtime.clock,
            )
        return created

    async def test_a_live_exam_waiting_three_minutes_is_missed(self, arranged: Arranged) -> None:
        created = await self._waiting(arranged)
        arranged.clock.advance(timedelta(minutes=3) - timedelta(milliseconds=1))
        await arranged.run_until_quiet()
        assert (await reload_exam(arranged.runtime, created.patient_exam)).status == "waiting_for_provider"

        arranged.clock.advance(timedelta(milliseconds=1))
        await arranged.run_until_quiet()

        exam = await reload_exam(arranged.runtime, created.patient_exam)
        assert (exam.status, exam.outcome, exam.provider_id) == ("completed", "Missed", None)
        assert exam.reason == "No provider was available within 3 minutes."
        assert await event_types(arranged.runtime, created) == ["patient_exam.completed"]

    async def test_an_exam_a_provider_took_is_not_missed(self, arranged: Arranged) -> None:
        created = await self._waiting(arranged)
        provider = await create_live_provider(arranged.runtime)
        arranged.clock.advance(timedelta(minutes=2))
        async with arranged.runtime.sessions() as session, session.begin():
            await lifecycle.take_exam(
                session,
                provider_id=provider.id,
                patient_exam_id=created.patient_exam.id,
                clock=arranged.clock,
            )
        arranged.clock.advance(timedelta(minutes=10))
        await arranged.run_until_quiet()
        assert (await reload_exam(arranged.runtime, created.patient_exam)).status == "in_consultation"
        assert await event_types(arranged.runtime, created) == []


class TestAFailingStep:
    async def test_is_put_back_a_minute_later_without_holding_back_the_others(
        self, arranged: Arranged
    ) -> None:
        runtime = arranged.runtime
        broken = await create_meeting(
            runtime, arranged.clinic, [arranged.catalog.botox], test_outcome=NamedOutcome.approve
        )
        healthy = await create_meeting(
            runtime, arranged.clinic, [arranged.catalog.botox], test_outcome=NamedOutcome.approve
        )
        async with runtime.sessions() as session, session.begin():
            meeting = await session.get(Meeting, broken.meeting.id)
            assert meeting is not None
            meeting.test_outcome = "no-such-outcome"
        arranged.clock.advance(arranged.delay)

        assert await arranged.run_timers() == 2

        assert (await reload_exam(runtime, healthy.patient_exam)).outcome == "Approved"
        stuck = await reload_exam(runtime, broken.patient_exam)
        assert stuck.status == "pending"
        assert stuck.next_action_at == START + arranged.delay + timedelta(minutes=1)
        assert await event_types(runtime, broken) == []


class TestSeveralWorkers:
    async def test_each_due_exam_is_stepped_once_when_workers_run_at_the_same_time(
        self, arranged: Arranged
    ) -> None:
        runtime = arranged.runtime
        meetings = [
            await create_meeting(
                runtime, arranged.clinic, [arranged.catalog.botox], test_outcome=NamedOutcome.approve
            )
            for _ in range(6)
        ]
        arranged.clock.advance(arranged.delay)

        async def worker() -> int:
            async with runtime.sessions() as session, session.begin():
                return await run_telehealth_timers(session, runtime)

        claimed = await asyncio.gather(*(worker() for _ in range(4)))

        assert sum(claimed) == 6
        for created in meetings:
            assert await event_types(runtime, created) == ["patient_exam.completed"]
            # Stepped once: pending -> waiting_for_provider -> in_consultation -> completed, one version each.
            assert (await reload_exam(runtime, created.patient_exam)).version == 4
