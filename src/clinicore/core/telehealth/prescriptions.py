"""Prescriptions of approved Rx exams: the provider prescribes, the pharmacy confirms
(``prescription.confirmed``), the pharmacy ships (``prescription.shipped``).

Routing follows the invite (routing.py): a retail pharmacy gets the meeting's pharmacy details copied
and explicit items; a partner pharmacy gets an order set (the invite's, or the provider's choice when
the invite lets them choose) whose drugs become the items. Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.models import (
    ExamOutcome,
    Meeting,
    OrderSet,
    PatientExam,
    PatientExamStatus,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    RxType,
    Shipment,
)
from clinicore.core.pharmacy.schemas import DrugItem
from clinicore.core.telehealth import repository
from clinicore.core.telehealth.completeness import (
    PrescriberLicence,
    PrescriptionDraft,
    missing_from_prescription,
)
from clinicore.core.telehealth.events import PRESCRIPTION_CONFIRMED, PRESCRIPTION_SHIPPED
from clinicore.core.telehealth.lifecycle import emit_exam_event, load
from clinicore.core.telehealth.repository import ExamRecord
from clinicore.core.telehealth.routing import DeliveryMethod, PharmacyKind, ProviderChoice
from clinicore.core.telehealth.transitions import move
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, InvalidInput
from clinicore.kit.links import LinkSigner


def routes_to_retail_pharmacy(meeting: Meeting) -> bool:
    return meeting.pharmacy_routing == PharmacyKind.retail


def retail_pharmacy_address(meeting: Meeting) -> str | None:
    parts = [
        meeting.pharmacy_address_line_1,
        meeting.pharmacy_address_line_2,
        meeting.pharmacy_city,
        " ".join(part for part in (meeting.pharmacy_state, meeting.pharmacy_zip_code) if part) or None,
    ]
    text = ", ".join(part for part in parts if part)
    return text or None


def _check_items(items: Sequence[DrugItem]) -> None:
    for number, item in enumerate(items, start=1):
        if not item.drug_name.strip():
            raise InvalidInput(f"items[{number}].drug_name: must not be empty", field="items")
        if item.refills < 0:
            raise InvalidInput(f"items[{number}].refills: must be 0 or more", field="items")
        if item.days_supply is not None and item.days_supply < 1:
            raise InvalidInput(f"items[{number}].days_supply: must be 1 or more", field="items")


async def _order_set_for(session: AsyncSession, record: ExamRecord, *, order_set_id: int | None) -> OrderSet:
    meeting = record.meeting
    chosen = order_set_id if order_set_id is not None else meeting.order_set_id
    if chosen is None:
        raise InvalidInput(
            "order_set_id: the invite named no order set; choose one of the exam's order sets",
            field="order_set_id",
        )
    order_set = await repository.get_order_set(session, clinic_id=record.clinic.id, order_set_id=chosen)
    if order_set is None or not order_set.is_active or order_set.exam_id != record.exam.id:
        raise InvalidInput(
            f"order_set_id: {chosen} is not an active order set of this exam", field="order_set_id"
        )
    provider_picks_pharmacy = meeting.provider_chooses == ProviderChoice.pharmacy_and_order_set
    pinned_pharmacy = None if provider_picks_pharmacy else meeting.pharmacy_id
    if pinned_pharmacy is not None and order_set.pharmacy_id != pinned_pharmacy:
        raise InvalidInput(
            f"order_set_id: {chosen} belongs to another pharmacy than the invite's "
            f"pharmacy_id {pinned_pharmacy}",
            field="order_set_id",
        )
    return order_set


def check_prescribable(record: ExamRecord) -> None:
    """Only an approved Rx exam not prescribed yet can be prescribed."""
    patient_exam = record.patient_exam
    if record.exam.rx_type != RxType.rx:
        raise Conflict(
            f"patient exam {patient_exam.id} is a GFE exam: nothing to prescribe", field="patient_exam_id"
        )
    if patient_exam.status != PatientExamStatus.completed or patient_exam.outcome != ExamOutcome.approved:
        raise Conflict(
            f"patient exam {patient_exam.id} is {patient_exam.status} "
            f"({patient_exam.outcome or 'undecided'}): only an approved exam can be prescribed",
            field="patient_exam_id",
        )


def _row(prescription_id: uuid.UUID, position: int, item: DrugItem) -> PrescriptionItem:
    return PrescriptionItem(prescription_id=prescription_id, position=position, **item.columns())


async def prescribe(
    session: AsyncSession,
    *,
    provider_id: uuid.UUID,
    patient_exam_id: int,
    order_set_id: int | None = None,
    items: Sequence[DrugItem] = (),
    clock: Clock = system_clock,
) -> Prescription:
    """The provider who approved an Rx exam writes its prescription. Before anything goes to a pharmacy
    it is checked complete (completeness.py): an incomplete one is refused with everything missing, and
    nothing is written."""
    record = await load(session, patient_exam_id=patient_exam_id)
    patient_exam = record.patient_exam
    if patient_exam.provider_id != provider_id:
        raise Conflict(
            f"patient exam {patient_exam_id}: only the provider who decided it can prescribe",
            field="provider_id",
        )
    check_prescribable(record)
    meeting = record.meeting
    draft_items = list(items)
    if not draft_items and not routes_to_retail_pharmacy(meeting):
        order_set = await _order_set_for(session, record, order_set_id=order_set_id)
        draft_items = [
            DrugItem.of(item) for item in await repository.order_set_items(session, order_set_id=order_set.id)
        ]
    licence = await repository.provider_license(
        session, provider_id=provider_id, state=patient_exam.tele_state
    )
    draft = PrescriptionDraft(
        tele_state=patient_exam.tele_state,
        prescriber_licence=(
            PrescriberLicence(licence.state, licence.license_number, licence.expires_on) if licence else None
        ),
        patient_picks_up=routes_to_retail_pharmacy(meeting)
        and meeting.delivery_method != DeliveryMethod.ship,
        shipping_address=(
            meeting.shipping_address_line_1,
            meeting.shipping_city,
            meeting.shipping_state,
            meeting.shipping_zip_code,
        ),
        items=draft_items,
        today=clock.now().date(),
    )
    missing = missing_from_prescription(draft)
    if missing:
        raise InvalidInput(
            "prescription: incomplete, missing " + "; ".join(missing),
            field="prescription",
            rule="telehealth.prescription_incomplete",
            params={"missing": missing},
        )
    return await write_prescription(session, record, order_set_id=order_set_id, items=items, clock=clock)


async def write_prescription(
    session: AsyncSession,
    record: ExamRecord,
    *,
    order_set_id: int | None,
    items: Sequence[DrugItem],
    clock: Clock,
    fallback_pharmacy_name: str | None = None,
) -> Prescription:
    """Write the prescription of ``record`` (checked: an approved Rx exam not prescribed yet).

    ``fallback_pharmacy_name``: where explicit items go when the invite routed to no pharmacy at all
    (test mode only)."""
    patient_exam = record.patient_exam
    check_prescribable(record)
    _check_items(items)
    meeting = record.meeting
    now = clock.now()
    prescription = Prescription(
        id=uuid.uuid4(),
        clinic_id=patient_exam.clinic_id,
        patient_exam_id=patient_exam.id,
        provider_id=patient_exam.provider_id,
        status=PrescriptionStatus.written,
        written_at=now,
    )
    rows: list[DrugItem] = list(items)
    if routes_to_retail_pharmacy(meeting):
        if not rows:
            raise InvalidInput(
                "items: a prescription to a custom pharmacy needs its drug items", field="items"
            )
        prescription.pharmacy_name = meeting.pharmacy_name or "Custom pharmacy"
        prescription.pharmacy_ncpdpid = meeting.ncpdpid
        prescription.pharmacy_address = retail_pharmacy_address(meeting)
        prescription.pharmacy_phone = meeting.pharmacy_phone
    elif rows and order_set_id is None and fallback_pharmacy_name:
        prescription.pharmacy_name = fallback_pharmacy_name
    else:
        order_set = await _order_set_for(session, record, order_set_id=order_set_id)
        pharmacy = await repository.get_partner_pharmacy(session, order_set.pharmacy_id)
        if pharmacy is None or not pharmacy.is_active:
            raise InvalidInput(f"order_set_id: the pharmacy of order set {order_set.id} is not active")
        prescription.pharmacy_id = pharmacy.id
        prescription.order_set_id = order_set.id
        prescription.pharmacy_name = pharmacy.name
        prescription.pharmacy_ncpdpid = pharmacy.ncpdpid
        prescription.pharmacy_address = (
            ", ".join(part for part in (pharmacy.address_line_1, pharmacy.city, pharmacy.state) if part)
            or None
        )
        prescription.pharmacy_phone = pharmacy.phone
        if not rows:
            rows = [
                DrugItem.of(item)
                for item in await repository.order_set_items(session, order_set_id=order_set.id)
            ]
        if not rows:
            raise InvalidInput(
                f"order_set_id: order set {order_set.id} has no drug items", field="order_set_id"
            )
    session.add(prescription)
    session.add_all(_row(prescription.id, position, item) for position, item in enumerate(rows))
    assert patient_exam.provider_id is not None  # approved: decided by a provider
    move(
        session,
        patient_exam,
        PatientExamStatus.prescribed,
        at=now,
        by=Actor.provider(patient_exam.provider_id),
    )
    await session.flush()
    return prescription


async def _prescription(session: AsyncSession, patient_exam: PatientExam) -> Prescription:
    prescription = await repository.prescription_of(session, patient_exam_id=patient_exam.id)
    if prescription is None:
        raise Conflict(f"patient exam {patient_exam.id} has no prescription", field="patient_exam_id")
    return prescription


def _check_pharmacy(prescription: Prescription, pharmacy_id: int | None, patient_exam_id: int) -> None:
    """A partner pharmacy acts on its own prescriptions only; ``None`` is the network's staff acting for
    a retail pharmacy (or any)."""
    if pharmacy_id is not None and prescription.pharmacy_id != pharmacy_id:
        raise Conflict(
            f"patient exam {patient_exam_id}: the prescription was sent to another pharmacy",
            field="pharmacy_id",
        )


async def confirm_prescription(
    session: AsyncSession,
    *,
    patient_exam_id: int,
    pharmacy_id: int | None,
    by: Actor,
    links: LinkSigner,
    clock: Clock = system_clock,
) -> Prescription:
    """The pharmacy confirms the order (``by``: its user, or the clinic's staff who sent a retail
    prescription): event 2."""
    record = await load(session, patient_exam_id=patient_exam_id)
    return await confirm(session, record, pharmacy_id=pharmacy_id, by=by, links=links, clock=clock)


async def confirm(
    session: AsyncSession,
    record: ExamRecord,
    *,
    pharmacy_id: int | None,
    by: Actor,
    links: LinkSigner,
    clock: Clock,
) -> Prescription:
    patient_exam = record.patient_exam
    if patient_exam.status != PatientExamStatus.prescribed:
        raise Conflict(
            f"patient exam {patient_exam.id} is {patient_exam.status}: the pharmacy can confirm only a "
            "prescribed exam",
            field="patient_exam_id",
        )
    prescription = await _prescription(session, patient_exam)
    _check_pharmacy(prescription, pharmacy_id, patient_exam.id)
    now = clock.now()
    prescription.status = PrescriptionStatus.confirmed
    prescription.confirmed_at = now
    move(session, patient_exam, PatientExamStatus.confirmed_by_pharmacy, at=now, by=by)
    await emit_exam_event(session, record, type=PRESCRIPTION_CONFIRMED, links=links, clock=clock)
    return prescription


async def ship_prescription(
    session: AsyncSession,
    *,
    patient_exam_id: int,
    pharmacy_id: int | None,
    tracking_number: str,
    delivery_service: str,
    carrier: str,
    by: Actor,
    links: LinkSigner,
    clock: Clock = system_clock,
) -> Shipment:
    """The pharmacy (its user ``by``) ships with a tracking number: event 3."""
    record = await load(session, patient_exam_id=patient_exam_id)
    return await ship(
        session,
        record,
        pharmacy_id=pharmacy_id,
        tracking_number=tracking_number,
        delivery_service=delivery_service,
        carrier=carrier,
        by=by,
        links=links,
        clock=clock,
    )


async def ship(
    session: AsyncSession,
    record: ExamRecord,
    *,
    pharmacy_id: int | None,
    tracking_number: str,
    delivery_service: str,
    carrier: str,
    by: Actor,
    links: LinkSigner,
    clock: Clock,
) -> Shipment:
    patient_exam = record.patient_exam
    fields = {
        "tracking_number": (tracking_number.strip(), 100),
        "delivery_service": (delivery_service.strip(), 100),
        "carrier": (carrier.strip(), 50),
    }
    for name, (value, limit) in fields.items():
        if not value:
            raise InvalidInput(f"{name}: must not be empty", field=name)
        if len(value) > limit:
            raise InvalidInput(f"{name}: at most {limit} characters", field=name)
    if patient_exam.status != PatientExamStatus.confirmed_by_pharmacy:
        raise Conflict(
            f"patient exam {patient_exam.id} is {patient_exam.status}: only a prescription the pharmacy "
            "confirmed can ship",
            field="patient_exam_id",
        )
    prescription = await _prescription(session, patient_exam)
    _check_pharmacy(prescription, pharmacy_id, patient_exam.id)
    now = clock.now()
    shipment = Shipment(
        prescription_id=prescription.id,
        tracking_number=fields["tracking_number"][0],
        delivery_service=fields["delivery_service"][0],
        carrier=fields["carrier"][0],
        shipped_at=now,
    )
    session.add(shipment)
    prescription.status = PrescriptionStatus.shipped
    prescription.shipped_at = now
    move(session, patient_exam, PatientExamStatus.shipped, at=now, by=by)
    await emit_exam_event(session, record, type=PRESCRIPTION_SHIPPED, links=links, clock=clock)
    return shipment
