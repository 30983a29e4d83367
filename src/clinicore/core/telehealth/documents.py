"""The consultation record: a PDF we render with fpdf2 (the ``exam_url`` of Qualiphy's event 1).

It shows the clinic's brand, the patient (name, date of birth), the exam, the questions and answers,
the attachments (labels and file names), the provider, the decision, its reason and its time in the
clinic's time zone. Only fpdf2's core fonts are used (nothing to ship); they cover Latin-1, so other
text is transliterated (typographic punctuation, accents) or replaced by ``?``, never an error.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.telehealth import repository
from clinicore.core.telehealth.snapshots import answer_texts
from clinicore.kit.errors import NotFound

FONT = "Helvetica"
DEFAULT_BRAND_COLOR = (31, 78, 121)
_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u2022": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u200b": "",
    }
)


def latin1(text: str) -> str:
    """``text`` in what the core fonts can draw."""
    out = []
    for char in text.translate(_PUNCTUATION):
        if ord(char) < 256:
            out.append(char)
            continue
        decomposed = "".join(
            part
            for part in unicodedata.normalize("NFKD", char)
            if ord(part) < 256 and not unicodedata.combining(part)
        )
        out.append(decomposed or "?")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class AnsweredQuestion:
    no: int
    question: str
    answers: Sequence[str]


@dataclass(frozen=True, slots=True)
class ConsultationDocument:
    clinic_name: str
    brand_color: str | None
    patient_name: str
    date_of_birth: date | None
    exam_title: str
    questions: Sequence[AnsweredQuestion]
    attachments: Sequence[tuple[str, str | None]]  # (label, file name)
    provider_name: str | None
    outcome: str | None
    reason: str | None
    decided_at: datetime | None
    time_zone: str
    patient_exam_id: int


def brand_rgb(color: str | None) -> tuple[int, int, int]:
    if color and len(color) == 7 and color.startswith("#"):
        try:
            return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)
        except ValueError:
            return DEFAULT_BRAND_COLOR
    return DEFAULT_BRAND_COLOR


def local_time_text(moment: datetime, time_zone: str) -> str:
    try:
        zone = ZoneInfo(time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return f"{local:%B} {local.day}, {local:%Y} {local:%I:%M %p} {local.tzname()} ({time_zone})"


class BrandedPdf(FPDF):
    def line_of(self, text: str, *, size: float = 11, style: str = "", height: float = 6) -> None:
        self.set_font(FONT, style, size)
        self.multi_cell(0, height, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def field(self, label: str, value: str) -> None:
        self.set_font(FONT, "B", 11)
        self.cell(45, 7, latin1(label), new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.set_font(FONT, "", 11)
        self.multi_cell(0, 7, latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str, color: tuple[int, int, int]) -> None:
        self.ln(4)
        self.set_text_color(*color)
        self.line_of(text, size=13, style="B", height=8)
        self.set_text_color(0, 0, 0)


def render_consultation_pdf(document: ConsultationDocument, *, compress: bool = True) -> bytes:
    """The PDF's bytes (``compress=False`` keeps content streams readable, for tests)."""
    color = brand_rgb(document.brand_color)
    pdf = BrandedPdf(format="Letter")
    pdf.set_compression(compress)
    pdf.set_title(latin1(f"Consultation record - {document.exam_title}"))
    pdf.set_author(latin1(document.clinic_name))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_fill_color(*color)
    pdf.rect(0, 0, pdf.w, 6, style="F")
    pdf.ln(4)
    pdf.set_text_color(*color)
    pdf.line_of(document.clinic_name, size=20, style="B", height=10)
    pdf.set_text_color(90, 90, 90)
    pdf.line_of(f"Consultation record - patient exam {document.patient_exam_id}", size=10)
    pdf.set_text_color(0, 0, 0)

    pdf.heading("Patient", color)
    pdf.field("Name", document.patient_name)
    pdf.field("Date of birth", document.date_of_birth.isoformat() if document.date_of_birth else "Not given")

    pdf.heading("Exam", color)
    pdf.field("Exam", document.exam_title)
    pdf.field("Provider", document.provider_name or "No provider")
    pdf.field("Decision", document.outcome or "Not decided")
    pdf.field("Reason", document.reason or "-")
    pdf.field(
        "Decided at",
        local_time_text(document.decided_at, document.time_zone) if document.decided_at else "-",
    )

    pdf.heading("Questions and answers", color)
    if not document.questions:
        pdf.line_of("This exam has no screening questions.")
    for question in document.questions:
        pdf.line_of(f"{question.no}. {question.question}", style="B")
        answer = "; ".join(question.answers) if question.answers else "(not answered)"
        pdf.set_x(pdf.l_margin + 6)
        pdf.line_of(answer)
        pdf.ln(1)

    pdf.heading("Attachments", color)
    if not document.attachments:
        pdf.line_of("No attachments.")
    for label, file_name in document.attachments:
        pdf.line_of(f"- {label}: {file_name or 'unnamed file'}")
    return bytes(pdf.output())


async def consultation_document(session: AsyncSession, *, patient_exam_id: int) -> ConsultationDocument:
    """What the PDF shows. Not scoped to a clinic: the caller holds a signed link naming this exam."""
    record = await repository.load_exam(session, patient_exam_id=patient_exam_id)
    if record is None:
        raise NotFound("consultation record not found")
    answers = await repository.answers_by_question(session, patient_exam=record.patient_exam)
    attachments = await repository.attachments_of(session, patient_exam_id=patient_exam_id)
    provider = record.provider
    provider_name = None
    if provider is not None:
        provider_name = f"{provider.name}, {provider.credentials}" if provider.credentials else provider.name
    return ConsultationDocument(
        clinic_name=record.clinic.brand_name or record.clinic.name,
        brand_color=record.clinic.brand_color,
        patient_name=f"{record.meeting.patient_first_name} {record.meeting.patient_last_name}",
        date_of_birth=record.meeting.patient_date_of_birth,
        exam_title=record.exam.title,
        questions=[AnsweredQuestion(row.no, row.question, answer_texts(row)) for row in answers],
        attachments=[(attachment.label, stored.original_name) for attachment, stored in attachments],
        provider_name=provider_name,
        outcome=record.patient_exam.outcome,
        reason=record.patient_exam.reason,
        decided_at=record.patient_exam.decided_at,
        time_zone=record.clinic.time_zone,
        patient_exam_id=patient_exam_id,
    )


async def consultation_pdf(session: AsyncSession, *, patient_exam_id: int) -> bytes:
    return render_consultation_pdf(await consultation_document(session, patient_exam_id=patient_exam_id))
