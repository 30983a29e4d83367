"""Event payloads of the patient-exam lifecycle: a full snapshot of the exam taken when the event is
emitted, so that every webhook format renders from the event alone (a pure function), and a replay
days later sends what was true then.

The snapshot holds our words (statuses, outcomes, drug fields); each surface maps them to its wire.
``document.url`` is the consultation PDF's signed link, valid 24 hours after the event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Prescription, PrescriptionItem, Shipment
from clinicore.core.telehealth import repository
from clinicore.core.telehealth.repository import AnswerRow, ExamRecord
from clinicore.kit.links import LinkSigner

DOCUMENT_LINK_LIFETIME = timedelta(hours=24)


def consultation_document_path(patient_exam_id: int) -> str:
    return f"/documents/consultations/{patient_exam_id}.pdf"


def consultation_document_url(links: LinkSigner, *, patient_exam_id: int, now: datetime) -> str:
    return links.sign(consultation_document_path(patient_exam_id), expires_at=now + DOCUMENT_LINK_LIFETIME)


def answer_texts(row: AnswerRow) -> list[str]:
    """Each selected option (``Other: <the patient's words>`` for an option with a free-text box)."""
    texts = []
    for answer in row.answers:
        if answer.answer_text and answer.answer_text != answer.answer:
            texts.append(f"{answer.answer}: {answer.answer_text}")
        else:
            texts.append(answer.answer)
    return texts


def _item(item: PrescriptionItem) -> dict[str, Any]:
    return {
        "drug_name": item.drug_name,
        "strength": item.strength,
        "form": item.form,
        "ndc": item.ndc,
        "quantity": item.quantity,
        "quantity_units": item.quantity_units,
        "refills": item.refills,
        "days_supply": item.days_supply,
        "directions": item.directions,
        "schedule_code": item.schedule_code,
    }


def _prescription(prescription: Prescription, items: list[PrescriptionItem]) -> dict[str, Any]:
    return {
        "id": prescription.id,
        "status": prescription.status,
        "pharmacy_id": prescription.pharmacy_id,
        "order_set_id": prescription.order_set_id,
        "pharmacy_name": prescription.pharmacy_name,
        "pharmacy_ncpdpid": prescription.pharmacy_ncpdpid,
        "pharmacy_address": prescription.pharmacy_address,
        "pharmacy_phone": prescription.pharmacy_phone,
        "written_at": prescription.written_at,
        "confirmed_at": prescription.confirmed_at,
        "shipped_at": prescription.shipped_at,
        "items": [_item(item) for item in items],
    }


def _shipment(shipment: Shipment) -> dict[str, Any]:
    return {
        "tracking_number": shipment.tracking_number,
        "delivery_service": shipment.delivery_service,
        "carrier": shipment.carrier,
        "shipped_at": shipment.shipped_at,
    }


async def exam_snapshot(
    session: AsyncSession, record: ExamRecord, *, links: LinkSigner, now: datetime
) -> dict[str, Any]:
    patient_exam, meeting, exam, clinic, provider = (
        record.patient_exam,
        record.meeting,
        record.exam,
        record.clinic,
        record.provider,
    )
    answers = await repository.answers_by_question(session, patient_exam=patient_exam)
    prescription = await repository.prescription_of(session, patient_exam_id=patient_exam.id)
    items: list[PrescriptionItem] = []
    shipments: list[Shipment] = []
    if prescription is not None:
        items = list(await repository.prescription_items(session, prescription_id=prescription.id))
        shipments = list(await repository.shipments_of(session, prescription_id=prescription.id))
    return {
        "patient_exam": {
            "id": patient_exam.id,
            "exam_id": exam.id,
            "exam_title": exam.title,
            "rx_type": exam.rx_type,
            "status": patient_exam.status,
            "outcome": patient_exam.outcome,
            "reason": patient_exam.reason,
            "decided_at": patient_exam.decided_at,
            "is_test": patient_exam.is_test,
            "version": patient_exam.version,
        },
        "meeting": {"id": meeting.id, "additional_data": meeting.additional_data},
        "clinic": {
            "id": clinic.id,
            "number": clinic.number,
            "name": clinic.name,
            "brand_name": clinic.brand_name,
        },
        # The patient as the invite named them, never a later invite's details for the same client.
        "patient": {
            "first_name": meeting.patient_first_name,
            "last_name": meeting.patient_last_name,
            "email": meeting.patient_email,
            "phone": meeting.patient_phone,
        },
        "provider": (
            {"id": provider.id, "name": provider.name, "credentials": provider.credentials}
            if provider is not None
            else None
        ),
        "questions_answers": [
            {"no": row.no, "question": row.question, "type": row.question_type, "answers": answer_texts(row)}
            for row in answers
        ],
        "document": {
            "url": consultation_document_url(links, patient_exam_id=patient_exam.id, now=now),
            "expires_at": now + DOCUMENT_LINK_LIFETIME,
        },
        "prescription": _prescription(prescription, items) if prescription is not None else None,
        "shipments": [_shipment(shipment) for shipment in shipments],
    }
