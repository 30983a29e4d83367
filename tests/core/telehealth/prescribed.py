"""Arranging prescriptions as the provider desk leaves them, and the pharmacy users who receive them: for
the pharmacy desk's core, page and console tests."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from clinicore.core.models import Clinic, Exam, ExamOutcome, PharmacyUser, Prescription, Provider, TestOutcome
from clinicore.core.pharmacy.schemas import DrugItem
from clinicore.core.telehealth import lifecycle, pharmacy_desk, prescriptions, providers, timers
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.factories import (
    RETAIL_PHARMACY_ROUTING,
    ArrangedMeeting,
    ArrangedPharmacy,
    Catalog,
    answer_all,
    create_meeting,
)
from tests.support import remember_secret

SHIPPING = {
    "shipping_address_line_1": "1 Main St",
    "shipping_city": "Albany",
    "shipping_state": "NY",
    "shipping_zip_code": "12207",
}
RETAIL_ITEM = DrugItem(
    "Nitrofurantoin",
    strength="100 mg",
    form="capsule",
    quantity="10",
    quantity_units="capsules",
    refills=0,
    days_supply=5,
    directions="One capsule by mouth twice a day for 5 days.",
)


@dataclasses.dataclass
class DeskPharmacyUser:
    user: PharmacyUser
    email: str
    password: str


@dataclasses.dataclass
class Prescribed:
    created: ArrangedMeeting
    prescription: Prescription

    @property
    def patient_exam_id(self) -> int:
        return self.created.patient_exam.id


async def create_pharmacy_user(
    runtime: Runtime, pharmacy: ArrangedPharmacy, *, name: str = "Priya Shah"
) -> DeskPharmacyUser:
    email = f"pharmacist-{secrets.token_hex(4)}@pharmacy.example"
    password = remember_secret(secrets.token_urlsafe(16))
    async with runtime.sessions() as session, session.begin():
        user = await pharmacy_desk.create_pharmacy_user(
            session,
            pharmacy_id=pharmacy.pharmacy.id,
            name=name,
            email=email,
            password=password,
            clock=runtime.clock,
        )
    return DeskPharmacyUser(user, email, password)


async def create_prescriber(runtime: Runtime) -> Provider:
    async with runtime.sessions() as session, session.begin():
        return await providers.create_provider(
            session,
            name="Dr. Ana Rivera",
            states=("NY",),
            credentials="MD",
            license_numbers={"NY": "NY-123456"},
            clock=runtime.clock,
        )


async def prescribed_exam(
    runtime: Runtime,
    clinic: Clinic,
    catalog: Catalog,
    *,
    pharmacy: ArrangedPharmacy | None,
    prescriber: Provider | None = None,
    **meeting: Any,
) -> Prescribed:
    """A live NY Rx exam approved and prescribed by a licensed provider: to ``pharmacy``'s first order
    set, or to the invite's retail pharmacy when ``pharmacy`` is None."""
    prescriber = prescriber or await create_prescriber(runtime)
    routing: dict[str, Any] = (
        {
            "pharmacy_routing": "partner",
            "pharmacy_id": pharmacy.pharmacy.id,
            "order_set_id": pharmacy.order_sets[0].id,
        }
        if pharmacy
        else dict(RETAIL_PHARMACY_ROUTING)
    )
    exam = catalog.glp1 if pharmacy else catalog.uti
    items = () if pharmacy else (RETAIL_ITEM,)
    return await approved_and_prescribed(runtime, clinic, exam, prescriber, items, **routing, **meeting)


async def approved_and_prescribed(
    runtime: Runtime,
    clinic: Clinic,
    exam: Exam,
    prescriber: Provider,
    items: Sequence[DrugItem],
    **meeting: Any,
) -> Prescribed:
    """A live NY exam of ``exam``, shipping to the patient: the patient waits, ``prescriber`` takes it,
    approves it and prescribes ``items`` (none: the order set's), as the provider desk does."""
    created = await create_meeting(runtime, clinic, [exam], **{**SHIPPING, **meeting})
    await answer_all(runtime, created.patient_exam)
    patient_exam_id = created.patient_exam.id
    async with runtime.sessions() as session, session.begin():
        await lifecycle.join_waiting_room(
            session, meeting_id=created.meeting.id, patient_exam_id=patient_exam_id, clock=runtime.clock
        )
        await lifecycle.take_exam(
            session, provider_id=prescriber.id, patient_exam_id=patient_exam_id, clock=runtime.clock
        )
        await lifecycle.decide(
            session,
            provider_id=prescriber.id,
            patient_exam_id=patient_exam_id,
            outcome=ExamOutcome.approved,
            reason=None,
            links=runtime.links,
            clock=runtime.clock,
        )
        prescription = await prescriptions.prescribe(
            session,
            provider_id=prescriber.id,
            patient_exam_id=patient_exam_id,
            items=items,
            clock=runtime.clock,
        )
    return Prescribed(created, prescription)


async def confirmed_test_exam(
    runtime: Runtime, clock: FrozenClock, clinic: Clinic, catalog: Catalog, pharmacy: ArrangedPharmacy
) -> Prescribed:
    """A test-mode Rx exam routed to ``pharmacy``, carried by the test provider and the test pharmacy to
    ``confirmed_by_pharmacy`` (``clock`` is ``runtime``'s)."""
    created = await create_meeting(
        runtime,
        clinic,
        [catalog.glp1],
        test_outcome=TestOutcome.rx_approve,
        pharmacy_routing="partner",
        pharmacy_id=pharmacy.pharmacy.id,
        order_set_id=pharmacy.order_sets[0].id,
        **SHIPPING,
    )
    delay = timedelta(seconds=runtime.settings.test_provider_delay_seconds)
    for _ in range(2):  # the decision, then the prescription written and confirmed
        clock.advance(delay)
        async with runtime.sessions() as session, session.begin():
            await timers.run_due_timers(session, clock=clock, links=runtime.links, test_delay=delay)
    async with runtime.sessions() as session:
        prescription = await session.scalar(
            select(Prescription).where(Prescription.patient_exam_id == created.patient_exam.id)
        )
    assert prescription is not None and prescription.pharmacy_id == pharmacy.pharmacy.id
    return Prescribed(created, prescription)
