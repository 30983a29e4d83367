"""A small exam catalog for telehealth tests, made through the core catalog service."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from clinicore.core.models import Clinic, Exam, QuestionType, RxType
from clinicore.core.telehealth import catalog
from clinicore.core.telehealth.catalog import ExamSpec, OptionSpec, QuestionSpec
from clinicore.runtime import Runtime

YES_NO = (OptionSpec("Yes"), OptionSpec("No"))
SCREENING = (
    QuestionSpec("Are you currently pregnant or breastfeeding?", QuestionType.single, YES_NO),
    QuestionSpec(
        "Which of these conditions do you have?",
        QuestionType.multiple,
        (OptionSpec("Diabetes"), OptionSpec("Hypertension"), OptionSpec("Other", has_free_text=True)),
    ),
    QuestionSpec("List any medications you take.", QuestionType.text),
)


@dataclass
class Catalog:
    botox: Exam  # GFE, price 27.99
    filler: Exam  # GFE, no price
    glp1: Exam  # Rx
    hair: Exam  # Rx, attachments required: "Picture of hair loss area"
    uti: Exam  # Rx, "Urgent Care - UTI"

    @property
    def all(self) -> list[Exam]:
        return [self.botox, self.filler, self.glp1, self.hair, self.uti]


async def create_catalog(runtime: Runtime, clinic: Clinic) -> Catalog:
    specs = {
        "botox": ExamSpec("GFE - Botox", RxType.gfe, price=Decimal("27.99"), questions=SCREENING),
        "filler": ExamSpec("GFE - Dermal Filler", RxType.gfe, questions=SCREENING[:1]),
        "glp1": ExamSpec("GLP-1 Weight Loss", RxType.rx, price=Decimal("49.00"), questions=SCREENING),
        "hair": ExamSpec(
            "Hair Loss Treatment",
            RxType.rx,
            attachments_required=True,
            attachments=("Picture of hair loss area",),
            questions=SCREENING[:2],
        ),
        "uti": ExamSpec("Urgent Care - UTI", RxType.rx, questions=SCREENING[:1]),
    }
    async with runtime.sessions() as session, session.begin():
        exams = {
            name: await catalog.create_exam(session, clinic_id=clinic.id, spec=spec, clock=runtime.clock)
            for name, spec in specs.items()
        }
    return Catalog(**exams)
