"""A filled intake as a PDF (fpdf2), for the API's ``/intakes/{id}/pdf`` and the console.

It shows the clinic's brand (name, colour), the client, the form, when it was made and submitted (in the
clinic's time zone), each section with each question and its answer, uploaded files by name, signatures
drawn as images, and each consent document with who signed it and when. Core fonts only, as the
consultation record (``telehealth/documents.py``): text outside Latin-1 is transliterated, never an error.
A signature whose image cannot be drawn is named instead, so a damaged file never breaks the document.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.forms import intakes
from clinicore.core.forms.intake_schemas import AskedQuestion, IntakeFileView, IntakeForm
from clinicore.core.models import Clinic, FormQuestionKind
from clinicore.core.telehealth.documents import BrandedPdf, brand_rgb, latin1, local_time_text
from clinicore.core.tenancy.brand import brand_for_clinic
from clinicore.kit.errors import NotFound
from clinicore.kit.storage import FileStorage

NOT_ANSWERED = "(not answered)"
SIGNATURE_WIDTH_MM = 60


@dataclass(frozen=True, slots=True)
class IntakeDocument:
    clinic_name: str
    brand_color: str | None
    time_zone: str
    client_name: str
    client_number: int
    practitioner_name: str | None
    form: IntakeForm
    created_at: datetime
    signatures: Mapping[str, bytes]  # file id -> PNG bytes


def answer_text(question: AskedQuestion, value: object, files: Mapping[str, IntakeFileView]) -> str:
    """An answer in words, as the document prints it."""
    if value is None or value in ("", [], {}):
        return NOT_ANSWERED
    if question.kind == FormQuestionKind.multiple_choice and isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if question.kind == FormQuestionKind.matrix and isinstance(value, dict):
        return "; ".join(f"{row}: {column}" for row, column in value.items())
    if question.kind in intakes.FILE_KINDS:
        file = files.get(str(value))
        return f"File: {file.name} ({file.size} bytes)" if file else NOT_ANSWERED
    return str(value)


def render_intake_pdf(document: IntakeDocument, *, compress: bool = True) -> bytes:
    """The PDF's bytes (``compress=False`` keeps content streams readable, for tests)."""
    form = document.form
    color = brand_rgb(document.brand_color)
    files = {str(file.id): file for file in form.files}
    pdf = BrandedPdf(format="Letter")
    pdf.set_compression(compress)
    pdf.set_title(latin1(form.form_name))
    pdf.set_author(latin1(document.clinic_name))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_fill_color(*color)
    pdf.rect(0, 0, pdf.w, 6, style="F")
    pdf.ln(4)
    pdf.set_text_color(*color)
    pdf.line_of(document.clinic_name, size=20, style="B", height=10)
    pdf.set_text_color(90, 90, 90)
    pdf.line_of(f"{form.form_name} - intake {form.intake_id}", size=10)
    pdf.set_text_color(0, 0, 0)

    pdf.heading("Client", color)
    pdf.field("Name", document.client_name or "-")
    pdf.field("Client number", str(document.client_number))
    pdf.field("Practitioner", document.practitioner_name or "-")
    pdf.field("Created", local_time_text(document.created_at, document.time_zone))
    submitted = form.submitted_at
    pdf.field("Submitted", local_time_text(submitted, document.time_zone) if submitted else "Not submitted")

    for number, section in enumerate(form.sections, start=1):
        pdf.heading(section.title or f"Section {number}", color)
        if section.description:
            pdf.line_of(section.description, size=10)
        for question in section.questions:
            pdf.line_of(question.text, style="B")
            value = form.answers.get(question.id)
            image = (
                document.signatures.get(str(value)) if question.kind == FormQuestionKind.signature else None
            )
            pdf.set_x(pdf.l_margin + 6)
            if image is not None and _draw_image(pdf, image):
                pdf.ln(2)
                continue
            pdf.line_of(answer_text(question, value, files))
            pdf.ln(1)

    if form.consent_documents:
        pdf.heading("Consent documents", color)
        for consent in form.consent_documents:
            signed = form.consents.get(consent.id)
            if signed:
                moment = datetime.fromisoformat(signed["signed_at"])
                words = f"Signed by {signed['signer_name']} on {local_time_text(moment, document.time_zone)}"
            else:
                words = "Not signed"
            pdf.line_of(consent.name, style="B")
            pdf.line_of(words)
            pdf.ln(1)
    return bytes(pdf.output())


def _draw_image(pdf: BrandedPdf, data: bytes) -> bool:
    try:
        pdf.image(io.BytesIO(data), x=pdf.l_margin + 6, w=SIGNATURE_WIDTH_MM)
    except Exception:  # a damaged image is named instead of drawn
        return False
    return True


async def render_pdf(
    session: AsyncSession,
    storage: FileStorage,
    *,
    clinic_id: uuid.UUID,
    intake_id: uuid.UUID | str,
    practitioner_scope: Collection[uuid.UUID] | None = None,
) -> bytes:
    """The PDF of one of the clinic's intakes; another clinic's, or one outside ``practitioner_scope``,
    is missing."""
    view = await intakes.intake_summary(
        session, clinic_id=clinic_id, intake_id=intake_id, practitioner_scope=practitioner_scope
    )
    clinic = await session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound("intake not found")
    brand = await brand_for_clinic(session, clinic_id)
    form = await intakes.get_for_filling(session, intake_id=view.intake.id)
    signatures: dict[str, bytes] = {}
    signature_ids = {q.id for s in form.sections for q in s.questions if q.kind == FormQuestionKind.signature}
    for file in form.files:
        if file.question_id in signature_ids and form.answers.get(file.question_id) == str(file.id):
            try:
                signatures[str(file.id)] = (
                    await intakes.read_file(session, storage, intake_id=view.intake.id, file_id=file.id)
                )[1]
            except NotFound:
                continue  # the bytes are gone: the document names the file instead
    practitioner = view.practitioner
    return render_intake_pdf(
        IntakeDocument(
            clinic_name=brand.clinic_name,
            brand_color=brand.color,
            time_zone=clinic.time_zone,
            client_name=intakes.client_display_name(view.client),
            client_number=view.client.number,
            practitioner_name=practitioner.name if practitioner else None,
            form=form,
            created_at=view.intake.created_at,
            signatures=signatures,
        )
    )
