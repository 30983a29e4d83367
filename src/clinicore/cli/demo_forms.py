"""The demo partner's master forms and the demo clinic's copy of the questionnaire.

Two master forms: a questionnaire with every question kind and a HIPAA consent document attached, and a
treatment note. Seeding again changes nothing: the master forms are found by name, the clinic's copy by
its source.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import CLI, Actor
from clinicore.core.forms import service as form_service
from clinicore.core.forms.schemas import (
    ConsentDocumentDefinition,
    FormDefinition,
    FormOwner,
    QuestionDefinition,
    SectionDefinition,
)
from clinicore.core.models import FormKind, FormQuestionKind, FormTemplate
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.clock import Clock, system_clock

HIPAA_CONSENT = """
<h2>Notice of privacy practices and consent (HIPAA)</h2>
<p>This notice describes how medical information about you may be used and disclosed and how you can
get access to this information. Please review it carefully.</p>
<ul>
  <li>We use your health information to treat you, to be paid for our services and to run the practice.</li>
  <li>You may ask for a copy of your records and ask us to correct them.</li>
  <li>You may ask us to limit what we share, and to be told of any breach of your information.</li>
</ul>
<p>By signing, you acknowledge that you received this notice and consent to the uses described.</p>
"""

QUESTIONNAIRE = FormDefinition(
    name="New client intake",
    kind=FormKind.questionnaire,
    sections=[
        SectionDefinition(
            title="About you",
            questions=[
                QuestionDefinition(kind=FormQuestionKind.text, text="Preferred name", required=True),
                QuestionDefinition(kind=FormQuestionKind.date, text="Date of birth", required=True),
                QuestionDefinition(kind=FormQuestionKind.number, text="Height (inches)"),
                QuestionDefinition(
                    kind=FormQuestionKind.single_choice,
                    text="How did you hear about us?",
                    choices=["A friend", "A search engine", "My doctor", "Other"],
                ),
            ],
        ),
        SectionDefinition(
            title="Health history",
            description="Tell us about your health so that we can prepare for your visit.",
            questions=[
                QuestionDefinition(
                    kind=FormQuestionKind.long_text,
                    text="What brings you in today?",
                    required=True,
                    help_text="A few sentences are enough.",
                ),
                QuestionDefinition(
                    kind=FormQuestionKind.multiple_choice,
                    text="Do you have any of these conditions?",
                    choices=["Diabetes", "High blood pressure", "Asthma", "None of these"],
                ),
                QuestionDefinition(
                    kind=FormQuestionKind.matrix,
                    text="Over the last two weeks, how often have you been bothered by:",
                    matrix_rows=["Little interest in doing things", "Feeling down", "Trouble sleeping"],
                    matrix_columns=[
                        "Not at all",
                        "Several days",
                        "More than half the days",
                        "Nearly every day",
                    ],
                ),
                QuestionDefinition(
                    kind=FormQuestionKind.file_upload,
                    text="A photo of your insurance card",
                    help_text="JPEG, PNG or PDF.",
                ),
            ],
        ),
        SectionDefinition(
            title="Signature",
            questions=[
                QuestionDefinition(
                    kind=FormQuestionKind.signature,
                    text="I confirm that the answers above are true",
                    required=True,
                )
            ],
        ),
    ],
    consent_documents=[ConsentDocumentDefinition(name="HIPAA Release Form", html=HIPAA_CONSENT)],
)

TREATMENT_NOTE = FormDefinition(
    name="Treatment note",
    kind=FormKind.treatment_note,
    sections=[
        SectionDefinition(
            title="Visit",
            questions=[
                QuestionDefinition(kind=FormQuestionKind.long_text, text="Subjective", required=True),
                QuestionDefinition(kind=FormQuestionKind.long_text, text="Objective"),
                QuestionDefinition(kind=FormQuestionKind.long_text, text="Assessment", required=True),
                QuestionDefinition(kind=FormQuestionKind.long_text, text="Plan", required=True),
                QuestionDefinition(kind=FormQuestionKind.signature, text="Practitioner signature"),
            ],
        )
    ],
)


@dataclass(frozen=True, slots=True)
class DemoForms:
    questionnaire: FormTemplate
    treatment_note: FormTemplate
    clinic_questionnaire: FormTemplate


async def _master_form(
    session: AsyncSession, *, partner_id: uuid.UUID, definition: FormDefinition, actor: Actor, clock: Clock
) -> FormTemplate:
    owner = FormOwner.partner(partner_id)
    existing = await form_service.find_form_named(session, owner=owner, name=definition.name)
    if existing is not None:
        return existing
    created = await form_service.create_form(
        session, owner=owner, definition=definition, actor=actor, clock=clock
    )
    return created.form


async def seed_demo_forms(
    session: AsyncSession,
    partner_id: uuid.UUID,
    clinic_id: uuid.UUID,
    *,
    actor: Actor = CLI,
    clock: Clock = system_clock,
) -> DemoForms:
    """The partner's two master forms and, in the clinic (one of its practices), a copy of the
    questionnaire with its consent document; what exists already is kept as it is."""
    questionnaire = await _master_form(
        session, partner_id=partner_id, definition=QUESTIONNAIRE, actor=actor, clock=clock
    )
    treatment_note = await _master_form(
        session, partner_id=partner_id, definition=TREATMENT_NOTE, actor=actor, clock=clock
    )
    copy = await form_service.find_copy(session, clinic_id=clinic_id, source_form_id=questionnaire.id)
    if copy is None:
        clinic = await tenancy_service.get_clinic(session, clinic_id)
        copy = await form_service.copy_master_form(
            session,
            partner_id=partner_id,
            source_form_id=str(questionnaire.id),
            destination_practice=clinic.practice_id,
            copy_consent_documents=True,
            actor=actor,
            clock=clock,
        )
    return DemoForms(questionnaire=questionnaire, treatment_note=treatment_note, clinic_questionnaire=copy)
