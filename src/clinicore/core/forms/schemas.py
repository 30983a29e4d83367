"""Typed inputs and results of the form use cases, in the core's words."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from clinicore.core.models import FormConsentDocument, FormQuestion, FormSection, FormTemplate
from clinicore.kit.inputs import NOT_GIVEN, Given


@dataclass(frozen=True, slots=True)
class FormOwner:
    """Whose templates: a partner's (master forms) or a clinic's (practice forms), never both."""

    partner_id: uuid.UUID | None = None
    clinic_id: uuid.UUID | None = None

    @classmethod
    def partner(cls, partner_id: uuid.UUID) -> FormOwner:
        return cls(partner_id=partner_id)

    @classmethod
    def clinic(cls, clinic_id: uuid.UUID) -> FormOwner:
        return cls(clinic_id=clinic_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionDefinition:
    """``kind`` is a ``FormQuestionKind``; ``choices`` only for the choice kinds, ``matrix_rows`` and
    ``matrix_columns`` only for a matrix."""

    kind: str
    text: str
    required: bool = False
    help_text: str | None = None
    choices: Sequence[str] = ()
    matrix_rows: Sequence[str] = ()
    matrix_columns: Sequence[str] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionDefinition:
    title: str | None = None
    description: str | None = None
    questions: Sequence[QuestionDefinition] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentDocumentDefinition:
    """A consent document's HTML; it is sanitised before it is stored."""

    name: str
    html: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FormDefinition:
    """``kind`` is a ``FormKind``."""

    name: str
    kind: str
    sections: Sequence[SectionDefinition] = ()
    consent_documents: Sequence[ConsentDocumentDefinition] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FormChanges:
    """Only what is given changes; ``sections`` and ``consent_documents`` given replace the old ones."""

    name: Given[str] = NOT_GIVEN
    kind: Given[str] = NOT_GIVEN
    sections: Given[Sequence[SectionDefinition]] = NOT_GIVEN
    consent_documents: Given[Sequence[ConsentDocumentDefinition]] = NOT_GIVEN


@dataclass(frozen=True, slots=True)
class SectionContents:
    section: FormSection
    questions: Sequence[FormQuestion]


@dataclass(frozen=True, slots=True)
class FormContents:
    """A template with everything in it, in order."""

    form: FormTemplate
    sections: Sequence[SectionContents]
    consent_documents: Sequence[FormConsentDocument]
