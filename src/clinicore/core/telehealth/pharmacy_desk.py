"""The pharmacy desk: what a partner pharmacy's user sees and does, and the clinic's part for
prescriptions that go to a retail pharmacy (which is not on our desk).

- A pharmacy user belongs to one partner pharmacy and sees the prescriptions routed to it only: to
  confirm (written, oldest first), to ship (confirmed, oldest confirmation first) and recently shipped
  (the last ``RECENTLY_SHIPPED`` days, newest first), each list capped at ``LIST_LIMIT``. Opening another
  pharmacy's prescription is refused (``Forbidden``); an unknown id answers as a missing one.
- Test-mode exams never reach the desk, nor the clinic's retail list: the built-in test pharmacy
  confirms and ships them on the exam's timer (timers.py), with items marked "not a real
  prescription". A test exam's prescription answers as a missing one.
- Confirming (event 2) and shipping with carrier and tracking number (event 3) are the lifecycle's own
  ``confirm`` and ``ship``, scoped to the user's pharmacy. Each, and each opening of a prescription (the
  pharmacy reads the patient's details), is written to the audit log with the pharmacy user as actor.
- Retail: the clinic's staff print the prescription (a PDF, prescription_document.py) and send it to the
  pharmacy, then mark it transmitted. That is the pharmacy's confirmation, made by the staff member:
  status ``confirmed_by_pharmacy`` and event 2; ``confirmed_at`` is when it was transmitted, and the
  exam's status change and the audit log (``prescription.transmitted``) say by whom. No column records
  it a third time. Nothing ships on our side:
  the retail pharmacy dispenses.

Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.accounts import repository as accounts_repository
from clinicore.core.accounts import service as accounts_service
from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import (
    DeskAccountKind,
    PartnerPharmacy,
    PatientExam,
    PharmacyUser,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    ProviderLicense,
    Shipment,
)
from clinicore.core.telehealth import prescriptions, repository
from clinicore.core.telehealth.lifecycle import load
from clinicore.core.telehealth.repository import ExamRecord
from clinicore.kit import contact
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from clinicore.kit.links import LinkSigner

LIST_LIMIT = 100
RECENTLY_SHIPPED = timedelta(days=14)
RECENTLY_TRANSMITTED = timedelta(days=30)
NOT_FOUND = "prescription not found"


@dataclass(frozen=True, slots=True)
class PrescriptionEntry:
    """One row of a list: the prescription, its exam and the exam's title."""

    prescription: Prescription
    patient_exam: PatientExam
    title: str


@dataclass(frozen=True, slots=True)
class PharmacyQueues:
    pharmacy: PartnerPharmacy
    to_confirm: Sequence[PrescriptionEntry]
    to_ship: Sequence[PrescriptionEntry]
    shipped: Sequence[PrescriptionEntry]


@dataclass(frozen=True, slots=True)
class RetailQueues:
    """A clinic's prescriptions to retail pharmacies: to transmit, and transmitted lately."""

    to_transmit: Sequence[PrescriptionEntry]
    transmitted: Sequence[PrescriptionEntry]


@dataclass(frozen=True, slots=True)
class PrescriptionRecord:
    """Everything one prescription shows: the order, its exam and patient, the prescriber's licence in the
    exam's state, the items and the parcels."""

    prescription: Prescription
    record: ExamRecord
    items: Sequence[PrescriptionItem]
    shipments: Sequence[Shipment]
    prescriber_licence: ProviderLicense | None

    @property
    def to_confirm(self) -> bool:
        return self.prescription.status == PrescriptionStatus.written

    @property
    def to_ship(self) -> bool:
        return self.prescription.status == PrescriptionStatus.confirmed

    @property
    def to_retail_pharmacy(self) -> bool:
        return prescriptions.routes_to_retail_pharmacy(self.record.meeting)


# --- pharmacy users ---------------------------------------------------------------------------------


async def pharmacy_user_by_email(session: AsyncSession, *, email: str) -> PharmacyUser | None:
    account = await accounts_repository.get_account_by_email(
        session, kind=DeskAccountKind.pharmacy_user, email=contact.email_key(email)
    )
    return account if isinstance(account, PharmacyUser) else None


