"""The provider desk in the core: who may open an exam, expired licences, the medical director's
queue and moves, and a prescription checked complete before it goes to a pharmacy."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from clinicore.core.models import (
    AuditEntry,
    Clinic,
    Event,
    ExamOutcome,
    PatientExam,
    PatientExamStatus,
    Provider,
)
from clinicore.core.pharmacy.schemas import DrugItem
from clinicore.core.telehealth import desk, lifecycle, prescriptions, providers
from clinicore.core.telehealth.completeness import (
    PrescriberLicence,
    PrescriptionDraft,
    missing_from_prescription,
)
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import Conflict, Forbidden, InvalidInput
from clinicore.runtime import Runtime
from tests.factories import (
    RETAIL_PHARMACY_ROUTING,
    ArrangedMeeting,
    Catalog,
    answer_all,
    create_catalog,
    create_clinic,
    create_meeting,
    reload_exam,
)

START = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)
TODAY = START.date()
SHIPPING = {
    "shipping_address_line_1": "1 Main St",
    "shipping_city": "Albany",
    "shipping_state": "NY",
    "shipping_zip_code": "12207",
}


@dataclasses.dataclass
class Arranged:
    runtime: Runtime
    clock: FrozenClock
    catalog: Catalog
    clinic: Clinic


@pytest.fixture
async def arranged(runtime: Runtime) -> Arranged:
    clock = FrozenClock(START)
    frozen = dataclasses.replace(runtime, clock=clock)
    clinic = (await create_clinic(frozen, name="Desk Medspa")).clinic
    return Arranged(frozen, clock, await create_catalog(frozen, clinic), clinic)


async def provider(
    arranged: Arranged,
    *,
    states: tuple[str, ...] = ("NY",),
    director: bool = False,
    expires_on: date | None = None,
    numbered: bool = True,
) -> Provider:
    async with arranged.runtime.sessions() as session, session.begin():
        return await providers.create_provider(
            session,
            name="Dr. Director" if director else "Dr. Desk",
            states=states,
            is_medical_director=director,
            license_numbers={state: f"{state}-12345" for state in states} if numbered else None,
            licenses_expire_on=expires_on,
            clock=arranged.clock,
        )


async def waiting(arranged: Arranged, *, exam: str = "botox", **meeting: Any) -> ArrangedMeeting:
    runtime = arranged.runtime
    created = await create_meeting(runtime, arranged.clinic, [getattr(arranged.catalog, exam)], **meeting)
    await answer_all(runtime, created.patient_exam)
    async with runtime.sessions() as session, session.begin():
        await lifecycle.join_waiting_room(
            session,
            meeting_id=created.meeting.id,
            patient_exam_id=created.patient_exam.id,
            clock=runtime.clock,
        )
    return created


async def take_and_decide(
    arranged: Arranged,
    created: ArrangedMeeting,
    who: Provider,
    outcome: ExamOutcome,
    reason: str | None = None,
) -> None:
    runtime = arranged.runtime
    async with runtime.sessions() as session, session.begin():
        await lifecycle.take_exam(
            session, provider_id=who.id, patient_exam_id=created.patient_exam.id, clock=runtime.clock
        )
        await lifecycle.decide(
            session,
            provider_id=who.id,
            patient_exam_id=created.patient_exam.id,
            outcome=outcome,
            reason=reason,
            links=runtime.links,
            clock=runtime.clock,
        )


class TestLicences:
    async def test_an_expired_licence_counts_as_none(self, arranged: Arranged) -> None:
        created = await waiting(arranged)
        expired = await provider(arranged, expires_on=TODAY - timedelta(days=1))
        current = await provider(arranged, expires_on=TODAY)
        runtime = arranged.runtime
        async with runtime.sessions() as session:
            assert created.patient_exam.id not in {
                exam.id
                for exam in await lifecycle.provider_queue(
                    session, provider_id=expired.id, clock=runtime.clock
                )
            }
            assert created.patient_exam.id in {
                exam.id
                for exam in await lifecycle.provider_queue(
                    session, provider_id=current.id, clock=runtime.clock
                )
            }
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="not licensed in NY"):
                await lifecycle.take_exam(
                    session,
                    provider_id=expired.id,
                    patient_exam_id=created.patient_exam.id,
                    clock=runtime.clock,
                )


class TestOpeningAnExam:
    async def test_opening_is_audited_with_who_and_which_exam(self, arranged: Arranged) -> None:
        created = await waiting(arranged)
        reader = await provider(arranged)
        runtime = arranged.runtime
        async with runtime.sessions() as session, session.begin():
            consultation = await desk.open_consultation(
                session, provider_id=reader.id, patient_exam_id=created.patient_exam.id, clock=runtime.clock
            )
        assert consultation.can_take and not consultation.can_decide
        assert [row.no for row in consultation.answers] == [1, 2, 3]
        async with runtime.sessions() as session:
            entry = await session.scalar(
                select(AuditEntry).where(
                    AuditEntry.action == "patient_exam.viewed", AuditEntry.actor_id == str(reader.id)
                )
            )
        assert entry is not None
        assert (entry.actor_type, entry.target_id, entry.clinic_id) == (
            "provider",
            str(created.patient_exam.id),
            arranged.clinic.id,
        )
        assert entry.occurred_at == START
        assert entry.details == {}

    async def test_a_provider_not_licensed_in_the_state_is_forbidden(self, arranged: Arranged) -> None:
        created = await waiting(arranged, tele_state="TX")
        reader = await provider(arranged, states=("NY",))
        async with arranged.runtime.sessions() as session:
            with pytest.raises(Forbidden, match="not licensed in TX"):
                await desk.open_consultation(
                    session,
                    provider_id=reader.id,
                    patient_exam_id=created.patient_exam.id,
                    clock=arranged.clock,
                )

    async def test_an_exam_taken_by_another_provider_is_forbidden_and_cannot_be_taken(
        self, arranged: Arranged
    ) -> None:
        created = await waiting(arranged)
        first, second = await provider(arranged), await provider(arranged)
        runtime = arranged.runtime
        async with runtime.sessions() as session, session.begin():
            await lifecycle.take_exam(
                session, provider_id=first.id, patient_exam_id=created.patient_exam.id, clock=runtime.clock
            )
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(Forbidden, match="taken by another provider"):
                await desk.open_consultation(
                    session,
                    provider_id=second.id,
                    patient_exam_id=created.patient_exam.id,
                    clock=runtime.clock,
                )
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(Conflict, match="already taken") as refused:
                await lifecycle.take_exam(
                    session,
                    provider_id=second.id,
                    patient_exam_id=created.patient_exam.id,
                    clock=runtime.clock,
                )
        assert refused.value.rule == "telehealth.exam_already_taken"

    async def test_the_patients_earlier_exams_at_this_clinic_are_shown(self, arranged: Arranged) -> None:
        first = await waiting(arranged)
        reader = await provider(arranged)
        await take_and_decide(arranged, first, reader, ExamOutcome.approved)
        second = await create_meeting(arranged.runtime, arranged.clinic, [arranged.catalog.filler])
        async with arranged.runtime.sessions() as session, session.begin():
            later = await session.get(PatientExam, second.patient_exam.id)
            assert later is not None
            later.client_id = first.client.id  # the same patient's next visit
        async with arranged.runtime.sessions() as session:
            consultation = await desk.open_consultation(
                session, provider_id=reader.id, patient_exam_id=second.patient_exam.id, clock=arranged.clock
            )
        [earlier] = consultation.earlier_exams
        assert (earlier.patient_exam.id, earlier.title) == (first.patient_exam.id, "GFE - Botox")
        assert earlier.patient_exam.outcome == "Approved"


class TestTheMedicalDirector:
    async def test_a_deferred_exam_reaches_the_directors_queue_and_the_director_decides_it(
        self, arranged: Arranged
    ) -> None:
        created = await waiting(arranged)
        first = await provider(arranged)
        director = await provider(arranged, director=True)
        runtime = arranged.runtime
        await take_and_decide(arranged, created, first, ExamOutcome.deferred, "Needs a second look.")
        async with runtime.sessions() as session:
            queue = await desk.medical_director_queue(session, provider_id=director.id, clock=runtime.clock)
            assert created.patient_exam.id in {exam.id for exam in queue}
            with pytest.raises(Forbidden, match="only a medical director"):
                await desk.medical_director_queue(session, provider_id=first.id, clock=runtime.clock)
        async with runtime.sessions() as session, session.begin():
            taken = await desk.take_deferred(
                session, provider_id=director.id, patient_exam_id=created.patient_exam.id, clock=runtime.clock
            )
            assert (taken.status, taken.provider_id, taken.outcome) == ("in_consultation", director.id, None)
            assert taken.reason == "Needs a second look."
        async with runtime.sessions() as session, session.begin():
            await lifecycle.decide(
                session,
                provider_id=director.id,
                patient_exam_id=created.patient_exam.id,
                outcome=ExamOutcome.approved,
                reason=None,
                links=runtime.links,
                clock=runtime.clock,
            )
        exam = await reload_exam(runtime, created.patient_exam)
        assert (exam.status, exam.outcome) == (PatientExamStatus.completed, "Approved")
        async with runtime.sessions() as session:
            events = (
                await session.scalars(
                    select(Event)
                    .where(Event.aggregate_id == str(created.meeting.id))
                    .order_by(Event.sequence)
                )
            ).all()
        assert [event.payload["patient_exam"]["outcome"] for event in events] == [
            "Deferred to Medical Director",
            "Approved",
        ]

    async def test_a_deferred_exam_is_taken_by_one_director_only(self, arranged: Arranged) -> None:
        created = await waiting(arranged)
        first = await provider(arranged)
        one, two = await provider(arranged, director=True), await provider(arranged, director=True)
        runtime = arranged.runtime
        await take_and_decide(arranged, created, first, ExamOutcome.deferred, "Unsure.")
        async with runtime.sessions() as session, session.begin():
            await desk.take_deferred(
                session, provider_id=one.id, patient_exam_id=created.patient_exam.id, clock=runtime.clock
            )
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(Forbidden, match="taken by another provider"):
                await desk.take_deferred(
                    session, provider_id=two.id, patient_exam_id=created.patient_exam.id, clock=runtime.clock
                )

    async def test_an_exam_not_deferred_cannot_be_taken_as_deferred(self, arranged: Arranged) -> None:
        created = await waiting(arranged)
        director = await provider(arranged, director=True)
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(Conflict, match="not deferred to a medical director"):
                await desk.take_deferred(
                    session,
                    provider_id=director.id,
                    patient_exam_id=created.patient_exam.id,
                    clock=arranged.clock,
                )


ITEM = DrugItem("Nitrofurantoin", strength="100 mg", quantity="10", directions="One capsule twice a day.")


def draft(**changes: object) -> PrescriptionDraft:
    values: dict[str, object] = {
        "tele_state": "NY",
        "prescriber_licence": PrescriberLicence("NY", "NY-1", None),
        "patient_picks_up": False,
        "shipping_address": ("1 Main St", "Albany", "NY", "12207"),
        "items": [ITEM],
        "today": TODAY,
    }
    values.update(changes)
    return PrescriptionDraft(**values)  # type: ignore[arg-type]


class TestCompleteness:
    def test_a_complete_prescription_misses_nothing(self) -> None:
        assert missing_from_prescription(draft()) == []

    def test_no_licence_an_expired_one_or_one_without_a_number(self) -> None:
        assert missing_from_prescription(draft(prescriber_licence=None)) == ["a prescriber licence in NY"]
        expired = PrescriberLicence("NY", "NY-1", TODAY - timedelta(days=1))
        assert missing_from_prescription(draft(prescriber_licence=expired)) == ["a prescriber licence in NY"]
        unnumbered = PrescriberLicence("NY", " ", None)
        assert missing_from_prescription(draft(prescriber_licence=unnumbered)) == [
            "the prescriber's licence number in NY"
        ]

    def test_an_address_is_needed_unless_the_patient_picks_up(self) -> None:
        no_address = ("", "Albany", "NY", None)
        assert missing_from_prescription(draft(shipping_address=no_address)) == [
            "the patient's shipping address (or a pickup pharmacy)"
        ]
        assert missing_from_prescription(draft(shipping_address=no_address, patient_picks_up=True)) == []

    def test_every_items_drug_strength_quantity_and_directions(self) -> None:
        bare = DrugItem(" ", strength=None, quantity="", directions=None)
        assert missing_from_prescription(draft(items=[ITEM, bare])) == [
            "item 2: drug",
            "item 2: strength",
            "item 2: quantity",
            "item 2: directions",
        ]
        assert missing_from_prescription(draft(items=[])) == ["at least one item"]


class TestPrescribingForAPharmacy:
    async def test_an_incomplete_prescription_is_refused_with_what_is_missing(
        self, arranged: Arranged
    ) -> None:
        created = await waiting(arranged, exam="uti", **RETAIL_PHARMACY_ROUTING, delivery_method="ship")
        prescriber = await provider(arranged, numbered=False)
        await take_and_decide(arranged, created, prescriber, ExamOutcome.approved)
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput) as refused:
                await prescriptions.prescribe(
                    session,
                    provider_id=prescriber.id,
                    patient_exam_id=created.patient_exam.id,
                    items=[DrugItem("Nitrofurantoin", strength="100 mg")],
                    clock=arranged.clock,
                )
        assert refused.value.rule == "telehealth.prescription_incomplete"
        assert refused.value.params["missing"] == [
            "the prescriber's licence number in NY",
            "the patient's shipping address (or a pickup pharmacy)",
            "item 1: quantity",
            "item 1: directions",
        ]
        assert (await reload_exam(arranged.runtime, created.patient_exam)).status == "completed"

    async def test_a_complete_one_is_prescribed(self, arranged: Arranged) -> None:
        created = await waiting(arranged, exam="uti", **RETAIL_PHARMACY_ROUTING, **SHIPPING)
        prescriber = await provider(arranged)
        await take_and_decide(arranged, created, prescriber, ExamOutcome.approved)
        async with arranged.runtime.sessions() as session, session.begin():
            prescription = await prescriptions.prescribe(
                session,
                provider_id=prescriber.id,
                patient_exam_id=created.patient_exam.id,
                items=[ITEM],
                clock=arranged.clock,
            )
        assert prescription.pharmacy_name == "CVS Pharmacy #1234"
        assert (await reload_exam(arranged.runtime, created.patient_exam)).status == "prescribed"
