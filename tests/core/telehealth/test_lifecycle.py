"""The patient exam's state machine through the core services: each allowed step, each refused one."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clinicore.core.audit.service import Actor
from clinicore.core.models import (
    Event,
    ExamOutcome,
    PatientExamStatus,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    Shipment,
)
from clinicore.core.models import (
    TestOutcome as NamedOutcome,
)
from clinicore.core.pharmacy.schemas import DrugItem
from clinicore.core.telehealth import lifecycle, prescriptions
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.runtime import Runtime
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
    first_test_provider,
    reload_exam,
)

START = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)


PHARMACY_USER = Actor("pharmacy_user", "a-pharmacy-user")


@dataclasses.dataclass
class Arranged:
    runtime: Runtime
    clock: FrozenClock
    catalog: Catalog
    clinic_id: object


@pytest.fixture
async def arranged(runtime: Runtime) -> Arranged:
    clock = FrozenClock(START)
    frozen = dataclasses.replace(runtime, clock=clock)
    clinic = (await create_clinic(frozen, name="Glow Medspa")).clinic
    return Arranged(frozen, clock, await create_catalog(frozen, clinic), clinic)


async def clinic_of(arranged: Arranged) -> object:
    return arranged.clinic_id


async def waiting(arranged: Arranged, *, exam: str = "botox", tele_state: str = "NY") -> ArrangedMeeting:
    runtime = arranged.runtime
    created = await create_meeting(
        runtime, arranged.clinic_id, [getattr(arranged.catalog, exam)], tele_state=tele_state
    )  # type: ignore[arg-type]
    await answer_all(runtime, created.patient_exam)
    async with runtime.sessions() as session, session.begin():
        await lifecycle.start_questionnaire(
            session,
            meeting_id=created.meeting.id,
            patient_exam_id=created.patient_exam.id,
            clock=runtime.clock,
        )
        await lifecycle.join_waiting_room(
            session,
            meeting_id=created.meeting.id,
            patient_exam_id=created.patient_exam.id,
            clock=runtime.clock,
        )
    return created


async def events_of(runtime: Runtime, created: ArrangedMeeting) -> list[Event]:
    async with runtime.sessions() as session:
        result = await session.scalars(
            select(Event).where(Event.aggregate_id == str(created.meeting.id)).order_by(Event.sequence)
        )
        return list(result)


class TestThePatientSteps:
    async def test_questionnaire_then_waiting_room_starts_the_three_minute_timer(
        self, arranged: Arranged
    ) -> None:
        created = await waiting(arranged)

        exam = await reload_exam(arranged.runtime, created.patient_exam)
        assert exam.status == PatientExamStatus.waiting_for_provider
        assert exam.version == 3
        assert exam.waiting_since == START
        assert exam.questionnaire_completed_at == START
        assert exam.next_action_at == START + timedelta(minutes=3)

    async def test_the_waiting_room_refuses_unanswered_required_questions(self, arranged: Arranged) -> None:
        runtime = arranged.runtime
        created = await create_meeting(runtime, arranged.clinic_id, [arranged.catalog.botox])  # type: ignore[arg-type]
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="required questions not answered yet: 1, 2, 3"):
                await lifecycle.join_waiting_room(
                    session,
                    meeting_id=created.meeting.id,
                    patient_exam_id=created.patient_exam.id,
                    clock=runtime.clock,
                )

    async def test_an_exam_of_another_meeting_is_not_found(self, arranged: Arranged) -> None:
        runtime = arranged.runtime
        first = await create_meeting(runtime, arranged.clinic_id, [arranged.catalog.botox])  # type: ignore[arg-type]
        second = await create_meeting(runtime, arranged.clinic_id, [arranged.catalog.botox])  # type: ignore[arg-type]
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(NotFound):
                await lifecycle.start_questionnaire(
                    session,
                    meeting_id=second.meeting.id,
                    patient_exam_id=first.patient_exam.id,
                    clock=runtime.clock,
                )

    async def test_starting_the_questionnaire_after_waiting_is_refused(self, arranged: Arranged) -> None:
        created = await waiting(arranged)
        runtime = arranged.runtime
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(
                Conflict, match="is waiting_for_provider: it can start its questionnaire only while"
            ):
                await lifecycle.start_questionnaire(
                    session,
                    meeting_id=created.meeting.id,
                    patient_exam_id=created.patient_exam.id,
                    clock=runtime.clock,
                )


class TestTheProviderQueue:
    async def test_a_provider_sees_waiting_exams_of_the_states_they_are_licensed_in(
        self, arranged: Arranged
    ) -> None:
        runtime = arranged.runtime
        new_york = await waiting(arranged, tele_state="NY")
        texas = await waiting(arranged, tele_state="TX")
        provider = await create_live_provider(runtime, states=("NY",))
        async with runtime.sessions() as session:
            queue = await lifecycle.provider_queue(session, provider_id=provider.id)
        ids = {exam.id for exam in queue}
        assert new_york.patient_exam.id in ids
        assert texas.patient_exam.id not in ids

    async def test_test_exams_reach_only_test_providers(self, arranged: Arranged) -> None:
        runtime = arranged.runtime
        test_meeting = await create_meeting(
            runtime,
            arranged.clinic_id,
            [arranged.catalog.botox],
            test_outcome=NamedOutcome.approve,  # type: ignore[arg-type]
        )
        await answer_all(runtime, test_meeting.patient_exam)
        async with runtime.sessions() as session, session.begin():
            await lifecycle.join_waiting_room(
                session,
                meeting_id=test_meeting.meeting.id,
                patient_exam_id=test_meeting.patient_exam.id,
                clock=runtime.clock,
            )
        live_exam = await waiting(arranged)
        live = await create_live_provider(runtime, states=("NY", "CA"))
        tester = await first_test_provider(runtime)
        async with runtime.sessions() as session:
            live_queue = {exam.id for exam in await lifecycle.provider_queue(session, provider_id=live.id)}
            test_queue = {exam.id for exam in await lifecycle.provider_queue(session, provider_id=tester.id)}
        assert test_meeting.patient_exam.id not in live_queue
        assert live_exam.patient_exam.id in live_queue
        assert test_meeting.patient_exam.id in test_queue
        assert live_exam.patient_exam.id not in test_queue
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(NotFound):
                await lifecycle.take_exam(
                    session,
                    provider_id=live.id,
                    patient_exam_id=test_meeting.patient_exam.id,
                    clock=runtime.clock,
                )


class TestTakingAndDeciding:
    async def test_take_then_decide_completes_the_exam_and_emits_event_1(self, arranged: Arranged) -> None:
        runtime = arranged.runtime
        created = await waiting(arranged)
        provider = await create_live_provider(runtime)
        arranged.clock.advance(timedelta(minutes=1))
        async with runtime.sessions() as session, session.begin():
            taken = await lifecycle.take_exam(
                session, provider_id=provider.id, patient_exam_id=created.patient_exam.id, clock=runtime.clock
            )
            assert taken.next_action_at is None
            assert taken.status == PatientExamStatus.in_consultation
        arranged.clock.advance(timedelta(minutes=5))
        async with runtime.sessions() as session, session.begin():
            await lifecycle.decide(
                session,
                provider_id=provider.id,
                patient_exam_id=created.patient_exam.id,
                outcome=ExamOutcome.approved,
                reason="Good candidate.",
                links=runtime.links,
                clock=runtime.clock,
            )

        exam = await reload_exam(runtime, created.patient_exam)
        assert (exam.status, exam.outcome, exam.reason) == ("completed", "Approved", "Good candidate.")
        assert exam.decided_at == START + timedelta(minutes=6)
        [event] = await events_of(runtime, created)
        assert event.type == "patient_exam.completed"
        assert event.payload["patient_exam"]["outcome"] == "Approved"
        assert event.payload["provider"]["name"] == "Liza Park"
        assert "/documents/consultations/" in event.payload["document"]["url"]

    async def test_an_exam_is_taken_once(self, arranged: Arranged) -> None:
        runtime = arranged.runtime
        created = await waiting(arranged)
        first = await create_live_provider(runtime)
        second = await create_live_provider(runtime, name="Sam Ortiz")
        async with runtime.sessions() as session, session.begin():
            await lifecycle.take_exam(
                session, provider_id=first.id, patient_exam_id=created.patient_exam.id, clock=runtime.clock
            )
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(Conflict, match="was already taken by another provider"):
                await lifecycle.take_exam(
                    session,
                    provider_id=second.id,
                    patient_exam_id=created.patient_exam.id,
                    clock=runtime.clock,
                )
            with pytest.raises(Conflict, match="only the provider in the consultation"):
                await lifecycle.decide(
                    session,
                    provider_id=second.id,
                    patient_exam_id=created.patient_exam.id,
                    outcome=ExamOutcome.approved,
                    reason=None,
                    links=runtime.links,
                    clock=runtime.clock,
                )

    async def test_an_unlicensed_provider_cannot_take(self, arranged: Arranged) -> None:
        runtime = arranged.runtime
        created = await waiting(arranged, tele_state="TX")
        provider = await create_live_provider(runtime, states=("NY",))
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="not licensed in TX"):
                await lifecycle.take_exam(
                    session,
                    provider_id=provider.id,
                    patient_exam_id=created.patient_exam.id,
                    clock=runtime.clock,
                )

    @pytest.mark.parametrize(
        ("outcome", "reason", "message"),
        [
            (ExamOutcome.missed, None, "outcome: must be one of Approved, Rejected"),
            (ExamOutcome.rejected, "  ", "reason: say why the exam is Rejected"),
            (ExamOutcome.deferred, None, "reason: say why the exam is Deferred to Medical Director"),
        ],
    )
    async def test_refused_decisions(
        self, arranged: Arranged, outcome: ExamOutcome, reason: str | None, message: str
    ) -> None:
        runtime = arranged.runtime
        created = await waiting(arranged)
        provider = await create_live_provider(runtime)
        async with runtime.sessions() as session, session.begin():
            await lifecycle.take_exam(
                session, provider_id=provider.id, patient_exam_id=created.patient_exam.id, clock=runtime.clock
            )
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match=message):
                await lifecycle.decide(
                    session,
                    provider_id=provider.id,
                    patient_exam_id=created.patient_exam.id,
                    outcome=outcome,
                    reason=reason,
                    links=runtime.links,
                    clock=runtime.clock,
                )

    async def test_deciding_before_the_consultation_is_refused(self, arranged: Arranged) -> None:
        runtime = arranged.runtime
        created = await waiting(arranged)
        provider = await create_live_provider(runtime)
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(Conflict):
                await lifecycle.decide(
                    session,
                    provider_id=provider.id,
                    patient_exam_id=created.patient_exam.id,
                    outcome=ExamOutcome.approved,
                    reason=None,
                    links=runtime.links,
                    clock=runtime.clock,
                )


async def decided(
    arranged: Arranged, *, outcome: ExamOutcome = ExamOutcome.approved, **routing: object
) -> tuple[ArrangedMeeting, object]:
    runtime = arranged.runtime
    shipping = {
        "shipping_address_line_1": "1 Main St",
        "shipping_city": "Albany",
        "shipping_state": "NY",
        "shipping_zip_code": "12207",
    }
    created = await create_meeting(
        runtime,
        arranged.clinic_id,  # type: ignore[arg-type]
        [arranged.catalog.glp1],
        **(shipping | routing),
    )
    await answer_all(runtime, created.patient_exam)
    provider = await create_live_provider(runtime)
    async with runtime.sessions() as session, session.begin():
        await lifecycle.join_waiting_room(
            session,
            meeting_id=created.meeting.id,
            patient_exam_id=created.patient_exam.id,
            clock=runtime.clock,
        )
        await lifecycle.take_exam(
            session, provider_id=provider.id, patient_exam_id=created.patient_exam.id, clock=runtime.clock
        )
        await lifecycle.decide(
            session,
            provider_id=provider.id,
            patient_exam_id=created.patient_exam.id,
            outcome=outcome,
            reason="Because.",
            links=runtime.links,
            clock=runtime.clock,
        )
    return created, provider.id


class TestPrescriptions:
    async def test_partner_routing_prescribes_the_order_set_then_confirm_and_ship_emit_events_2_and_3(
        self, arranged: Arranged
    ) -> None:
        runtime = arranged.runtime
        pharmacy = await create_partner_pharmacy(runtime, arranged.clinic_id, arranged.catalog.glp1)  # type: ignore[arg-type]
        order_set = pharmacy.order_sets[1]
        created, provider_id = await decided(
            arranged, pharmacy_routing="partner", pharmacy_id=pharmacy.pharmacy.id, order_set_id=order_set.id
        )
        async with runtime.sessions() as session, session.begin():
            prescription = await prescriptions.prescribe(
                session,
                provider_id=provider_id,
                patient_exam_id=created.patient_exam.id,
                clock=runtime.clock,  # type: ignore[arg-type]
            )
        async with runtime.sessions() as session:
            items = (
                await session.scalars(
                    select(PrescriptionItem)
                    .where(PrescriptionItem.prescription_id == prescription.id)
                    .order_by(PrescriptionItem.position)
                )
            ).all()
        assert [item.drug_name for item in items] == ["Semaglutide", "Ondansetron"]
        assert items[0].strength == "0.50 mg/0.5 mL"
        assert prescription.order_set_id == order_set.id
        assert prescription.pharmacy_name == "Empower Partner Pharmacy"
        assert (await reload_exam(runtime, created.patient_exam)).status == "prescribed"

        async with runtime.sessions() as session, session.begin():
            with pytest.raises(Conflict, match="sent to another pharmacy"):
                await prescriptions.confirm_prescription(
                    session,
                    patient_exam_id=created.patient_exam.id,
                    pharmacy_id=pharmacy.pharmacy.id + 1000,
                    by=PHARMACY_USER,
                    links=runtime.links,
                    clock=runtime.clock,
                )
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(Conflict, match="only a prescription the pharmacy confirmed can ship"):
                await prescriptions.ship_prescription(
                    session,
                    patient_exam_id=created.patient_exam.id,
                    pharmacy_id=pharmacy.pharmacy.id,
                    tracking_number="1Z999",
                    delivery_service="UPS Ground",
                    carrier="UPS",
                    by=PHARMACY_USER,
                    links=runtime.links,
                    clock=runtime.clock,
                )
        async with runtime.sessions() as session, session.begin():
            await prescriptions.confirm_prescription(
                session,
                patient_exam_id=created.patient_exam.id,
                pharmacy_id=pharmacy.pharmacy.id,
                by=PHARMACY_USER,
                links=runtime.links,
                clock=runtime.clock,
            )
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="tracking_number: must not be empty"):
                await prescriptions.ship_prescription(
                    session,
                    patient_exam_id=created.patient_exam.id,
                    pharmacy_id=pharmacy.pharmacy.id,
                    tracking_number=" ",
                    delivery_service="UPS Ground",
                    carrier="UPS",
                    by=PHARMACY_USER,
                    links=runtime.links,
                    clock=runtime.clock,
                )
        async with runtime.sessions() as session, session.begin():
            await prescriptions.ship_prescription(
                session,
                patient_exam_id=created.patient_exam.id,
                pharmacy_id=pharmacy.pharmacy.id,
                tracking_number="1Z999AA10123456784",
                delivery_service="UPS Ground",
                carrier="UPS",
                by=PHARMACY_USER,
                links=runtime.links,
                clock=runtime.clock,
            )

        exam = await reload_exam(runtime, created.patient_exam)
        assert exam.status == PatientExamStatus.shipped
        async with runtime.sessions() as session:
            stored = await session.scalar(select(Prescription).where(Prescription.id == prescription.id))
            shipment = await session.scalar(
                select(Shipment).where(Shipment.prescription_id == prescription.id)
            )
        assert stored is not None and stored.status == PrescriptionStatus.shipped
        assert shipment is not None and shipment.tracking_number == "1Z999AA10123456784"
        events = await events_of(runtime, created)
        assert [event.type for event in events] == [
            "patient_exam.completed",
            "prescription.confirmed",
            "prescription.shipped",
        ]
        assert events[1].payload["prescription"]["status"] == "confirmed"
        assert events[2].payload["shipments"][0]["carrier"] == "UPS"

    async def test_retail_routing_copies_the_custom_pharmacy_and_needs_items(
        self, arranged: Arranged
    ) -> None:
        runtime = arranged.runtime
        created, provider_id = await decided(arranged, **RETAIL_PHARMACY_ROUTING)
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="prescription: incomplete, missing at least one item"):
                await prescriptions.prescribe(
                    session,
                    provider_id=provider_id,
                    patient_exam_id=created.patient_exam.id,
                    clock=runtime.clock,  # type: ignore[arg-type]
                )
        async with runtime.sessions() as session, session.begin():
            prescription = await prescriptions.prescribe(
                session,
                provider_id=provider_id,  # type: ignore[arg-type]
                patient_exam_id=created.patient_exam.id,
                items=[
                    DrugItem(
                        "Nitrofurantoin",
                        strength="100 mg",
                        quantity="10",
                        quantity_units="capsules",
                        directions="One capsule by mouth twice a day for 5 days.",
                    )
                ],
                clock=runtime.clock,
            )
        assert prescription.pharmacy_name == "CVS Pharmacy #1234"
        assert prescription.pharmacy_ncpdpid == "3456789"
        assert prescription.pharmacy_address == "350 5th Ave, New York, NY 10001"
        assert prescription.pharmacy_id is None

    async def test_only_an_approved_rx_exam_can_be_prescribed(self, arranged: Arranged) -> None:
        runtime = arranged.runtime
        created, provider_id = await decided(arranged, outcome=ExamOutcome.rejected)
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(
                Conflict, match=r"completed \(Rejected\): only an approved exam can be prescribed"
            ):
                await prescriptions.prescribe(
                    session,
                    provider_id=provider_id,  # type: ignore[arg-type]
                    patient_exam_id=created.patient_exam.id,
                    items=[DrugItem("X")],
                    clock=runtime.clock,
                )

    async def test_an_order_set_of_another_pharmacy_than_the_invites_is_refused(
        self, arranged: Arranged
    ) -> None:
        runtime = arranged.runtime
        ours = await create_partner_pharmacy(runtime, arranged.clinic_id, arranged.catalog.glp1)  # type: ignore[arg-type]
        other = await create_partner_pharmacy(
            runtime, arranged.clinic_id, arranged.catalog.glp1, name="Other"
        )  # type: ignore[arg-type]
        created, provider_id = await decided(
            arranged, pharmacy_routing="partner", pharmacy_id=ours.pharmacy.id, provider_chooses="order_set"
        )
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="belongs to another pharmacy"):
                await prescriptions.prescribe(
                    session,
                    provider_id=provider_id,  # type: ignore[arg-type]
                    patient_exam_id=created.patient_exam.id,
                    order_set_id=other.order_sets[0].id,
                    clock=runtime.clock,
                )