async def create_pharmacy_user(
    session: AsyncSession,
    *,
    pharmacy_id: int,
    name: str,
    email: str,
    password: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> PharmacyUser:
    """A user of a partner pharmacy's desk, signing in with ``email`` and ``password``."""
    address = contact.email_key(contact.normalise_email(email))
    if await pharmacy_user_by_email(session, email=address) is not None:
        raise Conflict(f"email: a pharmacy user {address} already exists", field="email")
    pharmacy = await repository.get_partner_pharmacy(session, pharmacy_id)
    if pharmacy is None:
        raise NotFound(f"pharmacy_id: no partner pharmacy {pharmacy_id}", field="pharmacy_id")
    user = PharmacyUser(
        pharmacy_id=pharmacy.id,
        email=address,
        name=name.strip()[:200],
        password_hash="",  # no password, no sign-in: set_password below gives it one
        is_active=True,
        created_at=clock.now(),
    )
    session.add(user)
    await session.flush()
    await accounts_service.set_password(
        session,
        kind=DeskAccountKind.pharmacy_user,
        account_id=user.id,
        password=password,
        actor=actor,
        clock=clock,
    )
    return user


async def _active_pharmacy_user(session: AsyncSession, pharmacy_user_id: uuid.UUID) -> PharmacyUser:
    account = await accounts_repository.get_account(
        session, kind=DeskAccountKind.pharmacy_user, account_id=pharmacy_user_id
    )
    if not isinstance(account, PharmacyUser) or not account.is_active:
        raise Forbidden("this pharmacy account is not active")
    return account


def _actor(user: PharmacyUser) -> Actor:
    return accounts_service.actor_of(DeskAccountKind.pharmacy_user, user.id)


# --- the pharmacy's desk ----------------------------------------------------------------------------


async def pharmacy_queues(
    session: AsyncSession, *, pharmacy_user_id: uuid.UUID, clock: Clock = system_clock
) -> PharmacyQueues:
    """The prescriptions of the user's pharmacy: to confirm, to ship, shipped lately."""
    user = await _active_pharmacy_user(session, pharmacy_user_id)
    pharmacy = await repository.get_partner_pharmacy(session, user.pharmacy_id)
    if pharmacy is None:
        raise Forbidden("this pharmacy account has no pharmacy")
    now = clock.now()
    return PharmacyQueues(
        pharmacy=pharmacy,
        to_confirm=await _entries(session, PrescriptionStatus.written, pharmacy_id=pharmacy.id),
        to_ship=await _entries(session, PrescriptionStatus.confirmed, pharmacy_id=pharmacy.id),
        shipped=await _entries(
            session, PrescriptionStatus.shipped, pharmacy_id=pharmacy.id, since=now - RECENTLY_SHIPPED
        ),
    )


async def _pharmacys_prescription(
    session: AsyncSession, user: PharmacyUser, prescription_id: uuid.UUID
) -> Prescription:
    prescription = await _live_prescription(session, prescription_id)
    if prescription.pharmacy_id != user.pharmacy_id:
        raise Forbidden("this prescription was sent to another pharmacy")
    return prescription


async def open_prescription(
    session: AsyncSession,
    *,
    pharmacy_user_id: uuid.UUID,
    prescription_id: uuid.UUID,
    clock: Clock = system_clock,
) -> PrescriptionRecord:
    """One prescription of the user's pharmacy, with the patient's details; written to the audit log."""
    user = await _active_pharmacy_user(session, pharmacy_user_id)
    prescription = await _pharmacys_prescription(session, user, prescription_id)
    opened = await _prescription_record(session, prescription)
    await _audit(session, prescription, _actor(user), "prescription.viewed", clock)
    return opened


async def confirm(
    session: AsyncSession,
    *,
    pharmacy_user_id: uuid.UUID,
    prescription_id: uuid.UUID,
    links: LinkSigner,
    clock: Clock = system_clock,
) -> Prescription:
    """The pharmacy confirms the order: ``confirmed_by_pharmacy``, event 2."""
    user = await _active_pharmacy_user(session, pharmacy_user_id)
    prescription = await _pharmacys_prescription(session, user, prescription_id)
    record = await load(session, patient_exam_id=prescription.patient_exam_id)
    confirmed = await prescriptions.confirm(
        session, record, pharmacy_id=user.pharmacy_id, by=_actor(user), links=links, clock=clock
    )
    await _audit(session, prescription, _actor(user), "prescription.confirmed", clock)
    return confirmed


async def ship(
    session: AsyncSession,
    *,
    pharmacy_user_id: uuid.UUID,
    prescription_id: uuid.UUID,
    carrier: str,
    tracking_number: str,
    delivery_service: str = "",
    links: LinkSigner,
    clock: Clock = system_clock,
) -> Shipment:
    """The pharmacy ships a confirmed prescription with carrier and tracking number: ``shipped``, event 3.
    Without a delivery service (``UPS Ground``), the carrier's name stands for it."""
    if not carrier.strip():
        # Asked before the delivery service that falls back to it (the lifecycle checks the rest).
        raise InvalidInput("carrier: must not be empty", field="carrier")
    user = await _active_pharmacy_user(session, pharmacy_user_id)
    prescription = await _pharmacys_prescription(session, user, prescription_id)
    record = await load(session, patient_exam_id=prescription.patient_exam_id)
    shipment = await prescriptions.ship(
        session,
        record,
        pharmacy_id=user.pharmacy_id,
        tracking_number=tracking_number,
        delivery_service=delivery_service.strip() or carrier,
        carrier=carrier,
        by=_actor(user),
        links=links,
        clock=clock,
    )
    await _audit(
        session,
        prescription,
        _actor(user),
        "prescription.shipped",
        clock,
        details={"carrier": shipment.carrier},
    )
    return shipment


# --- retail pharmacies: the clinic's part -----------------------------------------------------------


async def retail_queues(
    session: AsyncSession, *, clinic_id: uuid.UUID, clock: Clock = system_clock
) -> RetailQueues:
    """The clinic's prescriptions to retail pharmacies: to transmit (oldest first), transmitted lately."""
    now = clock.now()
    return RetailQueues(
        to_transmit=await _entries(session, PrescriptionStatus.written, retail_of_clinic=clinic_id),
        transmitted=await _entries(
            session,
            PrescriptionStatus.confirmed,
            retail_of_clinic=clinic_id,
            since=now - RECENTLY_TRANSMITTED,
        ),
    )


async def _clinics_retail_prescription(
    session: AsyncSession, *, clinic_id: uuid.UUID, prescription_id: uuid.UUID
) -> tuple[Prescription, PrescriptionRecord]:
    """Another clinic's prescription, or one to a partner pharmacy (on the desk), answers as missing."""
    prescription = await _live_prescription(session, prescription_id)
    if prescription.clinic_id != clinic_id or prescription.pharmacy_id is not None:
        raise NotFound(NOT_FOUND, field="prescription_id")
    opened = await _prescription_record(session, prescription)
    if not opened.to_retail_pharmacy:
        raise NotFound(NOT_FOUND, field="prescription_id")
    return prescription, opened


async def open_retail_prescription(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    prescription_id: uuid.UUID,
    actor: Actor,
    to_print: bool = False,
    clock: Clock = system_clock,
) -> PrescriptionRecord:
    """One of the clinic's retail prescriptions, to show in the console or ``to_print``; each opening
    and each print is written to the audit log."""
    prescription, opened = await _clinics_retail_prescription(
        session, clinic_id=clinic_id, prescription_id=prescription_id
    )
    action = "prescription.printed" if to_print else "prescription.viewed"
    await _audit(session, prescription, actor, action, clock)
    return opened


async def mark_transmitted(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    prescription_id: uuid.UUID,
    actor: Actor,
    links: LinkSigner,
    clock: Clock = system_clock,
) -> Prescription:
    """Clinic staff sent the prescription to the retail pharmacy: the pharmacy's confirmation (event 2),
    made by ``actor`` (see the module docstring)."""
    prescription, _ = await _clinics_retail_prescription(
        session, clinic_id=clinic_id, prescription_id=prescription_id
    )
    record = await load(session, patient_exam_id=prescription.patient_exam_id, clinic_id=clinic_id)
    confirmed = await prescriptions.confirm(
        session, record, pharmacy_id=None, by=actor, links=links, clock=clock
    )
    await _audit(session, prescription, actor, "prescription.transmitted", clock)
    return confirmed


# --- shared steps and queries -----------------------------------------------------------------------


async def _prescription_record(session: AsyncSession, prescription: Prescription) -> PrescriptionRecord:
    record = await repository.load_exam(session, patient_exam_id=prescription.patient_exam_id)
    if record is None:
        raise NotFound(NOT_FOUND, field="prescription_id")
    licence = await repository.provider_license(
        session, provider_id=prescription.provider_id, state=record.patient_exam.tele_state
    )
    return PrescriptionRecord(
        prescription=prescription,
        record=record,
        items=await repository.prescription_items(session, prescription_id=prescription.id),
        shipments=await repository.shipments_of(session, prescription_id=prescription.id),
        prescriber_licence=licence,
    )


async def _audit(
    session: AsyncSession,
    prescription: Prescription,
    actor: Actor,
    action: str,
    clock: Clock,
    *,
    details: dict[str, Any] | None = None,
) -> None:
    """Who acted on which prescription, and when; never a patient field."""
    await audit_service.record(
        session,
        clinic_id=prescription.clinic_id,
        actor=actor,
        action=action,
        target_type="prescription",
        target_id=prescription.id,
        details={"patient_exam_id": prescription.patient_exam_id, **(details or {})},
        clock=clock,
    )


async def _live_prescription(session: AsyncSession, prescription_id: uuid.UUID) -> Prescription:
    """The prescription of a live exam (a test exam's answers as missing)."""
    prescription = await repository.live_prescription(session, prescription_id)
    if prescription is None:
        raise NotFound(NOT_FOUND, field="prescription_id")
    return prescription


async def _entries(
    session: AsyncSession,
    status: PrescriptionStatus,
    *,
    pharmacy_id: int | None = None,
    retail_of_clinic: uuid.UUID | None = None,
    since: datetime | None = None,
) -> list[PrescriptionEntry]:
    rows = await repository.listed_prescriptions(
        session,
        status,
        limit=LIST_LIMIT,
        pharmacy_id=pharmacy_id,
        retail_of_clinic=retail_of_clinic,
        since=since,
    )
    titles = await repository.exam_titles(session, {exam.exam_id for _, exam in rows})
    return [
        PrescriptionEntry(prescription, exam, titles.get(exam.exam_id, "")) for prescription, exam in rows
    ]
