"""The printable prescription: what the clinic's staff send to a retail pharmacy, which is not on our
desk (pharmacy_desk.py). Rendered with the consultation record's PDF machinery (documents.py): the
clinic's brand, the patient, the prescriber with the licence of the exam's state, the pharmacy, the
delivery, every item, and the date written in the clinic's time zone.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.models import PrescriptionItem
from clinicore.core.telehealth import pharmacy_desk
from clinicore.core.telehealth.documents import BrandedPdf, brand_rgb, latin1, local_time_text
from clinicore.core.telehealth.pharmacy_desk import PrescriptionRecord
from clinicore.core.telehealth.routing import DeliveryMethod
from clinicore.kit.clock import Clock, system_clock


def item_lines(item: PrescriptionItem) -> list[str]:
    """One item as a prescription spells it: the drug, then the amount and refills, then the directions."""
    drug = " ".join(part for part in (item.drug_name, item.strength, item.form) if part)
    amount = " ".join(part for part in (item.quantity, item.quantity_units) if part) or "quantity not given"
    supply = f", {item.days_supply}-day supply" if item.days_supply else ""
    codes = ", ".join(
        part
        for part in (
            f"NDC {item.ndc}" if item.ndc else None,
            f"schedule {item.schedule_code}" if item.schedule_code else None,
        )
        if part
    )
    return [
        drug + (f" ({codes})" if codes else ""),
        f"Dispense {amount}, {item.refills} refill(s){supply}",
        f"Sig: {item.directions or 'not given'}",
    ]


def render_prescription_pdf(opened: PrescriptionRecord, *, compress: bool = True) -> bytes:
    """The PDF's bytes (``compress=False`` keeps content streams readable, for tests)."""
    record, prescription = opened.record, opened.prescription
    meeting, clinic = record.meeting, record.clinic
    color = brand_rgb(clinic.brand_color)
    clinic_name = clinic.brand_name or clinic.name
    pdf = BrandedPdf(format="Letter")
    pdf.set_compression(compress)
    pdf.set_title(latin1(f"Prescription - patient exam {record.patient_exam.id}"))
    pdf.set_author(latin1(clinic_name))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_fill_color(*color)
    pdf.rect(0, 0, pdf.w, 6, style="F")
    pdf.ln(4)
    pdf.set_text_color(*color)
    pdf.line_of(clinic_name, size=20, style="B", height=10)
    pdf.set_text_color(90, 90, 90)
    pdf.line_of(f"Prescription - patient exam {record.patient_exam.id} - {record.exam.title}", size=10)
    pdf.set_text_color(0, 0, 0)
    pdf.field("Written", local_time_text(prescription.written_at, clinic.time_zone))

    pdf.heading("Patient", color)
    pdf.field("Name", f"{meeting.patient_first_name} {meeting.patient_last_name}")
    pdf.field(
        "Date of birth",
        meeting.patient_date_of_birth.isoformat() if meeting.patient_date_of_birth else "Not given",
    )
    pdf.field("Phone", meeting.patient_phone or "Not given")
    if meeting.delivery_method == DeliveryMethod.ship:
        address = ", ".join(
            part
            for part in (
                meeting.shipping_address_line_1,
                meeting.shipping_address_line_2,
                meeting.shipping_city,
                meeting.shipping_state,
                meeting.shipping_zip_code,
            )
            if part
        )
        pdf.field("Deliver to", address or "Not given")
    else:
        pdf.field("Delivery", "Pickup at the pharmacy")

    pdf.heading("Prescriber", color)
    provider = record.provider
    if provider is not None:
        pdf.field(
            "Name", f"{provider.name}, {provider.credentials}" if provider.credentials else provider.name
        )
        if provider.npi:
            pdf.field("NPI", provider.npi)
    licence = opened.prescriber_licence
    pdf.field(
        "Licence",
        f"{licence.state} {licence.license_number or ''}".strip() if licence else "Not recorded",
    )

    pdf.heading("Pharmacy", color)
    pdf.field("Name", prescription.pharmacy_name)
    pdf.field("NCPDP", prescription.pharmacy_ncpdpid or "Not given")
    pdf.field("Address", prescription.pharmacy_address or "Not given")
    pdf.field("Phone", prescription.pharmacy_phone or "Not given")

    pdf.heading("Rx", color)
    for number, item in enumerate(opened.items, start=1):
        first, *rest = item_lines(item)
        pdf.line_of(f"{number}. {first}", style="B")
        for line in rest:
            pdf.set_x(pdf.l_margin + 6)
            pdf.line_of(line)
        pdf.ln(1)
    pdf.ln(6)
    signer = provider.name if provider is not None else "the prescriber"
    pdf.line_of(f"Electronically signed by {signer} through {clinic_name}.", size=9)
    return bytes(pdf.output())


async def retail_prescription_pdf(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    prescription_id: uuid.UUID,
    actor: Actor,
    clock: Clock = system_clock,
) -> bytes:
    """The printable prescription of one of the clinic's retail prescriptions (each print audited)."""
    opened = await pharmacy_desk.open_retail_prescription(
        session, clinic_id=clinic_id, prescription_id=prescription_id, actor=actor, to_print=True, clock=clock
    )
    return render_prescription_pdf(opened)
